-- retire_key must never destroy a key a stored value still needs.  0.1.0
-- missed values inside composites, arrays of domains and domains over
-- domains (it destroyed the key and the values became unreadable), and
-- dead index entries that lookups still compare with.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('loss');

-- Values hidden in every type that can contain one.
CREATE DOMAIN loss_d1 AS colcrypt.encrypted_text('loss');
CREATE DOMAIN loss_d2 AS loss_d1;
CREATE TYPE loss_pair AS (label text, secret colcrypt.encrypted_text('loss'));
CREATE TYPE loss_nested AS (inner_pair loss_pair, many loss_d2[]);
-- (Range types over encrypted types are refused: attack_keyringless_columns.)
CREATE TABLE loss_composite (id int, p loss_pair);
CREATE TABLE loss_domains (id int, d loss_d2, ds loss_d1[]);
CREATE TABLE loss_deep (id int, n loss_nested[]);
INSERT INTO loss_composite VALUES (1, ROW('a', 'in a composite'));
INSERT INTO loss_domains VALUES (1, 'in a domain over a domain', ARRAY['in an array of domains']::loss_d1[]);
INSERT INTO loss_deep VALUES (1, ARRAY[ROW(ROW('b', 'nested'), ARRAY['deeper']::loss_d2[])::loss_nested]);
SELECT colcrypt.rotate_key('loss');
SELECT colcrypt.retire_key('loss', 1);
\echo :LAST_ERROR_SQLSTATE
-- Every value still reads.
SELECT (p).secret FROM loss_composite;
SELECT d, ds FROM loss_domains;
SELECT (n[1]).inner_pair.secret, (n[1]).many FROM loss_deep;
DROP TABLE loss_composite, loss_domains, loss_deep;
DROP TYPE loss_nested, loss_pair;
DROP DOMAIN loss_d2, loss_d1;

-- Dead row versions and index entries: the README's recipe (rotate,
-- rewrite, retire) on a column with a UNIQUE index.  How many entries the
-- inner pages hold depends on how the random terms split the pages: the
-- outcome is shown with the counts masked.
CREATE FUNCTION pg_temp.retire_outcome(keyring text, version int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    PERFORM colcrypt.retire_key(keyring, version);
    RETURN 'retired';
EXCEPTION WHEN object_in_use THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN regexp_replace(SQLERRM, 'by [0-9]+', 'by N') || E'\nHINT: ' || hint;
END $$;
SELECT colcrypt.rotate_key('loss');
CREATE TABLE loss_indexed (id int PRIMARY KEY, v colcrypt.encrypted_text('loss') UNIQUE);
INSERT INTO loss_indexed SELECT g, 'value ' || g FROM generate_series(1, 3000) g;
SELECT colcrypt.rotate_key('loss');
UPDATE loss_indexed SET v = v::text;
SELECT (colcrypt.describe(v)).key_version, count(*) FROM loss_indexed GROUP BY 1;
VACUUM ANALYZE loss_indexed;
-- The leaf entries went with VACUUM; the separators of the inner pages are
-- copies of old values, and a descent still compares with them.
SELECT pg_temp.retire_outcome('loss', 3);
REINDEX TABLE loss_indexed;
SELECT pg_temp.retire_outcome('loss', 3);
-- Lookups, duplicates and joins after the retirement: no "retired" error.
SET enable_seqscan = off;
SELECT id FROM loss_indexed WHERE v = 'value 1234';
INSERT INTO loss_indexed VALUES (5000, 'value 7');
\echo :LAST_ERROR_SQLSTATE
RESET enable_seqscan;
SELECT count(*) FROM loss_indexed a JOIN loss_indexed b USING (v);
DROP TABLE loss_indexed;

-- Planner statistics: ANALYZE keeps sample values (most common values, an
-- extended MCV list), which the planner compares query constants with.
-- After the recipe without ANALYZE they are still under the old version.
CREATE TABLE loss_stats (id int, v colcrypt.encrypted_text('loss'));
INSERT INTO loss_stats SELECT g, 'common ' || (g % 3) FROM generate_series(1, 600) g;
CREATE STATISTICS loss_stats_mcv (mcv) ON id, v FROM loss_stats;
ANALYZE loss_stats;
SELECT colcrypt.rotate_key('loss');
UPDATE loss_stats SET v = v::text;
VACUUM loss_stats;
SELECT pg_temp.retire_outcome('loss', 4);
ANALYZE loss_stats;
SELECT pg_temp.retire_outcome('loss', 4);
-- Planning a lookup of a common value compares it with the samples.
SELECT id FROM loss_stats WHERE v = 'common 1' AND id = 4;
SELECT count(*) FROM loss_stats WHERE v = 'common 1';
DROP TABLE loss_stats;

-- A GIN index on an array of encrypted values: its keys are the elements,
-- and GIN keeps a key after the rows holding it are gone.
CREATE TABLE loss_tags (id int, tags colcrypt.encrypted_text('loss')[]);
CREATE INDEX loss_tags_gin ON loss_tags USING gin (tags);
INSERT INTO loss_tags SELECT g, ARRAY['tag ' || (g % 7), 'tag ' || (g % 5)] FROM generate_series(1, 200) g;
SELECT colcrypt.rotate_key('loss');
DELETE FROM loss_tags;
INSERT INTO loss_tags SELECT g, ARRAY['tag ' || (g % 7), 'tag ' || (g % 5)] FROM generate_series(1, 200) g;
VACUUM ANALYZE loss_tags;
SELECT pg_temp.retire_outcome('loss', 5);
REINDEX INDEX loss_tags_gin;
SELECT pg_temp.retire_outcome('loss', 5);
SET enable_seqscan = off;
SELECT count(*) FROM loss_tags WHERE tags @> ARRAY['tag 3']::colcrypt.encrypted_text('loss')[];
RESET enable_seqscan;
DROP TABLE loss_tags;

-- Values stored out of line in dead row versions whose TOAST chunks a
-- vacuum of the TOAST table alone already removed: "vacuum first", not a
-- corruption error.
CREATE TABLE loss_toast (id int, v colcrypt.encrypted_text('loss'));
ALTER TABLE loss_toast ALTER COLUMN v SET STORAGE EXTERNAL;
INSERT INTO loss_toast SELECT g, repeat('long value ' || g, 400) FROM generate_series(1, 5) g;
SELECT colcrypt.rotate_key('loss');
UPDATE loss_toast SET v = v::text;
SELECT reltoastrelid::regclass AS toast FROM pg_class WHERE oid = 'loss_toast'::regclass \gset
VACUUM :toast;
SELECT pg_temp.retire_outcome('loss', 6);
VACUUM ANALYZE loss_toast;
SELECT pg_temp.retire_outcome('loss', 6);
SELECT count(*), min(length(v::text)) > 4000 AS long FROM loss_toast;
DROP TABLE loss_toast;
