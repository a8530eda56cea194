-- Laundering through the transaction caches: a result computed under one
-- role's privileges must not serve another role later in the transaction.
-- A role that may decrypt keyring launder_mine but not launder_pii tries to
-- get a launder_pii plaintext re-sealed under launder_mine, which it could
-- then read, from a binding computed by a more privileged role.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('launder_pii');
SELECT colcrypt.create_key('launder_mine');
CREATE ROLE launder_owner;
CREATE ROLE launder_caller;
SELECT colcrypt.grant_decrypt('launder_pii', 'launder_owner');
SELECT colcrypt.grant_decrypt('launder_mine', 'launder_owner');
SELECT colcrypt.grant_decrypt('launder_mine', 'launder_caller');

CREATE TABLE launder_secrets (id int, s colcrypt.encrypted_text('launder_pii'));
INSERT INTO launder_secrets VALUES (1, 'the pii secret');
CREATE TABLE launder_mine (id int, m colcrypt.encrypted_text('launder_mine'));
INSERT INTO launder_mine VALUES (1, 'mine');
GRANT SELECT ON launder_secrets, launder_mine TO launder_caller, launder_owner;
SELECT atttypmod AS mine_typmod FROM pg_attribute
 WHERE attrelid = 'launder_mine'::regclass AND attname = 'm' \gset
SET colcrypt.output_mode = ciphertext;
SELECT s AS pii_envelope FROM launder_secrets \gset
RESET colcrypt.output_mode;

-- A SECURITY DEFINER function of a role with both grants compares a column
-- of launder_mine with a value its caller passes: planning it binds the
-- value to launder_mine, re-sealing it under the owner's privileges.
CREATE FUNCTION launder_check(v text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_catalog
    AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM launder_mine WHERE m = %L', v) INTO n;
    RETURN n;
END $$;
ALTER FUNCTION launder_check(text) OWNER TO launder_owner;

-- 1. Through the definer function, then _bind in the same transaction.
SET ROLE launder_caller;
BEGIN;
SELECT launder_check(:'pii_envelope');
SELECT colcrypt._bind(:'pii_envelope'::colcrypt.encrypted_text, :mine_typmod)::text;
ROLLBACK;

-- 2. After SET LOCAL ROLE, following a query of the privileged role.
RESET ROLE;
SET ROLE launder_owner;
BEGIN;
EXPLAIN (COSTS OFF) SELECT count(*) FROM launder_mine WHERE m = :'pii_envelope';
SET LOCAL ROLE launder_caller;
SELECT colcrypt._bind(:'pii_envelope'::colcrypt.encrypted_text, :mine_typmod)::text;
ROLLBACK;

-- 3. A cursor opened by the privileged role and read after SET ROLE: its
-- _bind call site must not hand its earlier result to the new role.
BEGIN;
DECLARE launder_cursor CURSOR FOR
    SELECT colcrypt._bind(:'pii_envelope'::colcrypt.encrypted_text, :mine_typmod)::text FROM generate_series(1, 2);
FETCH 1 FROM launder_cursor;
SET LOCAL ROLE launder_caller;
FETCH 1 FROM launder_cursor;
ROLLBACK;

-- The privileged role itself still gets its answers.
SELECT launder_check(:'pii_envelope');
RESET ROLE;

DROP FUNCTION launder_check(text);
DROP TABLE launder_secrets, launder_mine;
DROP OWNED BY launder_owner, launder_caller;
DROP ROLE launder_owner, launder_caller;
