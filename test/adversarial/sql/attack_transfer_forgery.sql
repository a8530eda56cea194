-- Keyring transfer (docs/design/keyring-transfer.md): a bundle the target
-- did not ask for must never import.  Relabelled to another open request,
-- sealed with a changed token (all that an attacker who reads the public
-- key lacks), truncated, extended, of another format, replayed; the
-- functions without colcrypt_admin; the wrapped private key unreadable;
-- a transfer private key moved into a data key's slot.  Both sides are this
-- database (an export to itself is a re-import), which is all the checks
-- need: the two-cluster path is test/t/030_keyring_transfer.pl.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('tf');
CREATE TABLE tf_values (id int, v colcrypt.encrypted_text('tf'));
INSERT INTO tf_values VALUES (1, 'TF-SECRET-ONE');
CREATE ROLE tf_admin;
GRANT colcrypt_admin TO tf_admin;
CREATE ROLE tf_outsider;
-- The SQLSTATE and message of a statement (transfer ids masked), or its result.
CREATE FUNCTION tf_try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE query INTO result;
    RETURN 'result: ' || coalesce(result, 'null');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || regexp_replace(SQLERRM, '[0-9a-f]{32}', '<id>', 'g');
END $$;
GRANT EXECUTE ON FUNCTION tf_try(text) TO tf_admin, tf_outsider;

-- Without colcrypt_admin, none of the three runs.
SET ROLE tf_outsider;
SELECT tf_try('SELECT colcrypt.transfer_key()');
SELECT tf_try($$SELECT colcrypt.export_keyring('tf', 'x')::text$$);
SELECT tf_try($$SELECT colcrypt.import_keyring('\x00')$$);
SELECT tf_try('SELECT count(*)::text FROM colcrypt.transfer_requests');
RESET ROLE;

SET ROLE tf_admin;
SELECT colcrypt.transfer_key() AS r1 \gset
SELECT colcrypt.transfer_key() AS r2 \gset
-- Requests are visible to administrators, their wrapped private keys not.
SELECT count(*) AS requests, bool_and(length(public_key) = 32) AS public_keys FROM colcrypt.transfer_requests;
SELECT tf_try('SELECT count(wrapped_private_key)::text FROM colcrypt.transfer_requests');
SELECT encode(colcrypt.export_keyring('tf', :'r1'), 'hex') AS b1 \gset
-- The bundle's transfer id is r1's; r2's id is the other open request.
SELECT substring(decode(substr(:'r2', 19), 'base64') from 2 for 16) = substring(decode(:'b1', 'hex') from 6 for 16) AS b1_names_r2;
SELECT substring(decode(substr(:'r1', 19), 'base64') from 2 for 16) = substring(decode(:'b1', 'hex') from 6 for 16) AS b1_names_r1;

-- Relabelled to r2 (also open): its key and token are not the bundle's.
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)',
    overlay(decode(:'b1', 'hex') placing substring(decode(substr(:'r2', 19), 'base64') from 2 for 16) from 6 for 16)));
-- Sealed for r1's public key with another token: what an attacker who
-- read the public key in colcrypt.transfer_requests could make.
SELECT overlay(:'r1' placing CASE WHEN substr(:'r1', 119, 1) = 'A' THEN 'B' ELSE 'A' END from 119 for 1) AS forged \gset
SELECT :'forged' <> :'r1' AS token_changed;
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)', colcrypt.export_keyring('tf', :'forged')));
-- Cut, extended, another format, another magic, empty, garbage.
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)', substring(decode(:'b1', 'hex') from 1 for length(decode(:'b1', 'hex')) - 1)));
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)', decode(:'b1', 'hex') || '\x00'::bytea));
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)', set_byte(decode(:'b1', 'hex'), 4, 2)));
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)', set_byte(decode(:'b1', 'hex'), 0, 0)));
SELECT tf_try($$SELECT colcrypt.import_keyring('\x')$$);
SELECT tf_try($$SELECT colcrypt.import_keyring(decode(repeat('43434b5401', 40), 'hex'))$$);
-- Recipients that are not one.
SELECT tf_try($$SELECT colcrypt.export_keyring('tf', '')::text$$);
SELECT tf_try(format('SELECT colcrypt.export_keyring(%L, %L)::text', 'tf', substr(:'r1', 1, 60)));
SELECT tf_try(format('SELECT colcrypt.export_keyring(%L, %L)::text', 'tf', :'r1' || '='));
-- The genuine bundle still imports (nothing above used the request): an
-- export to the same database is a re-import that adds nothing.
SELECT colcrypt.import_keyring(decode(:'b1', 'hex'));
-- Once.
SELECT tf_try(format('SELECT colcrypt.import_keyring(%L)', decode(:'b1', 'hex')));
SELECT count(*) FILTER (WHERE used_at IS NOT NULL) AS used, count(*) FILTER (WHERE used_at IS NULL) AS open
  FROM colcrypt.transfer_requests;
RESET ROLE;

-- A transfer's wrapped private key moved into a data key's slot does not
-- unwrap there: its associated data names the transfer, not the slot.
SELECT wrapped_private_key AS open_key FROM colcrypt.transfer_requests WHERE used_at IS NULL \gset
SELECT wrapped_key AS original_key FROM colcrypt.key_versions
 WHERE keyring_id = (SELECT keyring_id FROM colcrypt.keyrings WHERE name = 'tf') AND purpose = 'data' AND version = 1 \gset
UPDATE colcrypt.key_versions SET wrapped_key = :'open_key'
 WHERE keyring_id = (SELECT keyring_id FROM colcrypt.keyrings WHERE name = 'tf') AND purpose = 'data' AND version = 1;
\c
SELECT tf_try('SELECT v::text FROM tf_values');
UPDATE colcrypt.key_versions SET wrapped_key = :'original_key'
 WHERE keyring_id = (SELECT keyring_id FROM colcrypt.keyrings WHERE name = 'tf') AND purpose = 'data' AND version = 1;
\c
SELECT tf_try('SELECT v::text FROM tf_values');
DROP TABLE tf_values;
DROP FUNCTION tf_try(text);
DROP ROLE tf_admin;
DROP ROLE tf_outsider;
