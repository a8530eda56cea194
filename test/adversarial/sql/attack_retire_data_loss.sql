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
CREATE TYPE loss_range AS RANGE (subtype = colcrypt.encrypted_text);
CREATE TABLE loss_composite (id int, p loss_pair);
CREATE TABLE loss_domains (id int, d loss_d2, ds loss_d1[]);
CREATE TABLE loss_deep (id int, n loss_nested[]);
CREATE TABLE loss_ranges (id int, r loss_range, m loss_multirange);
INSERT INTO loss_composite VALUES (1, ROW('a', 'in a composite'));
INSERT INTO loss_domains VALUES (1, 'in a domain over a domain', ARRAY['in an array of domains']::loss_d1[]);
INSERT INTO loss_deep VALUES (1, ARRAY[ROW(ROW('b', 'nested'), ARRAY['deeper']::loss_d2[])::loss_nested]);
INSERT INTO loss_ranges VALUES (1,
    loss_range('a'::colcrypt.encrypted_text('loss'), 'a'::colcrypt.encrypted_text('loss'), '[]'),
    loss_multirange(loss_range('b'::colcrypt.encrypted_text('loss'), 'b'::colcrypt.encrypted_text('loss'), '[]')));
SELECT colcrypt.rotate_key('loss');
SELECT colcrypt.retire_key('loss', 1);
\echo :LAST_ERROR_SQLSTATE
-- Every value still reads.
SELECT (p).secret FROM loss_composite;
SELECT d, ds FROM loss_domains;
SELECT (n[1]).inner_pair.secret, (n[1]).many FROM loss_deep;
SELECT lower(r)::text, upper(m)::text FROM loss_ranges;
DROP TABLE loss_composite, loss_domains, loss_deep, loss_ranges;
DROP TYPE loss_nested, loss_pair, loss_range;
DROP DOMAIN loss_d2, loss_d1;

-- Dead row versions and index entries: the README's recipe (rotate,
-- rewrite, retire) on a column with a UNIQUE index.
SELECT colcrypt.rotate_key('loss');
CREATE TABLE loss_indexed (id int PRIMARY KEY, v colcrypt.encrypted_text('loss') UNIQUE);
INSERT INTO loss_indexed SELECT g, 'value ' || g FROM generate_series(1, 3000) g;
SELECT colcrypt.rotate_key('loss');
UPDATE loss_indexed SET v = v::text;
SELECT (colcrypt.describe(v)).key_version, count(*) FROM loss_indexed GROUP BY 1;
-- The old row versions are still on disk.
SELECT colcrypt.retire_key('loss', 3);
\echo :LAST_ERROR_SQLSTATE
VACUUM loss_indexed;
-- The leaf entries went with VACUUM; the separators of the inner pages are
-- copies of old values, and a descent still compares with them.
SELECT colcrypt.retire_key('loss', 3);
\echo :LAST_ERROR_SQLSTATE
REINDEX TABLE loss_indexed;
SELECT colcrypt.retire_key('loss', 3);
-- Lookups, duplicates and joins after the retirement: no "retired" error.
SET enable_seqscan = off;
SELECT id FROM loss_indexed WHERE v = 'value 1234';
INSERT INTO loss_indexed VALUES (5000, 'value 7');
\echo :LAST_ERROR_SQLSTATE
RESET enable_seqscan;
SELECT count(*) FROM loss_indexed a JOIN loss_indexed b USING (v);
DROP TABLE loss_indexed;
