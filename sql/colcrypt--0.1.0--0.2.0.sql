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
