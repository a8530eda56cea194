-- colcrypt 0.1.0 -> 0.2.0.
--
-- 0.2.0 is not released yet: this script may change until it is, and is
-- frozen from then on, like colcrypt--0.1.0.sql (see docs/releasing.md).
-- There is no colcrypt--0.2.0.sql: CREATE EXTENSION colcrypt installs 0.1.0
-- and runs the updates, so a fresh install and an upgraded one are the same
-- by construction (test/t/007_upgrade.pl compares them all the same).
\echo Use "ALTER EXTENSION colcrypt UPDATE" to load this file. \quit

-------------------------------------------------------------------------------
-- The audit trail's operations are listed once, in the library
-- (src/pg/keys/key_events.cpp); the CHECK constraint asks it instead of
-- spelling them out a second time.
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt._is_key_event_operation(operation text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_is_key_event_operation' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._is_key_event_operation(text) IS
    'internal: whether colcrypt.key_events may record this operation (its CHECK constraint)';
ALTER TABLE colcrypt.key_events
    DROP CONSTRAINT key_events_operation_check,
    ADD CONSTRAINT key_events_operation_check CHECK (colcrypt._is_key_event_operation(operation));

-------------------------------------------------------------------------------
-- The nonce budget as the server computes it.
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt._nonce_policy(OUT budget bigint, OUT hard_limit bigint, OUT reservation_block bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'colcrypt_nonce_policy' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._nonce_policy() IS
    'internal: colcrypt.nonce_budget, the hard limit where encryption is refused, and the block reserved per '
    'write of the counter file (the most a crash over-counts)';

-------------------------------------------------------------------------------
-- Index order 2 (docs/design/index-order.md): within equal short terms,
-- values are ordered by their full keyed term, never by plaintext.  The
-- order is a property of each keyring, because indexes are built in it.
-------------------------------------------------------------------------------

ALTER TABLE colcrypt.keyrings
    ADD COLUMN index_order smallint NOT NULL DEFAULT 2 CHECK (index_order IN (1, 2));
COMMENT ON COLUMN colcrypt.keyrings.index_order IS
    'how equal short terms are ordered: 1 by plaintext (0.1.0), 2 by full keyed term; see colcrypt.upgrade_index_order';
-- Keyrings whose terms never tie (none stored, or 128 bits or more) are in
-- order 2 already; the others keep the order their indexes were built in.
UPDATE colcrypt.keyrings SET index_order = 1 WHERE index_term_bits BETWEEN 8 AND 120;
DO $$
DECLARE
    names text;
BEGIN
    SELECT string_agg(format('%L (%s-bit terms)', name, index_term_bits), ', ' ORDER BY name)
      INTO names FROM colcrypt.keyrings WHERE index_order = 1;
    IF names IS NOT NULL THEN
        RAISE WARNING 'colcrypt: keyrings % keep index order 1, whose btree order reveals plaintext order among values with equal short terms', names
            USING HINT = 'Switch each with SELECT colcrypt.upgrade_index_order(keyring); it rebuilds the indexes of its values (REINDEX locks).';
    END IF;
END
$$;

-- 0.1.0 let CREATE TABLE AS make columns without a keyring, whose transit
-- values any reader can decrypt and a master key rotation makes unreadable;
-- 0.2.0 refuses to make them (src/pg/hooks/ddl_hook.cpp).  Name the ones
-- that exist.
DO $$
DECLARE
    columns text;
BEGIN
    SELECT string_agg(format('%s.%I', a.attrelid::regclass, a.attname), ', '
                      ORDER BY a.attrelid::regclass::text, a.attname)
      INTO columns
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
     WHERE c.relkind IN ('r', 'm', 'p') AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('colcrypt.encrypted_text'::pg_catalog.regtype, 'colcrypt.encrypted_text[]'::pg_catalog.regtype)
       AND a.atttypmod = -1;
    IF columns IS NOT NULL THEN
        RAISE WARNING 'colcrypt: columns % have no keyring: their values are transit values, which any role that may read them can decrypt', columns
            USING HINT = 'Give each a keyring: ALTER TABLE t ALTER COLUMN c TYPE colcrypt.encrypted_text(''keyring'').';
    END IF;
END
$$;

CREATE FUNCTION colcrypt.upgrade_index_order(keyring text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_upgrade_index_order' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.upgrade_index_order(text) IS
    'switch a keyring to index order 2 and rebuild the indexes of its values, in one transaction; returns how many';
REVOKE ALL ON FUNCTION colcrypt.upgrade_index_order(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.upgrade_index_order(text) TO colcrypt_admin;

-- The ordering operators and support functions exist for the operator
-- class; lookups, joins, GROUP BY and ORDER BY do not need EXECUTE on them.
REVOKE EXECUTE ON FUNCTION
    colcrypt.encrypted_text_lt(colcrypt.encrypted_text, colcrypt.encrypted_text),
    colcrypt.encrypted_text_le(colcrypt.encrypted_text, colcrypt.encrypted_text),
    colcrypt.encrypted_text_gt(colcrypt.encrypted_text, colcrypt.encrypted_text),
    colcrypt.encrypted_text_ge(colcrypt.encrypted_text, colcrypt.encrypted_text),
    colcrypt.encrypted_text_cmp(colcrypt.encrypted_text, colcrypt.encrypted_text),
    colcrypt.encrypted_text_cmp_text(colcrypt.encrypted_text, text)
    FROM PUBLIC;

-------------------------------------------------------------------------------
-- Exact operators for the string types drivers bind (JDBC binds varchar;
-- character(n) compares as the text it casts to), so that a comparison with
-- them never resolves to a lookalike operator in a schema that comes first
-- in a caller's search_path.  Members of the btree family, so an index
-- serves them as it serves text.
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt.encrypted_text_eq_varchar(colcrypt.encrypted_text, varchar) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_eq_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_ne_varchar(colcrypt.encrypted_text, varchar) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_ne_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.varchar_eq_encrypted_text(varchar, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_text_eq_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.varchar_ne_encrypted_text(varchar, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_text_ne_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_cmp_varchar(colcrypt.encrypted_text, varchar) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_cmp_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_eq_bpchar(colcrypt.encrypted_text, bpchar) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_eq_bpchar' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_ne_bpchar(colcrypt.encrypted_text, bpchar) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_ne_bpchar' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.bpchar_eq_encrypted_text(bpchar, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_bpchar_eq_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.bpchar_ne_encrypted_text(bpchar, colcrypt.encrypted_text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'colcrypt_bpchar_ne_encrypted_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION colcrypt.encrypted_text_cmp_bpchar(colcrypt.encrypted_text, bpchar) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_encrypted_text_cmp_bpchar' LANGUAGE C STRICT STABLE PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION
    colcrypt.encrypted_text_cmp_varchar(colcrypt.encrypted_text, varchar),
    colcrypt.encrypted_text_cmp_bpchar(colcrypt.encrypted_text, bpchar)
    FROM PUBLIC;

CREATE OPERATOR pg_catalog.= (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = varchar, FUNCTION = colcrypt.encrypted_text_eq_varchar,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = varchar, FUNCTION = colcrypt.encrypted_text_ne_varchar,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = varchar, RIGHTARG = colcrypt.encrypted_text, FUNCTION = colcrypt.varchar_eq_encrypted_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = varchar, RIGHTARG = colcrypt.encrypted_text, FUNCTION = colcrypt.varchar_ne_encrypted_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = bpchar, FUNCTION = colcrypt.encrypted_text_eq_bpchar,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = colcrypt.encrypted_text, RIGHTARG = bpchar, FUNCTION = colcrypt.encrypted_text_ne_bpchar,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = bpchar, RIGHTARG = colcrypt.encrypted_text, FUNCTION = colcrypt.bpchar_eq_encrypted_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = bpchar, RIGHTARG = colcrypt.encrypted_text, FUNCTION = colcrypt.bpchar_ne_encrypted_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel
);
ALTER OPERATOR FAMILY colcrypt.encrypted_text_ops USING btree ADD
    OPERATOR 3 pg_catalog.= (colcrypt.encrypted_text, varchar),
    FUNCTION 1 (colcrypt.encrypted_text, varchar)
        colcrypt.encrypted_text_cmp_varchar(colcrypt.encrypted_text, varchar),
    OPERATOR 3 pg_catalog.= (colcrypt.encrypted_text, bpchar),
    FUNCTION 1 (colcrypt.encrypted_text, bpchar)
        colcrypt.encrypted_text_cmp_bpchar(colcrypt.encrypted_text, bpchar);

-------------------------------------------------------------------------------
-- The encrypt privilege (docs/design/encrypt-privilege.md): sealing a
-- plaintext under a keyring needs a grant, like decrypting.  Every keyring
-- starts with a grant to PUBLIC (grantee 0, written '-' in dumps), so
-- nothing changes until an administrator revokes it; lookups (=, IN,
-- = ANY) need no grant.
-------------------------------------------------------------------------------

CREATE TABLE colcrypt.encrypt_grants (
    keyring_id integer NOT NULL REFERENCES colcrypt.keyrings,
    grantee    regrole NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (keyring_id, grantee)
);
COMMENT ON TABLE colcrypt.encrypt_grants IS
    'roles that may encrypt under each keyring, 0 (-) for PUBLIC (colcrypt.grant_encrypt / revoke_encrypt)';
COMMENT ON COLUMN colcrypt.encrypt_grants.grantee IS 'the role, or 0 (shown as -) for PUBLIC';
SELECT pg_catalog.pg_extension_config_dump('colcrypt.encrypt_grants', '');
REVOKE ALL ON colcrypt.encrypt_grants FROM PUBLIC;
GRANT SELECT ON colcrypt.encrypt_grants TO colcrypt_admin;

-- Keyrings made under 0.1.0, where every role could encrypt.
INSERT INTO colcrypt.encrypt_grants (keyring_id, grantee, granted_by)
    SELECT keyring_id, 0::oid::regrole, 'colcrypt 0.2.0 update' FROM colcrypt.keyrings;

CREATE FUNCTION colcrypt.grant_encrypt(keyring text, role text) RETURNS void
    AS 'MODULE_PATHNAME', 'colcrypt_grant_encrypt' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.grant_encrypt(text, text) IS
    'let a role (or ''public'') encrypt under a keyring: store plaintexts into its columns';
CREATE FUNCTION colcrypt.revoke_encrypt(keyring text, role text) RETURNS void
    AS 'MODULE_PATHNAME', 'colcrypt_revoke_encrypt' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.revoke_encrypt(text, text) IS
    'withdraw a grant of colcrypt.grant_encrypt (''public'' for the grant every keyring starts with)';
REVOKE ALL ON FUNCTION colcrypt.grant_encrypt(text, text), colcrypt.revoke_encrypt(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.grant_encrypt(text, text), colcrypt.revoke_encrypt(text, text) TO colcrypt_admin;

-- The encrypted type family (issue 13, docs/design/type-family.md):
-- encrypted_bytea, _jsonb, _int4, _int8, _numeric, _date and _timestamptz,
-- next to encrypted_text, with the same envelope, keyring modifier, casts,
-- comparisons and btree operator class.  Written once for all of them: each
-- row of the VALUES list below is a type (its C functions are one macro line
-- each in src/pg/types/encrypted_value.cpp and src/pg/ops/equality.cpp, and
-- its registry entry is in include/colcrypt/pg/types/encrypted_type.hpp).
--   t         the type's suffix, and of its C functions' names
--   plain     the plaintext type
--   literals  types literals are written in that PostgreSQL casts to the
--             plaintext type: PostgreSQL does not chain casts, so each has
--             its own assignment cast (int4 literals into encrypted_numeric)
-------------------------------------------------------------------------------

DO $family$
DECLARE
    t text;
    plain text;
    literal text;
    literals text[];
    e text;
BEGIN
    FOR t, plain, literals IN
        SELECT * FROM (VALUES
            ('bytea',       'bytea',                    '{}'::text[]),
            ('jsonb',       'jsonb',                    '{json}'),
            ('int4',        'integer',                  '{smallint}'),
            ('int8',        'bigint',                   '{smallint,integer}'),
            ('numeric',     'numeric',                  '{smallint,integer,bigint}'),
            ('date',        'date',                     '{}'),
            ('timestamptz', 'timestamp with time zone', '{date,timestamp without time zone}')
        ) AS family(t, plain, literals)
    LOOP
        e := format('colcrypt.encrypted_%s', t);

        -- The type: I/O, the keyring modifier, EXTERNAL storage (ciphertext
        -- does not compress).
        EXECUTE format('CREATE TYPE %s', e);
        EXECUTE format($f$CREATE FUNCTION %1$s_in(cstring, oid, integer) RETURNS %1$s
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_in' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_out(%1$s) RETURNS cstring
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_out' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_recv(internal, oid, integer) RETURNS %1$s
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_recv' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_send(%1$s) RETURNS bytea
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_send' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE TYPE %1$s (
            INPUT = %1$s_in, OUTPUT = %1$s_out, RECEIVE = %1$s_recv, SEND = %1$s_send,
            TYPMOD_IN = colcrypt.keyring_typmod_in, TYPMOD_OUT = colcrypt.keyring_typmod_out,
            INTERNALLENGTH = VARIABLE, STORAGE = external)$f$, e);
        EXECUTE format($f$COMMENT ON TYPE %s IS %L$f$, e,
            format('%s stored as AES-256-GCM ciphertext; the type modifier names the keyring', plain));

        -- The type-modifier coercion binds values to the column's keyring.
        EXECUTE format($f$CREATE FUNCTION %1$s(%1$s, integer, boolean) RETURNS %1$s
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_coerce' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format('CREATE CAST (%1$s AS %1$s) WITH FUNCTION %1$s(%1$s, integer, boolean) AS IMPLICIT', e);

        -- Casts with the plaintext type, both ways (the one from it always
        -- encrypts), and with text through the I/O functions.
        EXECUTE format($f$CREATE FUNCTION %1$s(%3$s, integer, boolean) RETURNS %1$s
            AS 'MODULE_PATHNAME', 'colcrypt_%2$s_to_encrypted_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);
        EXECUTE format('CREATE CAST (%2$s AS %1$s) WITH FUNCTION %1$s(%2$s, integer, boolean) AS ASSIGNMENT', e, plain);
        EXECUTE format($f$CREATE FUNCTION %1$s_to_%2$s(%1$s) RETURNS %3$s
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_to_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);
        EXECUTE format('CREATE CAST (%1$s AS %3$s) WITH FUNCTION %1$s_to_%2$s(%1$s) AS ASSIGNMENT', e, t, plain);
        EXECUTE format('CREATE CAST (%s AS text) WITH INOUT AS ASSIGNMENT', e);
        EXECUTE format('CREATE CAST (text AS %s) WITH INOUT', e);
        FOREACH literal IN ARRAY literals LOOP
            EXECUTE format($f$CREATE FUNCTION %1$s(%2$s, integer, boolean) RETURNS %1$s
                AS 'SELECT %1$s($1::%3$s, $2, $3)' LANGUAGE sql STRICT STABLE PARALLEL SAFE$f$, e, literal, plain);
            EXECUTE format('CREATE CAST (%2$s AS %1$s) WITH FUNCTION %1$s(%2$s, integer, boolean) AS ASSIGNMENT',
                e, literal);
        END LOOP;

        -- Header readers: describe(), and retire_key's scan.
        EXECUTE format($f$CREATE FUNCTION colcrypt.describe(value %1$s,
                OUT keyring text, OUT key_version integer, OUT index_term_bits integer,
                OUT stored_bytes integer, OUT format_version integer, OUT algorithm text)
            AS 'MODULE_PATHNAME', 'colcrypt_describe' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e);
        EXECUTE format($f$CREATE FUNCTION colcrypt._keyring_id(value %1$s) RETURNS integer
            AS 'MODULE_PATHNAME', 'colcrypt_value_keyring_id' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE$f$, e);
        EXECUTE format($f$CREATE FUNCTION colcrypt._key_version(value %1$s) RETURNS integer
            AS 'MODULE_PATHNAME', 'colcrypt_value_key_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE$f$, e);

        -- Equality through blind-index terms of the canonical form, with
        -- itself and with the plaintext type on either side; the ordering
        -- operators exist for the btree operator class only.
        EXECUTE format($f$CREATE FUNCTION %1$s_eq(%1$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_eq' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_ne(%1$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_ne' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_lt(%1$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_lt' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_le(%1$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_le' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_gt(%1$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_gt' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_ge(%1$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_ge' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_cmp(%1$s, %1$s) RETURNS integer
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_cmp' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, t);
        EXECUTE format($f$CREATE FUNCTION %1$s_eq_%2$s(%1$s, %3$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_eq_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);
        EXECUTE format($f$CREATE FUNCTION %1$s_ne_%2$s(%1$s, %3$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_ne_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);
        EXECUTE format($f$CREATE FUNCTION colcrypt.%2$s_eq_encrypted_%2$s(%3$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_%2$s_eq_encrypted_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);
        EXECUTE format($f$CREATE FUNCTION colcrypt.%2$s_ne_encrypted_%2$s(%3$s, %1$s) RETURNS boolean
            AS 'MODULE_PATHNAME', 'colcrypt_%2$s_ne_encrypted_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);
        EXECUTE format($f$CREATE FUNCTION %1$s_cmp_%2$s(%1$s, %3$s) RETURNS integer
            AS 'MODULE_PATHNAME', 'colcrypt_encrypted_%2$s_cmp_%2$s' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$,
            e, t, plain);

        EXECUTE format($f$CREATE OPERATOR pg_catalog.= (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = %1$s_eq,
            COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
            RESTRICT = eqsel, JOIN = eqjoinsel, MERGES)$f$, e);
        EXECUTE format($f$CREATE OPERATOR pg_catalog.<> (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = %1$s_ne,
            COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
            RESTRICT = neqsel, JOIN = neqjoinsel)$f$, e);
        EXECUTE format($f$CREATE OPERATOR pg_catalog.= (LEFTARG = %1$s, RIGHTARG = %3$s, FUNCTION = %1$s_eq_%2$s,
            COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
            RESTRICT = eqsel, JOIN = eqjoinsel)$f$, e, t, plain);
        EXECUTE format($f$CREATE OPERATOR pg_catalog.<> (LEFTARG = %1$s, RIGHTARG = %3$s, FUNCTION = %1$s_ne_%2$s,
            COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
            RESTRICT = neqsel, JOIN = neqjoinsel)$f$, e, t, plain);
        EXECUTE format($f$CREATE OPERATOR pg_catalog.= (LEFTARG = %3$s, RIGHTARG = %1$s,
            FUNCTION = colcrypt.%2$s_eq_encrypted_%2$s,
            COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
            RESTRICT = eqsel, JOIN = eqjoinsel)$f$, e, t, plain);
        EXECUTE format($f$CREATE OPERATOR pg_catalog.<> (LEFTARG = %3$s, RIGHTARG = %1$s,
            FUNCTION = colcrypt.%2$s_ne_encrypted_%2$s,
            COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
            RESTRICT = neqsel, JOIN = neqjoinsel)$f$, e, t, plain);
        EXECUTE format($f$CREATE OPERATOR colcrypt.#<# (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = %1$s_lt,
            COMMUTATOR = OPERATOR(colcrypt.#>#), NEGATOR = OPERATOR(colcrypt.#>=#),
            RESTRICT = scalarltsel, JOIN = scalarltjoinsel)$f$, e);
        EXECUTE format($f$CREATE OPERATOR colcrypt.#<=# (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = %1$s_le,
            COMMUTATOR = OPERATOR(colcrypt.#>=#), NEGATOR = OPERATOR(colcrypt.#>#),
            RESTRICT = scalarlesel, JOIN = scalarlejoinsel)$f$, e);
        EXECUTE format($f$CREATE OPERATOR colcrypt.#># (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = %1$s_gt,
            COMMUTATOR = OPERATOR(colcrypt.#<#), NEGATOR = OPERATOR(colcrypt.#<=#),
            RESTRICT = scalargtsel, JOIN = scalargtjoinsel)$f$, e);
        EXECUTE format($f$CREATE OPERATOR colcrypt.#>=# (LEFTARG = %1$s, RIGHTARG = %1$s, FUNCTION = %1$s_ge,
            COMMUTATOR = OPERATOR(colcrypt.#<=#), NEGATOR = OPERATOR(colcrypt.#<#),
            RESTRICT = scalargesel, JOIN = scalargejoinsel)$f$, e);
        EXECUTE format($f$CREATE OPERATOR CLASS %1$s_ops DEFAULT FOR TYPE %1$s USING btree AS
            OPERATOR 1 colcrypt.#<#, OPERATOR 2 colcrypt.#<=#,
            OPERATOR 3 pg_catalog.= (%1$s, %1$s),
            OPERATOR 4 colcrypt.#>=#, OPERATOR 5 colcrypt.#>#,
            FUNCTION 1 %1$s_cmp(%1$s, %1$s)$f$, e);
        -- Comparisons with the plaintext type use an index as they are (the
        -- plaintext's term under the value's keyring), as text's do.
        EXECUTE format($f$ALTER OPERATOR FAMILY %1$s_ops USING btree ADD
            OPERATOR 3 pg_catalog.= (%1$s, %3$s),
            FUNCTION 1 (%1$s, %3$s) %1$s_cmp_%2$s(%1$s, %3$s)$f$, e, t, plain);
        EXECUTE format($f$COMMENT ON OPERATOR CLASS %s_ops USING btree IS %L$f$, e,
            'equality lookups, UNIQUE, GROUP BY and DISTINCT through blind-index terms, within one keyring');
        EXECUTE format($f$REVOKE EXECUTE ON FUNCTION %1$s_lt(%1$s, %1$s), %1$s_le(%1$s, %1$s),
            %1$s_gt(%1$s, %1$s), %1$s_ge(%1$s, %1$s), %1$s_cmp(%1$s, %1$s), %1$s_cmp_%2$s(%1$s, %3$s)
            FROM PUBLIC$f$, e, t, plain);

        -- Inserted by the planner hook: operands bound to a column's keyring.
        EXECUTE format($f$CREATE FUNCTION colcrypt._bind(%1$s, integer) RETURNS %1$s
            AS 'MODULE_PATHNAME', 'colcrypt_bind_value' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e);
        EXECUTE format($f$CREATE FUNCTION colcrypt._bind(%1$s[], integer) RETURNS %1$s[]
            AS 'MODULE_PATHNAME', 'colcrypt_bind_array' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e);
        EXECUTE format($f$CREATE FUNCTION colcrypt._bind(%2$s[], integer) RETURNS %1$s[]
            AS 'MODULE_PATHNAME', 'colcrypt_bind_array' LANGUAGE C STRICT STABLE PARALLEL SAFE$f$, e, plain);
    END LOOP;
END
$family$;

-------------------------------------------------------------------------------
-- Observability: usage statistics per keyring (shared-memory counters,
-- not durable) and health checks a monitoring system can call.
-------------------------------------------------------------------------------

CREATE FUNCTION colcrypt._usage_stats(OUT keyring_id integer, OUT encryptions bigint, OUT decryptions bigint,
                                      OUT failures bigint, OUT since timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'colcrypt_usage_stats' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt._usage_stats() IS 'internal: the shared-memory usage counters behind colcrypt.stats';
REVOKE ALL ON FUNCTION colcrypt._usage_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt._usage_stats() TO colcrypt_admin, pg_monitor;  -- the view calls it as its reader

CREATE VIEW colcrypt.stats AS
    SELECT k.name AS keyring, s.encryptions, s.decryptions, s.failures, s.since
      FROM colcrypt._usage_stats() s JOIN colcrypt.keyrings k USING (keyring_id);
COMMENT ON VIEW colcrypt.stats IS
    'encryptions, decryptions and failed decryptions per keyring of this database since "since" (server start or colcrypt.stats_reset())';

CREATE FUNCTION colcrypt.stats_reset() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'colcrypt_stats_reset' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.stats_reset() IS 'zero colcrypt.stats for this database; returns the new "since"';

CREATE FUNCTION colcrypt.health(OUT "check" text, OUT status text, OUT detail text) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'colcrypt_health' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.health() IS
    'one row per check (master key, keys, launcher, nonce budget, statistics): status ok, warning or error, and why';

REVOKE ALL ON FUNCTION colcrypt.stats_reset(), colcrypt.health() FROM PUBLIC;
REVOKE ALL ON colcrypt.stats FROM PUBLIC;
GRANT SELECT ON colcrypt.stats TO colcrypt_admin, pg_monitor;
GRANT EXECUTE ON FUNCTION colcrypt.health() TO colcrypt_admin, pg_monitor;
GRANT EXECUTE ON FUNCTION colcrypt.stats_reset() TO colcrypt_admin;

-- Background re-encryption (issue 12, docs/design/reencryption.md).
-- Jobs are per cluster (they name relations by OID): not dumped.
-------------------------------------------------------------------------------

CREATE SEQUENCE colcrypt.reencrypt_job_seq;
CREATE TABLE colcrypt.reencrypt_tasks (
    job          bigint NOT NULL,
    relation     oid NOT NULL,
    relation_name text NOT NULL,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'paused', 'cancelled', 'failed', 'waiting for vacuum', 'done')),
    next_block   bigint NOT NULL DEFAULT 0,
    passes       integer NOT NULL DEFAULT 0,
    rows_done    bigint NOT NULL DEFAULT 0,
    batches      bigint NOT NULL DEFAULT 0,
    requested_by text NOT NULL DEFAULT current_user,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    updated_at   timestamptz,
    finished_at  timestamptz,
    last_error   text,
    -- The worker's cleanup after the last batch (VACUUM, REINDEX
    -- CONCURRENTLY, the check): attempts made, and when the next is due.
    cleanup_attempts integer NOT NULL DEFAULT 0,
    cleanup_after timestamptz,
    PRIMARY KEY (job, relation)
);
COMMENT ON TABLE colcrypt.reencrypt_tasks IS
    'background re-encryption: one row per job and table, locked by the batch that works on it';
CREATE TABLE colcrypt.reencrypt_columns (
    job          bigint NOT NULL,
    relation     oid NOT NULL,
    attnum       smallint NOT NULL,
    column_name  name NOT NULL,
    keyring_id   integer NOT NULL,
    type_modifier integer NOT NULL,
    from_versions integer[],
    to_version   integer,
    values_total bigint,
    values_done  bigint NOT NULL DEFAULT 0,
    values_left  bigint,
    failed       text,
    PRIMARY KEY (job, relation, attnum),
    FOREIGN KEY (job, relation) REFERENCES colcrypt.reencrypt_tasks ON DELETE CASCADE
);
COMMENT ON TABLE colcrypt.reencrypt_columns IS
    'background re-encryption: the encrypted columns of each task, with their versions and counts';
REVOKE ALL ON colcrypt.reencrypt_tasks, colcrypt.reencrypt_columns, colcrypt.reencrypt_job_seq FROM PUBLIC;

-- Header-only re-sealing: the value under its keyring's active version (the
-- value itself when already there).  Needs no decrypt grant: the plaintext
-- never leaves the function, and the result is under the same keyring.
CREATE FUNCTION colcrypt._reencrypt_value(value colcrypt.encrypted_text, type_modifier integer)
    RETURNS colcrypt.encrypted_text
    AS 'MODULE_PATHNAME', 'colcrypt_reencrypt_value' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt._reencrypt_value(colcrypt.encrypted_text, integer) IS
    'internal: the value re-sealed under the active version of its keyring (the re-encryption batches)';

-- The encrypted types: every one takes the keyring modifier.  Jobs, coverage
-- and verify cover each of them (the type family of issue 13 as well).
CREATE FUNCTION colcrypt._encrypted_types() RETURNS oid[]
    LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT coalesce(array_agg(t.oid ORDER BY t.oid), '{}') FROM pg_type t
     WHERE t.typtype = 'b' AND t.typelem = 0  -- not their arrays, which share the modifier
       AND t.typmodin = 'colcrypt.keyring_typmod_in(cstring[])'::regprocedure
$$;
COMMENT ON FUNCTION colcrypt._encrypted_types() IS 'internal: the encrypted base types (their modifier names a keyring)';

-- One batch of one runnable task (of job, or of any job when NULL).
CREATE FUNCTION colcrypt._reencrypt_step(of_job bigint, batch_size integer,
        OUT job bigint, OUT relation regclass, OUT rewritten bigint, OUT state text, OUT last_error text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'colcrypt_reencrypt_step' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION colcrypt._reencrypt_step(bigint, integer) IS
    'internal: one re-encryption batch, in the caller''s transaction';
REVOKE EXECUTE ON FUNCTION colcrypt._reencrypt_step(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt._reencrypt_step(bigint, integer) TO colcrypt_admin;

-- Ask the launcher for a re-encryption worker in this database when the
-- transaction commits (a worker started before would not see the job).
CREATE FUNCTION colcrypt._wake_reencrypt_worker() RETURNS void
    AS 'MODULE_PATHNAME', 'colcrypt_wake_reencrypt_worker' LANGUAGE C VOLATILE;
REVOKE EXECUTE ON FUNCTION colcrypt._wake_reencrypt_worker() FROM PUBLIC;

-- Queue the encrypted columns of tbl (every table when NULL), of one keyring
-- when keyring_id is given.  Returns the job, NULL when nothing was queued.
CREATE FUNCTION colcrypt._queue_reencrypt(tbl regclass, keyring_id integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    new_job bigint := nextval('colcrypt.reencrypt_job_seq');
    r record;
    queued int := 0;
BEGIN
    FOR r IN
        SELECT c.oid AS relid, c.oid::regclass::text AS relname, a.attnum, a.attname, a.atttypmod
          FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid = ANY (colcrypt._encrypted_types())
           AND a.atttypmod >= 0
           AND c.relkind = 'r' AND c.relpersistence <> 't'
           -- The partitions from pg_inherits: pg_partition_tree() would lock
           -- them, and wait behind an ALTER TABLE.
           AND (tbl IS NULL OR c.oid IN (WITH RECURSIVE tree(relid) AS (
                    SELECT tbl::oid UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.relid)
                SELECT relid FROM tree))
           AND (_queue_reencrypt.keyring_id IS NULL OR a.atttypmod =
                (SELECT k.type_modifier FROM colcrypt.keyrings k WHERE k.keyring_id = _queue_reencrypt.keyring_id))
         ORDER BY c.oid, a.attnum
    LOOP
        INSERT INTO colcrypt.reencrypt_tasks (job, relation, relation_name, requested_by)
             VALUES (new_job, r.relid, r.relname, session_user)
        ON CONFLICT DO NOTHING;
        INSERT INTO colcrypt.reencrypt_columns (job, relation, attnum, column_name, keyring_id, type_modifier)
             VALUES (new_job, r.relid, r.attnum, r.attname,
                     coalesce((SELECT k.keyring_id FROM colcrypt.keyrings k WHERE k.type_modifier = r.atttypmod), 0),
                     r.atttypmod);
        queued := queued + 1;
    END LOOP;
    IF queued = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM colcrypt._wake_reencrypt_worker();
    RETURN new_job;
END
$$;
REVOKE EXECUTE ON FUNCTION colcrypt._queue_reencrypt(regclass, integer) FROM PUBLIC;

CREATE FUNCTION colcrypt.reencrypt(tbl regclass DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    new_job bigint;
BEGIN
    IF tbl IS NOT NULL AND (SELECT relkind FROM pg_class WHERE oid = tbl) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'cannot re-encrypt relation %', tbl
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'Only tables and partitioned tables hold values to rewrite; a view holds none, and a materialized view is re-sealed by REFRESH.',
                  HINT = 'Name a table.';
    END IF;
    new_job := colcrypt._queue_reencrypt(tbl, NULL);
    IF new_job IS NULL THEN
        RAISE NOTICE 'no encrypted column to re-encrypt%', CASE WHEN tbl IS NULL THEN '' ELSE format(' in %s', tbl) END;
    END IF;
    RETURN new_job;
END
$$;
COMMENT ON FUNCTION colcrypt.reencrypt(regclass) IS
    'queue background re-encryption of the encrypted columns of a table (every table when NULL); returns the job';

CREATE FUNCTION colcrypt._set_reencrypt_state(job bigint, from_states text[], to_state text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    changed int;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM colcrypt.reencrypt_tasks t WHERE t.job = _set_reencrypt_state.job) THEN
        RAISE EXCEPTION 're-encryption job % does not exist', job
            USING ERRCODE = 'undefined_object', HINT = 'See colcrypt.reencrypt_progress for the jobs.';
    END IF;
    -- Waits for the batch working on a task to commit (the task row's lock).
    -- A task waiting for vacuum that is resumed makes a pass again, then
    -- gets a fresh set of cleanup attempts.
    UPDATE colcrypt.reencrypt_tasks t SET state = to_state, updated_at = now(),
           finished_at = CASE WHEN to_state = 'cancelled' THEN now() ELSE t.finished_at END,
           cleanup_attempts = CASE WHEN t.state = 'waiting for vacuum' THEN 0 ELSE t.cleanup_attempts END,
           cleanup_after = CASE WHEN t.state = 'waiting for vacuum' THEN NULL ELSE t.cleanup_after END
     WHERE t.job = _set_reencrypt_state.job AND t.state = ANY (from_states);
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RAISE NOTICE 're-encryption job % has no task to %', job,
            CASE to_state WHEN 'paused' THEN 'pause' WHEN 'cancelled' THEN 'cancel' ELSE 'resume' END
            USING DETAIL = format('It applies to tasks that are %s.', array_to_string(from_states, ' or '));
    END IF;
    IF to_state IN ('queued', 'running') THEN
        PERFORM colcrypt._wake_reencrypt_worker();
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION colcrypt._set_reencrypt_state(bigint, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt._set_reencrypt_state(bigint, text[], text) TO colcrypt_admin;

CREATE FUNCTION colcrypt.pause_reencrypt(job bigint) RETURNS void LANGUAGE sql AS
    $$ SELECT colcrypt._set_reencrypt_state(job, '{queued,running}', 'paused') $$;
CREATE FUNCTION colcrypt.resume_reencrypt(job bigint) RETURNS void LANGUAGE sql AS
    $$ SELECT colcrypt._set_reencrypt_state(job, '{paused,waiting for vacuum}', 'running') $$;
CREATE FUNCTION colcrypt.cancel_reencrypt(job bigint) RETURNS void LANGUAGE sql AS
    $$ SELECT colcrypt._set_reencrypt_state(job, '{queued,running,paused}', 'cancelled') $$;
COMMENT ON FUNCTION colcrypt.pause_reencrypt(bigint) IS 'pause a re-encryption job after its current batch';
COMMENT ON FUNCTION colcrypt.resume_reencrypt(bigint) IS
    'resume a paused re-encryption job; for a table waiting for vacuum, a pass again and a fresh cleanup';
COMMENT ON FUNCTION colcrypt.cancel_reencrypt(bigint) IS
    'cancel a re-encryption job; values already rewritten stay under the new version';

CREATE PROCEDURE colcrypt.reencrypt_now(tbl regclass, batch_size integer DEFAULT 1000)
    LANGUAGE plpgsql AS $$
DECLARE
    new_job bigint;
    r record;
    total bigint := 0;
    batches bigint := 0;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'batch size must be at least 1' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Leave it out for 1000 rows per batch.';
    END IF;
    new_job := colcrypt.reencrypt(tbl);
    IF new_job IS NULL THEN
        RETURN;
    END IF;
    COMMIT;
    LOOP
        SELECT * INTO r FROM colcrypt._reencrypt_step(new_job, batch_size);
        IF NOT FOUND THEN
            -- Nothing this session can take: done, or the worker holds the
            -- last task for its batch.
            EXIT WHEN NOT EXISTS (SELECT FROM colcrypt.reencrypt_progress p
                                   WHERE p.job = new_job AND p.state IN ('queued', 'running'));
            COMMIT;
            PERFORM pg_sleep(0.1);
            CONTINUE;
        END IF;
        total := total + r.rewritten;
        batches := batches + 1;
        COMMIT;
        IF r.state = 'running' AND r.last_error IS NOT NULL THEN
            RAISE NOTICE 're-encryption of %: %', r.relation, r.last_error;
            PERFORM pg_sleep(1);
        ELSIF r.state = 'failed' THEN
            RAISE WARNING 're-encryption of % failed: %', r.relation, r.last_error;
        ELSIF r.state IN ('waiting for vacuum', 'done') OR batches % 10 = 0 THEN
            RAISE NOTICE 're-encryption job %: % rows rewritten, %: %', new_job, total, r.relation, r.state;
        END IF;
    END LOOP;
    -- The worker cleans up the finished tables (VACUUM, REINDEX CONCURRENTLY),
    -- which a procedure cannot do.
    PERFORM colcrypt._wake_reencrypt_worker();
    RAISE NOTICE 're-encryption job % finished: % rows rewritten in % batches', new_job, total, batches;
END
$$;
COMMENT ON PROCEDURE colcrypt.reencrypt_now(regclass, integer) IS
    're-encrypt a table in the foreground, one transaction per batch';

-- A task is done when the worker's cleanup found nothing left under the old
-- versions.  Without that cleanup (the worker or colcrypt.reencrypt_vacuum
-- off), a finished task whose table was vacuumed after it finished is shown
-- done: its old row versions and their leaf index entries are gone.
CREATE VIEW colcrypt.reencrypt_progress AS
SELECT t.job, t.relation_name AS "table", c.column_name AS "column", k.name AS keyring,
       c.from_versions, c.to_version,
       c.values_done AS rows_done, c.values_left AS rows_left,
       CASE WHEN t.started_at IS NULL THEN NULL
            ELSE round(c.values_done / greatest(extract(epoch FROM coalesce(t.finished_at, t.updated_at, now()) - t.started_at), 0.001), 1)
       END AS rate,
       CASE WHEN c.failed IS NOT NULL AND t.state NOT IN ('failed', 'cancelled') THEN 'failed'
            WHEN t.state = 'waiting for vacuum' AND t.cleanup_attempts = 0
                 AND NOT (current_setting('colcrypt.reencrypt_worker', true) = 'on'
                          AND current_setting('colcrypt.reencrypt_vacuum', true) = 'on')
                 AND greatest(s.last_vacuum, s.last_autovacuum) > t.finished_at THEN 'done'
            ELSE t.state END AS state,
       t.started_at AS started, t.finished_at AS finished, t.passes, t.batches,
       coalesce(c.failed, t.last_error) AS last_error
  FROM colcrypt.reencrypt_tasks t
  JOIN colcrypt.reencrypt_columns c USING (job, relation)
  LEFT JOIN colcrypt.keyrings k ON k.keyring_id = c.keyring_id
  LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid = t.relation;
COMMENT ON VIEW colcrypt.reencrypt_progress IS
    'background re-encryption: per job, table and column, versions, rows done and left, rate, state, last error';
REVOKE ALL ON colcrypt.reencrypt_progress FROM PUBLIC;
GRANT SELECT ON colcrypt.reencrypt_progress TO colcrypt_admin;

REVOKE EXECUTE ON FUNCTION colcrypt.reencrypt(regclass), colcrypt.pause_reencrypt(bigint),
    colcrypt.resume_reencrypt(bigint), colcrypt.cancel_reencrypt(bigint) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE colcrypt.reencrypt_now(regclass, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.reencrypt(regclass), colcrypt.pause_reencrypt(bigint),
    colcrypt.resume_reencrypt(bigint), colcrypt.cancel_reencrypt(bigint) TO colcrypt_admin;
GRANT EXECUTE ON PROCEDURE colcrypt.reencrypt_now(regclass, integer) TO colcrypt_admin;

-- Coverage: which key versions the values of each column are under, from
-- their headers (nothing is decrypted), by retire_key's own physical walk
-- (src/pg/admin/coverage.cpp): columns of domains, arrays, composites and
-- ranges over encrypted types too, and values only in old row versions
-- (which VACUUM removes) apart from the live ones.  The index-key version is
-- the one the data version is bound to (docs/design/reencryption.md,
-- section 1); NULL for transit values.
CREATE FUNCTION colcrypt._coverage_counts(tbl regclass,
        OUT relid oid, OUT attnum smallint, OUT keyring_id integer, OUT version integer,
        OUT live bigint, OUT dead bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'colcrypt_coverage_counts' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION colcrypt._coverage_counts(regclass) IS
    'internal: values per table, column, keyring and version, live and in old row versions (colcrypt.coverage)';
REVOKE EXECUTE ON FUNCTION colcrypt._coverage_counts(regclass) FROM PUBLIC;

-- plpgsql: the body reads key_versions.index_version, which this script
-- adds further down (the blind-index key rotation's section).
CREATE FUNCTION colcrypt.coverage(tbl regclass DEFAULT NULL)
    RETURNS TABLE ("table" regclass, "column" name, keyring text, data_key_version integer,
                   index_key_version integer, "values" bigint, old_row_versions bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    RETURN QUERY
    SELECT c.relid::regclass, coalesce(a.attname, '(unreadable)'::name),
           coalesce(k.name, CASE WHEN c.keyring_id = 0 AND c.version >= 0 THEN '(transit)' END),
           nullif(c.version, -1), CASE WHEN d.version IS NOT NULL THEN coalesce(d.index_version, 1) END,
           c.live, c.dead
      FROM colcrypt._coverage_counts(tbl) c
      LEFT JOIN pg_attribute a ON a.attrelid = c.relid AND a.attnum = c.attnum
      LEFT JOIN colcrypt.keyrings k ON k.keyring_id = c.keyring_id
      LEFT JOIN colcrypt.key_versions d ON d.keyring_id = c.keyring_id AND d.purpose = 'data' AND d.version = c.version
     ORDER BY c.relid::regclass::text, c.attnum, c.keyring_id, c.version;
END
$$;
COMMENT ON FUNCTION colcrypt.coverage(regclass) IS
    'per table and column: keyring, data key version, index key version, values in live rows and in old row versions';
REVOKE EXECUTE ON FUNCTION colcrypt.coverage(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.coverage(regclass) TO colcrypt_admin;

-- Verification: every value decrypted (no plaintext leaves the function),
-- counts and the first failures by ctid.
CREATE FUNCTION colcrypt._value_problem(value colcrypt.encrypted_text) RETURNS text
    AS 'MODULE_PATHNAME', 'colcrypt_value_problem' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt._value_problem(colcrypt.encrypted_text) IS
    'internal: why a value does not decrypt, NULL when it does (colcrypt.verify)';
REVOKE EXECUTE ON FUNCTION colcrypt._value_problem(colcrypt.encrypted_text) FROM PUBLIC;
-- _reencrypt_value and _value_problem for the other types of the family
-- (the C functions read the type from their argument).
DO $family$
DECLARE
    e regtype;
BEGIN
    FOR e IN SELECT unnest(colcrypt._encrypted_types())::regtype EXCEPT SELECT 'colcrypt.encrypted_text'::regtype
    LOOP
        EXECUTE format($f$CREATE FUNCTION colcrypt._reencrypt_value(value %1$s, type_modifier integer) RETURNS %1$s
            AS 'MODULE_PATHNAME', 'colcrypt_reencrypt_value' LANGUAGE C STRICT VOLATILE$f$, e);
        EXECUTE format($f$COMMENT ON FUNCTION colcrypt._reencrypt_value(%s, integer) IS %L$f$, e,
            'internal: the value re-sealed under the active version of its keyring (the re-encryption batches)');
        EXECUTE format($f$CREATE FUNCTION colcrypt._value_problem(value %s) RETURNS text
            AS 'MODULE_PATHNAME', 'colcrypt_value_problem' LANGUAGE C STRICT VOLATILE$f$, e);
        EXECUTE format('REVOKE EXECUTE ON FUNCTION colcrypt._value_problem(%s) FROM PUBLIC', e);
    END LOOP;
END
$family$;

CREATE FUNCTION colcrypt.verify(tbl regclass DEFAULT NULL, max_failures integer DEFAULT 10)
    RETURNS TABLE ("table" regclass, "column" name, checked bigint, failed bigint, first_failures text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid AS relid, a.attname
          FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid = ANY (colcrypt._encrypted_types())
           AND c.relkind IN ('r', 'm') AND NOT pg_is_other_temp_schema(c.relnamespace)
           AND (tbl IS NULL OR c.oid = tbl OR c.oid IN (SELECT relid FROM pg_partition_tree(tbl)))
         ORDER BY c.oid::regclass::text, a.attnum
    LOOP
        RETURN QUERY EXECUTE format(
            'SELECT %s::regclass, %L::name, count(*), count(p.problem),'
            '       string_agg(p.ctid::text || '' '' || p.problem, ''; '' ORDER BY p.ctid) FILTER (WHERE p.rank <= %s)'
            '  FROM (SELECT ctid, problem, CASE WHEN problem IS NOT NULL THEN row_number() OVER (PARTITION BY problem IS NULL ORDER BY ctid) END AS rank'
            '          FROM (SELECT ctid, colcrypt._value_problem(%I) AS problem FROM ONLY %s WHERE %I IS NOT NULL) v) p',
            r.relid, r.attname, max_failures, r.attname, r.relid::regclass, r.attname);
    END LOOP;
END
$$;
COMMENT ON FUNCTION colcrypt.verify(regclass, integer) IS
    'decrypts every value of every encrypted column (of tbl, or of every table): counts and the first failures by ctid';
REVOKE EXECUTE ON FUNCTION colcrypt.verify(regclass, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.verify(regclass, integer) TO colcrypt_admin;

-- ---------------------------------------------------------------------------
-- Keyring transfer between clusters with different master keys (issue 14
-- point 4, docs/design/keyring-transfer.md).
-- ---------------------------------------------------------------------------

-- A keyring's identity across clusters, and the data-key versions this
-- database may make for it, [version_start, version_end): an export gives
-- the recipient the top of the range, so two clusters never make one
-- (keyring id, version) with different keys.
ALTER TABLE colcrypt.keyrings
    ADD COLUMN keyring_uuid uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid() UNIQUE,
    ADD COLUMN version_start integer NOT NULL DEFAULT 1,
    ADD COLUMN version_end integer NOT NULL DEFAULT 2147483647,
    ADD CONSTRAINT keyrings_version_range CHECK (version_start >= 1 AND version_end > version_start);

-- Requests to receive a keyring: the private key is wrapped by the master
-- key and destroyed when a bundle for it is imported.  Local to this
-- database: not dumped.
CREATE TABLE colcrypt.transfer_requests (
    transfer_id            bytea PRIMARY KEY CHECK (length(transfer_id) = 16),
    public_key             bytea NOT NULL CHECK (length(public_key) = 32),
    wrapped_private_key    bytea,
    master_key_fingerprint text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    created_by             text NOT NULL,
    used_at                timestamptz,
    imported_keyring       text,
    CHECK ((used_at IS NULL) = (wrapped_private_key IS NOT NULL))
);
COMMENT ON TABLE colcrypt.transfer_requests IS
    'keyring transfer requests made by colcrypt.transfer_key(); the private key is gone once used';
REVOKE ALL ON colcrypt.transfer_requests FROM PUBLIC;
GRANT SELECT (transfer_id, public_key, master_key_fingerprint, created_at, created_by, used_at, imported_keyring)
    ON colcrypt.transfer_requests TO colcrypt_admin;

CREATE FUNCTION colcrypt.transfer_key() RETURNS text
    AS 'MODULE_PATHNAME', 'colcrypt_transfer_key' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.transfer_key() IS
    'on the target: a one-time recipient for export_keyring (public key and token; the private key stays wrapped here)';
CREATE FUNCTION colcrypt.export_keyring(keyring text, recipient text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'colcrypt_export_keyring' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.export_keyring(text, text) IS
    'on the source: the keyring''s keys sealed for a recipient from transfer_key (X25519, HKDF-SHA256, AES-256-GCM)';
CREATE FUNCTION colcrypt.import_keyring(bundle bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'colcrypt_import_keyring' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.import_keyring(bytea) IS
    'on the target: verifies a bundle made for one of its transfers and rewraps the keys here, decrypt-only; returns the keyring';
REVOKE ALL ON FUNCTION colcrypt.transfer_key(), colcrypt.export_keyring(text, text), colcrypt.import_keyring(bytea)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.transfer_key(), colcrypt.export_keyring(text, text), colcrypt.import_keyring(bytea)
    TO colcrypt_admin;

-- ---------------------------------------------------------------------------
-- Blind-index key rotation (issue 12, docs/design/reencryption.md sections 1
-- and 7): each data-key version is bound to the index key whose terms its
-- values carry, and comparisons order by the keyring's order key until
-- colcrypt.upgrade_index_order cuts over to the new one.
-- ---------------------------------------------------------------------------

-- NULL on index rows; on a data row of a 0.1.0 dump restored here it means
-- index key 1, the only one 0.1.0 made.
ALTER TABLE colcrypt.key_versions ADD COLUMN index_version integer;
UPDATE colcrypt.key_versions SET index_version = 1 WHERE purpose = 'data';
ALTER TABLE colcrypt.key_versions
    ADD CONSTRAINT key_versions_index_binding CHECK (purpose = 'data' OR index_version IS NULL),
    ADD CONSTRAINT key_versions_index_version CHECK (index_version > 0);
COMMENT ON COLUMN colcrypt.key_versions.index_version IS
    'data versions: the blind-index key version whose terms their values carry (NULL: 1)';

ALTER TABLE colcrypt.keyrings
    ADD COLUMN order_index_version integer NOT NULL DEFAULT 1 CHECK (order_index_version > 0);
COMMENT ON COLUMN colcrypt.keyrings.order_index_version IS
    'the blind-index key comparisons and indexes order by; see colcrypt.rotate_index_key and colcrypt.upgrade_index_order';

-- colcrypt.keys names the blind-index key whose terms each data version's
-- values carry (a new column at the end: 0.1.0's columns keep their places).
CREATE OR REPLACE VIEW colcrypt.keys AS
    SELECT k.name AS keyring, v.version, v.state, v.created_at AS created,
           CASE WHEN v.state <> 'retired' THEN coalesce(c.encryptions, 0) ELSE c.encryptions END AS encryptions,
           CASE WHEN v.state <> 'retired' THEN
               greatest(current_setting('colcrypt.nonce_budget', true)::bigint - coalesce(c.encryptions, 0), 0)
           END AS nonce_budget_left,
           v.master_key_fingerprint, k.index_term_bits, k.case_insensitive,
           coalesce(v.index_version, 1) AS index_key_version
      FROM colcrypt.keyrings k
      JOIN colcrypt.key_versions v ON v.keyring_id = k.keyring_id AND v.purpose = 'data'
      LEFT JOIN colcrypt._nonce_counters() c ON c.keyring_id = v.keyring_id AND c.version = v.version;

CREATE FUNCTION colcrypt.rotate_index_key(keyring text) RETURNS integer
    AS 'MODULE_PATHNAME', 'colcrypt_rotate_index_key' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION colcrypt.rotate_index_key(text) IS
    'a new blind-index key and a data key version bound to it, active for writes; returns the index key version';
REVOKE ALL ON FUNCTION colcrypt.rotate_index_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION colcrypt.rotate_index_key(text) TO colcrypt_admin;

COMMENT ON FUNCTION colcrypt.upgrade_index_order(text) IS
    'switch a keyring to index order 2 and/or, after rotate_index_key, to its new blind-index key, rebuilding the indexes of its values; returns how many';

-- ---------------------------------------------------------------------------
-- Indexes over blind-index terms (issue 15, docs/design/lookup-index.md):
-- CREATE INDEX ON t (colcrypt.term(email)) makes `email = x` a descent of an
-- int8 btree; the planner hook adds the term qual and keeps `email = x` as
-- the recheck.
-- ---------------------------------------------------------------------------

DO $terms$
DECLARE
    e text;
BEGIN
    FOR e IN SELECT format('colcrypt.%I', t) FROM unnest(ARRAY['encrypted_text', 'encrypted_bytea',
                 'encrypted_jsonb', 'encrypted_int4', 'encrypted_int8', 'encrypted_numeric', 'encrypted_date',
                 'encrypted_timestamptz']) AS t
    LOOP
        -- Reads the envelope's header: no key, no decryption, so its result
        -- depends on the value's bytes alone.
        EXECUTE format($f$CREATE FUNCTION colcrypt.term(%s) RETURNS bigint
            AS 'MODULE_PATHNAME', 'colcrypt_term' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE$f$, e);
        EXECUTE format($f$COMMENT ON FUNCTION colcrypt.term(%s) IS %L$f$, e,
            'the blind-index term stored in the value, as a number (NULL when its keyring keeps none): what an index for fast equality lookups holds');
    END LOOP;
END
$terms$;

-- Inserted by the planner hook beside `col = x` when col has an index over
-- colcrypt.term(col): x's terms under the keyring's order key (0) and
-- under the key new values are sealed with (1; the same outside a
-- blind-index key rotation), and those of every element of an array.
CREATE FUNCTION colcrypt._search_term(anyelement, integer, integer) RETURNS bigint
    AS 'MODULE_PATHNAME', 'colcrypt_search_term' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._search_term(anyelement, integer, integer) IS
    'internal: the terms a search value has under a column''s keyring, for an index over colcrypt.term()';
CREATE FUNCTION colcrypt._search_terms(anyarray, integer) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'colcrypt_search_terms' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._search_terms(anyarray, integer) IS
    'internal: the terms of every element of an array of search values, for an index over colcrypt.term()';
-- Wrapped around the column of the rechecked comparison, so that the
-- planner reaches its rows through the index over terms, not through an
-- index over the envelopes.
CREATE FUNCTION colcrypt._rechecked(anyelement) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'colcrypt_rechecked' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION colcrypt._rechecked(anyelement) IS
    'internal: its argument; marks the comparison rechecked after a lookup through an index over colcrypt.term()';
