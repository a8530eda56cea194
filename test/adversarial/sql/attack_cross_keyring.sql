-- Laundering: moving a value of a keyring one cannot read into a keyring one
-- can, then reading it there.  The regress suite covers INSERT ... SELECT,
-- UPDATE, casts and foreign envelopes (test/regress/sql/access_control.sql);
-- these are the indirect routes: DDL that rewrites the column, arrays,
-- composites, set operations, conditional expressions, functions that
-- return the value, and comparisons across keyrings.  Every one must fail
-- with 42501 (or refuse to compare), never store a value under the
-- readable keyring.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('ck_secret');
SELECT colcrypt.create_key('ck_mine');
CREATE ROLE ck_outsider;   -- may decrypt ck_mine, not ck_secret
SELECT colcrypt.grant_decrypt('ck_mine', 'ck_outsider');
GRANT CREATE ON SCHEMA public TO ck_outsider;
CREATE TABLE ck_secrets (id int, v colcrypt.encrypted_text('ck_secret'));
INSERT INTO ck_secrets VALUES (1, 'CK-SECRET');
GRANT SELECT ON ck_secrets TO ck_outsider;
CREATE TYPE ck_pair AS (id int, v colcrypt.encrypted_text('ck_mine'));

SET ROLE ck_outsider;
CREATE TABLE ck_mine (id int, v colcrypt.encrypted_text('ck_mine'));
INSERT INTO ck_mine VALUES (1, 'mine');
CREATE TABLE ck_mine_array (vs colcrypt.encrypted_text('ck_mine')[]);
CREATE TABLE ck_mine_pairs (p ck_pair);
-- A table of the outsider's own holding ck_secret values, copied as they
-- are (no grant needed within a keyring).
CREATE TABLE ck_copy (id int, v colcrypt.encrypted_text('ck_secret'));
INSERT INTO ck_copy SELECT id, v FROM ck_secrets;
CREATE FUNCTION ck_try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION ck_identity(x colcrypt.encrypted_text) RETURNS colcrypt.encrypted_text
    LANGUAGE sql AS 'SELECT x';

SELECT route, ck_try(statement) AS outcome FROM (VALUES
    ('ALTER COLUMN TYPE',  $$ALTER TABLE ck_copy ALTER COLUMN v TYPE colcrypt.encrypted_text('ck_mine')$$),
    ('ALTER ... USING',    $$ALTER TABLE ck_copy ALTER COLUMN v TYPE colcrypt.encrypted_text('ck_mine') USING v::text$$),
    ('array',              $$INSERT INTO ck_mine_array SELECT array_agg(v) FROM ck_secrets$$),
    ('array literal',      $$INSERT INTO ck_mine_array SELECT ARRAY[v] FROM ck_secrets$$),
    ('composite',          $$INSERT INTO ck_mine_pairs SELECT ROW(id, v)::ck_pair FROM ck_secrets$$),
    ('UNION',              $$INSERT INTO ck_mine SELECT id, v FROM ck_secrets UNION ALL SELECT id, v FROM ck_mine$$),
    ('COALESCE',           $$INSERT INTO ck_mine SELECT id, coalesce(v, 'x') FROM ck_secrets$$),
    ('CASE',               $$INSERT INTO ck_mine SELECT id, CASE WHEN id > 0 THEN v END FROM ck_secrets$$),
    ('function result',    $$INSERT INTO ck_mine SELECT id, ck_identity(v) FROM ck_secrets$$),
    ('INSERT ... RETURNING', $$WITH m AS (INSERT INTO ck_mine SELECT id, v FROM ck_copy RETURNING v) SELECT 1$$),
    ('CREATE TABLE AS',    $$CREATE TABLE ck_ctas AS SELECT v::colcrypt.encrypted_text('ck_mine') AS v FROM ck_secrets$$),
    ('UPDATE FROM',        $$UPDATE ck_mine m SET v = s.v FROM ck_secrets s$$),
    ('bind function',      $$INSERT INTO ck_mine SELECT id, colcrypt._bind(v, (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'ck_mine'::regclass AND attname = 'v')) FROM ck_secrets$$)
) AS routes(route, statement);
-- Nothing of ck_secret arrived anywhere readable.
SELECT id, v FROM ck_mine;
SELECT count(*) AS array_rows FROM ck_mine_array;
SELECT count(*) AS pair_rows FROM ck_mine_pairs;
SELECT (colcrypt.describe(v)).keyring FROM ck_copy;
-- Comparisons across keyrings are refused rather than decided by plaintext.
SELECT count(*) FROM ck_mine m JOIN ck_secrets s ON m.v = s.v;
SELECT count(*) FROM ck_mine WHERE v IN (SELECT v FROM ck_secrets);
RESET ROLE;

DROP TABLE ck_mine, ck_mine_array, ck_mine_pairs, ck_copy, ck_secrets;
DROP FUNCTION ck_try(text), ck_identity(colcrypt.encrypted_text);
DROP TYPE ck_pair;
REVOKE CREATE ON SCHEMA public FROM ck_outsider;
SELECT colcrypt.revoke_decrypt('ck_mine', 'ck_outsider');
SELECT colcrypt.revoke_decrypt('ck_mine', current_user::regrole);
SELECT colcrypt.revoke_decrypt('ck_secret', current_user::regrole);
DROP ROLE ck_outsider;
