-- Columns without a keyring hold transit values, which any role with SELECT
-- reads without a grant, which a master key rotation makes unreadable, and
-- which a restore used to skip ("needs a keyring"), losing the table.  No
-- route may create one; only a restore by a role that restores may, so that
-- old dumps that have one restore whole.  And storing envelopes unverified,
-- the restore path, is not for any role that turns check_function_bodies off.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('kl');
CREATE ROLE kl_user;
GRANT CREATE ON SCHEMA public TO kl_user;
CREATE TABLE kl_source (id int, v colcrypt.encrypted_text('kl'));
INSERT INTO kl_source VALUES (1, 'one');
GRANT SELECT ON kl_source TO kl_user;

-- Every route from a query to a table.
CREATE TABLE kl_ctas AS SELECT 'literal'::colcrypt.encrypted_text AS v;
SELECT v::colcrypt.encrypted_text AS v INTO kl_select_into FROM kl_source;
CREATE MATERIALIZED VIEW kl_matview AS SELECT v::colcrypt.encrypted_text AS v FROM kl_source;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) CREATE TABLE kl_explain AS SELECT 'x'::colcrypt.encrypted_text AS v;
CREATE TABLE kl_array AS SELECT ARRAY['a', 'b']::colcrypt.encrypted_text[] AS a;
PREPARE kl_prepared AS SELECT 'prepared'::colcrypt.encrypted_text AS v;
CREATE TABLE kl_execute AS EXECUTE kl_prepared;
SELECT relname FROM pg_class WHERE relname LIKE 'kl\_%' ORDER BY 1;

-- With a default key, the columns are bound to it and their values sealed
-- under it (the array's elements too).
SET colcrypt.default_key = 'kl';
CREATE TABLE kl_ctas AS SELECT 'literal'::colcrypt.encrypted_text AS v;
CREATE TABLE kl_array AS SELECT ARRAY['a', 'b']::colcrypt.encrypted_text[] AS a;
CREATE MATERIALIZED VIEW kl_matview AS SELECT v::colcrypt.encrypted_text AS v FROM kl_source;
-- A view's stored query is bound too: REFRESH seals its values under the
-- column's keyring, never leaves them as transit values (which any role
-- with SELECT would read without a grant).
CREATE MATERIALIZED VIEW kl_matview_literal AS SELECT 'literal'::colcrypt.encrypted_text AS v;
CREATE MATERIALIZED VIEW kl_matview_later AS SELECT 'later'::colcrypt.encrypted_text AS v WITH NO DATA;
-- (EXECUTE gives the query no chance to be bound: cast in the query.)
CREATE TABLE kl_execute AS EXECUTE kl_prepared;
RESET colcrypt.default_key;
SELECT attrelid::regclass, attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid IN ('kl_ctas'::regclass, 'kl_array'::regclass, 'kl_matview'::regclass) AND attnum > 0
 ORDER BY 1, 2;
SELECT (colcrypt.describe(v)).keyring FROM kl_ctas;
SELECT (colcrypt.describe(a[1])).keyring, (colcrypt.describe(a[2])).keyring FROM kl_array;
REFRESH MATERIALIZED VIEW kl_matview;
SELECT v FROM kl_matview;
REFRESH MATERIALIZED VIEW kl_matview_literal;
REFRESH MATERIALIZED VIEW kl_matview_later;
SELECT (colcrypt.describe(v)).keyring AS refreshed_keyring FROM kl_matview_literal
UNION ALL SELECT (colcrypt.describe(v)).keyring FROM kl_matview_later;
GRANT SELECT ON kl_matview_literal TO kl_user;
SET ROLE kl_user;
SELECT v FROM kl_matview_literal;
RESET ROLE;

-- Range types over encrypted types: refused.
CREATE TYPE kl_range AS RANGE (subtype = colcrypt.encrypted_text);
CREATE DOMAIN kl_domain AS colcrypt.encrypted_text('kl');
CREATE TYPE kl_range AS RANGE (subtype = kl_domain);

-- An ordinary role that turns check_function_bodies off (as a restore
-- script does) gets no keyring-less column and stores nothing unverified.
SET ROLE kl_user;
SET check_function_bodies = off;
CREATE TABLE kl_restored (v colcrypt.encrypted_text);
CREATE TABLE kl_forged (v colcrypt.encrypted_text('kl'));
-- An envelope of a keyring this database does not have (id 99): format 1,
-- 8-byte term, keyring 99, version 1, and bytes that authenticate nothing.
INSERT INTO kl_forged VALUES ('colcrypt:' || encode('\x110863'::bytea || '\x01'::bytea || decode(repeat('00', 44), 'hex'), 'base64'));
SELECT count(*) FROM kl_forged;
RESET check_function_bodies;
RESET ROLE;

-- A superuser restoring: both are allowed, the column with a warning, and
-- the unverified envelope is refused on every read.
SET check_function_bodies = off;
CREATE TABLE kl_restored (v colcrypt.encrypted_text);
INSERT INTO kl_forged VALUES ('colcrypt:' || encode('\x110863'::bytea || '\x01'::bytea || decode(repeat('00', 44), 'hex'), 'base64'));
RESET check_function_bodies;
SELECT count(*) FROM kl_forged;
SELECT v FROM kl_forged;

DROP MATERIALIZED VIEW kl_matview, kl_matview_literal, kl_matview_later;
DROP TABLE kl_source, kl_ctas, kl_array, kl_restored, kl_forged;
DROP DOMAIN kl_domain;
DEALLOCATE kl_prepared;
REVOKE CREATE ON SCHEMA public FROM kl_user;
DROP ROLE kl_user;
