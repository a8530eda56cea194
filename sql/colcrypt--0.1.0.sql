-- colcrypt 0.1.0: transparent column encryption.
\echo Use "CREATE EXTENSION colcrypt" to load this file. \quit

-- Every role may use the types; what each may do is decided per object below.
GRANT USAGE ON SCHEMA colcrypt TO PUBLIC;

-- Key operations (create, rotate, retire, rotate the master key, grant and
-- revoke decryption) are for the extension's owner and members of
-- colcrypt_admin.  Roles are cluster-wide: the role is created by the first
-- CREATE EXTENSION in the cluster and stays when the extension is dropped.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'colcrypt_admin') THEN
        CREATE ROLE colcrypt_admin NOLOGIN;
    END IF;
END
$$;

-------------------------------------------------------------------------------
-- Keys.  Both tables hold only keys wrapped by the master key, and both are
-- configuration tables, so pg_dump includes their rows.  Ordinary roles cannot
-- read them; colcrypt reads them internally as their owner.
-------------------------------------------------------------------------------

CREATE TABLE colcrypt.keyrings (
    keyring_id      integer PRIMARY KEY CHECK (keyring_id > 0),
    name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    type_modifier   integer NOT NULL UNIQUE CHECK (type_modifier >= 0),
    index_term_bits integer NOT NULL CHECK (index_term_bits BETWEEN 0 AND 256 AND index_term_bits % 8 = 0),
    -- Blind-index terms and comparisons ignore ASCII case (e-mail addresses).
    case_insensitive boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL
);
COMMENT ON TABLE colcrypt.keyrings IS
    'colcrypt keyrings; type_modifier is what a column type such as encrypted_text(''pii'') stores';

CREATE TABLE colcrypt.key_versions (
    keyring_id             integer NOT NULL REFERENCES colcrypt.keyrings,
    purpose                text NOT NULL CHECK (purpose IN ('data', 'index')),
    version                integer NOT NULL CHECK (version > 0),
    state                  text NOT NULL CHECK (state IN ('active', 'decrypt_only', 'retired')),
    wrapped_key            bytea CHECK ((state = 'retired') = (wrapped_key IS NULL)),
    master_key_fingerprint text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (keyring_id, purpose, version)
);
CREATE UNIQUE INDEX key_versions_one_active ON colcrypt.key_versions (keyring_id, purpose)
    WHERE state = 'active';
COMMENT ON TABLE colcrypt.key_versions IS
    'colcrypt data and blind-index keys, each wrapped by the master key named by its fingerprint';

SELECT pg_catalog.pg_extension_config_dump('colcrypt.keyrings', '');
SELECT pg_catalog.pg_extension_config_dump('colcrypt.key_versions', '');
REVOKE ALL ON colcrypt.keyrings, colcrypt.key_versions FROM PUBLIC;

CREATE FUNCTION colcrypt.create_key(keyring text, case_insensitive boolean DEFAULT false) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_create_key' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.create_key(text, boolean) IS
    'create a keyring with version 1 of its data key and blind-index key; returns the version';
REVOKE ALL ON FUNCTION colcrypt.create_key(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.create_key(text, boolean) TO colcrypt_admin;

-------------------------------------------------------------------------------
-- Key lifecycle: rotation, retirement, master key rotation, who may decrypt,
-- the audit trail and the nonce budget.
-------------------------------------------------------------------------------

-- Who may decrypt each keyring: a role with a grant here, or any role that
-- has that role's privileges (membership).  Not implied by SELECT, ownership
-- or superuser.  The creator of a keyring gets the first grant.  regrole, so
-- that pg_dump writes role names.
CREATE TABLE colcrypt.decrypt_grants (
    keyring_id integer NOT NULL REFERENCES colcrypt.keyrings,
    grantee    regrole NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (keyring_id, grantee)
);
COMMENT ON TABLE colcrypt.decrypt_grants IS
    'roles that may decrypt each keyring (colcrypt.grant_decrypt / revoke_decrypt)';
SELECT pg_catalog.pg_extension_config_dump('colcrypt.decrypt_grants', '');
REVOKE ALL ON colcrypt.decrypt_grants FROM PUBLIC;
GRANT SELECT ON colcrypt.decrypt_grants TO colcrypt_admin;

-- The audit trail: one row per key operation, written by colcrypt as the
-- table's owner; colcrypt_admin may read it, no other role may change it.
-- Never holds key material.
CREATE TABLE colcrypt.key_events (
    event_id          bigserial PRIMARY KEY,
    event_time        timestamptz NOT NULL DEFAULT clock_timestamp(),
    session_user_name text NOT NULL,
    current_user_name text NOT NULL,
    operation         text NOT NULL CHECK (operation IN ('create', 'rotate', 'auto_rotate', 'retire',
                                                         'rotate_master_key', 'grant', 'revoke')),
    keyring           text,
    old_version       integer,
    new_version       integer,
    detail            text
);
COMMENT ON TABLE colcrypt.key_events IS 'append-only audit of colcrypt key operations';
SELECT pg_catalog.pg_extension_config_dump('colcrypt.key_events', '');
SELECT pg_catalog.pg_extension_config_dump('colcrypt.key_events_event_id_seq', '');
REVOKE ALL ON colcrypt.key_events, colcrypt.key_events_event_id_seq FROM PUBLIC;
GRANT SELECT ON colcrypt.key_events TO colcrypt_admin;

CREATE FUNCTION colcrypt.rotate_key(keyring text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_rotate_key' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.rotate_key(text) IS
    'new active data-key version of a keyring; older versions stay decrypt-only; returns the new version';
CREATE FUNCTION colcrypt.retire_key(keyring text, version integer) RETURNS void
    AS 'MODULE_PATHNAME', 'colcrypt_retire_key' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.retire_key(text, integer) IS
    'destroy a data-key version that no stored value uses; refused for the active version or while values use it';
CREATE FUNCTION colcrypt.rotate_master_key() RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_rotate_master_key' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.rotate_master_key() IS
    'rewrap every key wrapped by the previous master key (colcrypt.previous_master_key_file or _command) '
    'under the current one; returns the number of keys rewrapped';
CREATE FUNCTION colcrypt.grant_decrypt(keyring text, role regrole) RETURNS void
    AS 'MODULE_PATHNAME', 'colcrypt_grant_decrypt' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.grant_decrypt(text, regrole) IS
    'let a role (and the roles that have its privileges) read plaintext of a keyring';
CREATE FUNCTION colcrypt.revoke_decrypt(keyring text, role regrole) RETURNS void
    AS 'MODULE_PATHNAME', 'colcrypt_revoke_decrypt' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.revoke_decrypt(text, regrole) IS 'take back colcrypt.grant_decrypt';
REVOKE ALL ON FUNCTION colcrypt.rotate_key(text), colcrypt.retire_key(text, integer),
    colcrypt.rotate_master_key(), colcrypt.grant_decrypt(text, regrole),
    colcrypt.revoke_decrypt(text, regrole) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.rotate_key(text), colcrypt.retire_key(text, integer),
    colcrypt.rotate_master_key(), colcrypt.grant_decrypt(text, regrole),
    colcrypt.revoke_decrypt(text, regrole) TO colcrypt_admin;

-- Encryptions per data-key version of this database, from the server's
-- shared counters (see colcrypt.nonce_budget).
CREATE FUNCTION colcrypt._nonce_counters(OUT keyring_id integer, OUT version integer, OUT encryptions bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'colcrypt_nonce_counters' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt._nonce_counters() IS 'internal: encryptions per data-key version, for colcrypt.keys';

CREATE VIEW colcrypt.keys AS
    SELECT k.name AS keyring, v.version, v.state, v.created_at AS created,
           CASE WHEN v.state <> 'retired' THEN coalesce(c.encryptions, 0) ELSE c.encryptions END AS encryptions,
           CASE WHEN v.state <> 'retired' THEN
               greatest(current_setting('colcrypt.nonce_budget', true)::bigint - coalesce(c.encryptions, 0), 0)
           END AS nonce_budget_left,
           v.master_key_fingerprint, k.index_term_bits, k.case_insensitive
      FROM colcrypt.keyrings k
      JOIN colcrypt.key_versions v ON v.keyring_id = k.keyring_id AND v.purpose = 'data'
      LEFT JOIN colcrypt._nonce_counters() c ON c.keyring_id = v.keyring_id AND c.version = v.version;
COMMENT ON VIEW colcrypt.keys IS 'keyrings and their data-key versions (no key material)';
GRANT SELECT ON colcrypt.keys TO PUBLIC;

-------------------------------------------------------------------------------
-- Type modifier: the keyring name, shared by every encrypted type.
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt.keyring_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_keyring_typmod_in' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.keyring_typmod_out(integer) RETURNS cstring
    AS 'MODULE_PATHNAME', 'colcrypt_keyring_typmod_out' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-------------------------------------------------------------------------------
-- encrypted_text
-------------------------------------------------------------------------------

CREATE TYPE colcrypt.encrypted_text;

CREATE FUNCTION colcrypt.encrypted_text_in(cstring, oid, integer) RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_in' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_out(colcrypt.encrypted_text) RETURNS cstring
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_out' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_recv(internal, oid, integer) RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_recv' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_send(colcrypt.encrypted_text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_send' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- Ciphertext does not compress: EXTERNAL lets long values move out of line
-- without a compression attempt.
CREATE TYPE colcrypt.encrypted_text (
    INPUT = colcrypt.encrypted_text_in,
    OUTPUT = colcrypt.encrypted_text_out,
    RECEIVE = colcrypt.encrypted_text_recv,
    SEND = colcrypt.encrypted_text_send,
    TYPMOD_IN = colcrypt.keyring_typmod_in,
    TYPMOD_OUT = colcrypt.keyring_typmod_out,
    INTERNALLENGTH = VARIABLE,
    STORAGE = external
);
COMMENT ON TYPE colcrypt.encrypted_text IS
    'text stored as AES-256-GCM ciphertext; the type modifier names the keyring';

-- The type-modifier coercion: binds values to the column's keyring.
CREATE FUNCTION colcrypt.encrypted_text(colcrypt.encrypted_text, integer, boolean)
    RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_coerce' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (colcrypt.encrypted_text AS colcrypt.encrypted_text)
    WITH FUNCTION colcrypt.encrypted_text(colcrypt.encrypted_text, integer, boolean) AS IMPLICIT;

CREATE FUNCTION colcrypt.encrypted_text(text, integer, boolean) RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_text_to_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (text AS colcrypt.encrypted_text)
    WITH FUNCTION colcrypt.encrypted_text(text, integer, boolean) AS ASSIGNMENT;
-- varchar shares text's representation; drivers such as JDBC bind strings
-- as varchar.
CREATE FUNCTION colcrypt.encrypted_text(varchar, integer, boolean) RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_text_to_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (varchar AS colcrypt.encrypted_text)
    WITH FUNCTION colcrypt.encrypted_text(varchar, integer, boolean) AS ASSIGNMENT;

CREATE FUNCTION colcrypt.encrypted_text_to_text(colcrypt.encrypted_text) RETURNS text
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_to_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE CAST (colcrypt.encrypted_text AS text)
    WITH FUNCTION colcrypt.encrypted_text_to_text(colcrypt.encrypted_text) AS ASSIGNMENT;

CREATE FUNCTION colcrypt.describe(value colcrypt.encrypted_text,
        OUT keyring text, OUT key_version integer, OUT index_term_bits integer,
        OUT stored_bytes integer, OUT format_version integer, OUT algorithm text)
    AS 'MODULE_PATHNAME', 'colcrypt_describe' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt.describe(colcrypt.encrypted_text) IS
    'keyring, key version, index-term bits and stored size of a value, read from its header without decrypting';

-- Header fields alone, for colcrypt.retire_key's scan of stored values.
CREATE FUNCTION colcrypt._keyring_id(value colcrypt.encrypted_text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_value_keyring_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt._key_version(value colcrypt.encrypted_text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_value_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._keyring_id(colcrypt.encrypted_text) IS 'internal: keyring id from a value''s header';
COMMENT ON FUNCTION colcrypt._key_version(colcrypt.encrypted_text) IS 'internal: key version from a value''s header';

-------------------------------------------------------------------------------
-- Equality through blind-index terms (src/pg/equality.cpp)
--
-- = and <> live in pg_catalog so that they resolve whatever the search_path;
-- they only take colcrypt's types.  The ordering operators exist for the
-- btree operator class only: the order they give is that of blind-index
-- terms, meaningless to users, so they get names nobody types by accident.
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt.encrypted_text_eq(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_eq' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_ne(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_ne' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_lt(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_lt' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_le(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_le' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_gt(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_gt' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_ge(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_ge' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_cmp(colcrypt.encrypted_text, colcrypt.encrypted_text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_cmp' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_eq_text(colcrypt.encrypted_text, text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_eq_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_ne_text(colcrypt.encrypted_text, text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_ne_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.text_eq_encrypted_text(text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_text_eq_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.text_ne_encrypted_text(text, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_text_ne_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.encrypted_text_eq,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, MERGES
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.encrypted_text_ne,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = text,
    FUNCTION = colcrypt.encrypted_text_eq_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = text,
    FUNCTION = colcrypt.encrypted_text_ne_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.text_eq_encrypted_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.text_ne_encrypted_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR colcrypt.#<# (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.encrypted_text_lt, COMMUTATOR = OPERATOR(colcrypt.#>#),
    NEGATOR = OPERATOR(colcrypt.#>=#), RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR colcrypt.#<=# (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.encrypted_text_le, COMMUTATOR = OPERATOR(colcrypt.#>=#),
    NEGATOR = OPERATOR(colcrypt.#>#), RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR colcrypt.#># (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.encrypted_text_gt, COMMUTATOR = OPERATOR(colcrypt.#<#),
    NEGATOR = OPERATOR(colcrypt.#<=#), RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR colcrypt.#>=# (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = colcrypt.encrypted_text,
    FUNCTION = colcrypt.encrypted_text_ge, COMMUTATOR = OPERATOR(colcrypt.#<=#),
    NEGATOR = OPERATOR(colcrypt.#<#), RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS colcrypt.encrypted_text_ops
    DEFAULT FOR TYPE colcrypt.encrypted_text USING btree AS
        OPERATOR 1 colcrypt.#<#,
        OPERATOR 2 colcrypt.#<=#,
        OPERATOR 3 pg_catalog.= (colcrypt.encrypted_text, colcrypt.encrypted_text),
        OPERATOR 4 colcrypt.#>=#,
        OPERATOR 5 colcrypt.#>#,
        FUNCTION 1 colcrypt.encrypted_text_cmp(colcrypt.encrypted_text, colcrypt.encrypted_text);
-- Comparisons with text use the index as they are: the text is placed in
-- the order of the keyring of the value it is compared with (term, then
-- plaintext for terms under 128 bits).  Only =: the order is that of terms,
-- meaningless to users.  amvalidate() calls the family incomplete, on
-- purpose: text has no order of its own here, so this = is not MERGES and
-- there is no (text, text) or (text, encrypted_text) member; the btree then
-- keeps keys it cannot compare with each other (equality.sql covers it).
CREATE FUNCTION colcrypt.encrypted_text_cmp_text(colcrypt.encrypted_text, text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_cmp_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
ALTER OPERATOR FAMILY colcrypt.encrypted_text_ops USING btree ADD
    OPERATOR 3 pg_catalog.= (colcrypt.encrypted_text, text),
    FUNCTION 1 (colcrypt.encrypted_text, text)
        colcrypt.encrypted_text_cmp_text(colcrypt.encrypted_text, text);
COMMENT ON OPERATOR CLASS colcrypt.encrypted_text_ops USING btree IS
    'equality lookups, UNIQUE, GROUP BY and DISTINCT through blind-index terms, within one keyring';

-- Inserted by the planner hook (src/pg/comparison_binding.cpp): the operand
-- of a comparison, bound to the compared column's keyring.
CREATE FUNCTION colcrypt._bind(colcrypt.encrypted_text, integer) RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_bind_value' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt._bind(colcrypt.encrypted_text[], integer) RETURNS colcrypt.encrypted_text[]
    AS 'MODULE_PATHNAME', 'colcrypt_bind_array' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt._bind(text[], integer) RETURNS colcrypt.encrypted_text[]
    AS 'MODULE_PATHNAME', 'colcrypt_bind_array' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._bind(colcrypt.encrypted_text, integer) IS
    'internal: a comparison operand bound to a keyring (inserted by the planner)';

-------------------------------------------------------------------------------
-- Internal
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt._boundary_selftest(direction text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_boundary_selftest' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt._boundary_selftest(text) IS
    'internal: provokes both directions of the C++/PostgreSQL error boundary, for the tests';
REVOKE ALL ON FUNCTION colcrypt._boundary_selftest(text) FROM PUBLIC;
