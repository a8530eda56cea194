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
    SELECT string_agg(format('%s.%I', a.attrelid::regclass, a.attname), ', ' ORDER BY 1)
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
