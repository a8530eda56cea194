-- During a blind-index key rotation values carry terms of two index keys
-- (docs/design/reencryption.md, section 7).  An attacker with INSERT and
-- UPDATE on a table tries to slip a duplicate past UNIQUE through either
-- key: plain values, envelopes sealed under the new data version, an
-- envelope saved before the rotation replayed after its row was
-- re-encrypted, UPDATE, COPY, ON CONFLICT; and to cut over early with a
-- value hidden in a composite.  Every attempt is refused.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SET colcrypt.blind_index_bits = 16;
SELECT colcrypt.create_key('rot');
RESET colcrypt.blind_index_bits;
CREATE TABLE rot_users (id int PRIMARY KEY, email colcrypt.encrypted_text('rot') UNIQUE);
INSERT INTO rot_users SELECT g, 'u' || g FROM generate_series(1, 200) g;
CREATE TYPE rot_pair AS (label text, secret colcrypt.encrypted_text('rot'));
CREATE TABLE rot_hidden (id int, p rot_pair);
INSERT INTO rot_hidden VALUES (1, ROW('a', 'hidden'));
-- An envelope of 'u7' under data version 1 (index key 1), saved for later.
SET colcrypt.output_mode = ciphertext;
SELECT colcrypt.encrypted_text_out(email)::text AS old_u7 FROM rot_users WHERE id = 7 \gset
RESET colcrypt.output_mode;

SELECT colcrypt.rotate_index_key('rot');
CREATE ROLE regress_rot_app;
GRANT SELECT, INSERT, UPDATE ON rot_users TO regress_rot_app;
-- An application role: it reads what it writes.
SELECT colcrypt.grant_decrypt('rot', 'regress_rot_app');
SET ROLE regress_rot_app;

-- A plain duplicate of a value under index key 1.
INSERT INTO rot_users VALUES (1001, 'u5');
\echo :LAST_ERROR_SQLSTATE
-- An envelope sealed under data version 2 (terms of index key 2) of a
-- value stored under index key 1, inserted as ciphertext.
SET colcrypt.output_mode = ciphertext;
SELECT colcrypt.encrypted_text_out('u6'::colcrypt.encrypted_text('rot'))::text AS new_u6 \gset
RESET colcrypt.output_mode;
SELECT (colcrypt.describe(:'new_u6'::colcrypt.encrypted_text('rot'))).key_version AS sealed_under;
INSERT INTO rot_users VALUES (1002, :'new_u6');
\echo :LAST_ERROR_SQLSTATE
COPY rot_users FROM stdin;
1003	u8
\.
\echo :LAST_ERROR_SQLSTATE
-- UPDATE a row to another row's value.
UPDATE rot_users SET email = 'u9' WHERE id = 10;
\echo :LAST_ERROR_SQLSTATE
-- ON CONFLICT finds the conflict across index keys.
INSERT INTO rot_users VALUES (1004, 'u11') ON CONFLICT (email) DO NOTHING;
SELECT count(*) AS inserted FROM rot_users WHERE id > 1000;
RESET ROLE;

-- The row of 'u7' is re-encrypted under version 2; the envelope saved
-- under version 1 is replayed as a new row.
UPDATE rot_users SET email = email::text WHERE id = 7;
SELECT (colcrypt.describe(email)).key_version AS u7_now_under FROM rot_users WHERE id = 7;
SET ROLE regress_rot_app;
INSERT INTO rot_users VALUES (1005, :'old_u7');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS rows, count(DISTINCT email) AS distinct_values FROM rot_users;

-- Only administrators rotate and cut over.
SET ROLE regress_rot_app;
SELECT colcrypt.rotate_index_key('rot');
SELECT colcrypt.upgrade_index_order('rot');
RESET ROLE;

-- Every column is re-encrypted, but a value hidden in a composite is not
-- (the job does not rewrite composites): the cut-over still sees it.
UPDATE rot_users SET email = email::text;
SELECT colcrypt.upgrade_index_order('rot');
\echo :LAST_ERROR_SQLSTATE
UPDATE rot_hidden SET p = ROW((p).label, (p).secret::text);
SELECT colcrypt.upgrade_index_order('rot');
SELECT id FROM rot_users WHERE email = 'u7';
SELECT (p).secret FROM rot_hidden;

DROP TABLE rot_users, rot_hidden;
DROP TYPE rot_pair;
SELECT colcrypt.revoke_decrypt('rot', 'regress_rot_app');
DROP ROLE regress_rot_app;
