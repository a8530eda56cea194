-- Indexes over blind-index terms (docs/design/lookup-index.md):
-- colcrypt.term(), the planner hook's term qual beside `col = x` (EXPLAIN
-- for text, untyped and literal operands, IN and = ANY), results against a
-- plaintext copy, forced term collisions, NULLs, what is left alone, spills
-- to disk, and a blind-index key rotation.
SELECT colcrypt.create_key('tix');
-- Plans, with the search terms a plan carries for a constant (random keys)
-- shown as <terms>.
CREATE FUNCTION tix_plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        RETURN NEXT regexp_replace(line, '''(-?[0-9]+|\{[-0-9,]+\})''::bigint(\[\])?', '<terms>', 'g');
    END LOOP;
END
$$;
CREATE TABLE tix_people (id int PRIMARY KEY, email colcrypt.encrypted_text('tix'), plain text NOT NULL);
INSERT INTO tix_people SELECT g, 'user' || g || '@example.com', 'user' || g || '@example.com'
  FROM generate_series(1, 2000) g;
CREATE INDEX tix_people_term ON tix_people (colcrypt.term(email));
ANALYZE tix_people;

-- term(): immutable (it reads the header), one number per plaintext, NULL
-- for NULL.
SELECT p.proname, p.provolatile, p.proparallel, p.prorettype::regtype
  FROM pg_proc p WHERE p.oid = 'colcrypt.term(colcrypt.encrypted_text)'::regprocedure;
SELECT count(DISTINCT colcrypt.term(email)) AS distinct_terms, count(*) AS rows FROM tix_people;
SELECT colcrypt.term('user5@example.com'::colcrypt.encrypted_text('tix'))
     = colcrypt.term(email) AS same_term_for_same_plaintext FROM tix_people WHERE id = 5;
SELECT colcrypt.term(NULL::colcrypt.encrypted_text) IS NULL AS null_term;
-- A keyring without terms has none (and gets no term qual, below).
SET colcrypt.blind_index_bits = 0;
SELECT colcrypt.create_key('tix_noterm');
RESET colcrypt.blind_index_bits;
SELECT colcrypt.term('x'::colcrypt.encrypted_text('tix_noterm')) IS NULL AS no_term;

-- Lookups go through the index over terms; the comparison stays as the
-- recheck.  A literal, an expression, a prepared text parameter, an untyped
-- parameter (a transit value), IN and = ANY.
SELECT tix_plan($q$SELECT id FROM tix_people WHERE email = 'user42@example.com'$q$);
SELECT id FROM tix_people WHERE email = 'user42@example.com';
SELECT tix_plan($q$SELECT id FROM tix_people WHERE email = 'user' || 43 || '@example.com'$q$);
SELECT id FROM tix_people WHERE email = 'user' || 43 || '@example.com';
SET plan_cache_mode = force_generic_plan;
PREPARE tix_text(text) AS SELECT id FROM tix_people WHERE email = $1;
SELECT tix_plan($q$EXECUTE tix_text('user44@example.com')$q$);
EXECUTE tix_text('user44@example.com');
PREPARE tix_untyped AS SELECT id FROM tix_people WHERE email = $1;
SELECT tix_plan($q$EXECUTE tix_untyped('user45@example.com')$q$);
EXECUTE tix_untyped('user45@example.com');
PREPARE tix_varchar(varchar) AS SELECT id FROM tix_people WHERE email = $1;
EXECUTE tix_varchar('user46@example.com');
PREPARE tix_array(text[]) AS SELECT id FROM tix_people WHERE email = ANY($1) ORDER BY id;
SELECT tix_plan($q$EXECUTE tix_array('{user47@example.com,user48@example.com}')$q$);
EXECUTE tix_array('{user47@example.com,user48@example.com,NULL,nobody@example.com}');
-- Forced to scan the table: the search terms are then a filter, evaluated
-- for every row (each call site remembers its last operand's terms).
SET enable_indexscan = off;
SET enable_bitmapscan = off;
PREPARE tix_scan(text) AS SELECT id FROM tix_people WHERE email = $1;
PREPARE tix_scan_array(text[]) AS SELECT id FROM tix_people WHERE email = ANY($1) ORDER BY id;
SELECT tix_plan($q$EXECUTE tix_scan('user44@example.com')$q$);
SELECT tix_plan($q$EXECUTE tix_scan_array('{user47@example.com}')$q$);
EXECUTE tix_scan('user44@example.com');
EXECUTE tix_scan('user45@example.com');
EXECUTE tix_scan_array('{user47@example.com,user48@example.com,NULL,nobody@example.com}');
EXECUTE tix_scan_array('{user49@example.com}');
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET plan_cache_mode;
SELECT tix_plan($q$SELECT id FROM tix_people WHERE email IN ('user1@example.com', 'user2@example.com')$q$);
SELECT id FROM tix_people WHERE email IN ('user1@example.com', 'user2@example.com') ORDER BY id;
-- The reversed comparison, and a correlated operand (a parameter of the
-- outer row).
SELECT id FROM tix_people WHERE 'user49@example.com'::colcrypt.encrypted_text = email;
-- A plaintext on the left ((text, encrypted_text) is the commutator of
-- the column's operator): a literal and a generic plan's text parameter.
SELECT tix_plan($q$SELECT id FROM tix_people WHERE 'user51@example.com'::text = email$q$);
SELECT id FROM tix_people WHERE 'user51@example.com'::text = email;
SET plan_cache_mode = force_generic_plan;
PREPARE tix_text_left(text) AS SELECT id FROM tix_people WHERE $1 = email;
SELECT tix_plan($q$EXECUTE tix_text_left('user52@example.com')$q$);
EXECUTE tix_text_left('user52@example.com');
EXECUTE tix_text_left('nobody@example.com');
RESET plan_cache_mode;
-- The same for another type of the family: an int4 on the left.
CREATE TABLE tix_numbers (id int, n colcrypt.encrypted_int4('tix'));
INSERT INTO tix_numbers SELECT g, g * 7 FROM generate_series(1, 2000) g;
CREATE INDEX ON tix_numbers (colcrypt.term(n));
ANALYZE tix_numbers;
SELECT tix_plan($q$SELECT id FROM tix_numbers WHERE 700 = n$q$);
SELECT id FROM tix_numbers WHERE 700 = n;
DROP TABLE tix_numbers;
SELECT tix_plan($q$SELECT p.id, (SELECT q.id FROM tix_people q WHERE q.email = p.plain) FROM tix_people p WHERE p.id = 50$q$);

-- Every plaintext finds its own row and only it, through the index.
SET enable_seqscan = off;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(q.id) FROM tix_people q WHERE q.email = p.plain) = ARRAY[p.id]) AS found
  FROM tix_people p;
RESET enable_seqscan;

-- NULLs: `email = NULL` is NULL, so no row, and NOT of it none either; a
-- NULL email is never found.
INSERT INTO tix_people VALUES (0, NULL, 'none');
SELECT count(*) AS equal_null FROM tix_people WHERE email = NULL;
SELECT count(*) AS not_equal_null FROM tix_people WHERE NOT (email = NULL);
SELECT count(*) AS null_found FROM tix_people WHERE email = 'none';
-- Only top-level conjuncts get the term qual; under OR and NOT the
-- comparison is left as it is, and gives the same answers.
SELECT count(*) AS or_rows FROM tix_people WHERE email = 'user7@example.com' OR id = 8;
SELECT count(*) AS not_rows,
       (SELECT count(*) FROM tix_people WHERE plain <> 'user7@example.com' AND email IS NOT NULL) AS plain_not_rows
  FROM tix_people WHERE NOT (email = 'user7@example.com');
-- A volatile operand is evaluated once per row, as written: no term qual.
SELECT tix_plan($q$SELECT id FROM tix_people WHERE email = ('user' || (random() * 0)::int || '@example.com')$q$);

-- Forced collisions: 8-bit terms, 2000 values in 256 numbers.  Each lookup
-- returns exactly the rows of its plaintext.
SET colcrypt.blind_index_bits = 8;
SELECT colcrypt.create_key('tix8');
RESET colcrypt.blind_index_bits;
CREATE TABLE tix_short (id int PRIMARY KEY, email colcrypt.encrypted_text('tix8'), plain text NOT NULL);
INSERT INTO tix_short SELECT g, 'user' || (g % 1000) || '@example.com', 'user' || (g % 1000) || '@example.com'
  FROM generate_series(1, 2000) g;
CREATE INDEX ON tix_short (colcrypt.term(email));
ANALYZE tix_short;
SELECT count(DISTINCT colcrypt.term(email)) <= 256 AS at_most_256_terms,
       min(colcrypt.term(email)) >= 0 AND max(colcrypt.term(email)) <= 255 AS one_byte_terms FROM tix_short;
SELECT tix_plan($q$SELECT id FROM tix_short WHERE email = 'user1@example.com'$q$);
SET enable_seqscan = off;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(q.id ORDER BY q.id) FROM tix_short q WHERE q.email = p.plain)
                            = (SELECT array_agg(q.id ORDER BY q.id) FROM tix_short q WHERE q.plain = p.plain)) AS exact
  FROM tix_short p;
-- Terms do collide here (1000 plaintexts, at most 256 terms), so the
-- index over terms returns rows of other plaintexts: the recheck is what
-- removes them.
SELECT count(DISTINCT colcrypt.term(email)) < count(DISTINCT plain) AS terms_collide FROM tix_short;
RESET enable_seqscan;

-- Left alone: a keyring without terms, a partial index, a table with
-- inheritance children.
SELECT colcrypt.create_key('tix_other');
CREATE TABLE tix_noterms (id int, email colcrypt.encrypted_text('tix_noterm'));
INSERT INTO tix_noterms VALUES (1, 'a@example.com');
CREATE INDEX ON tix_noterms (colcrypt.term(email));
SELECT tix_plan($q$SELECT id FROM tix_noterms WHERE email = 'a@example.com'$q$);
SELECT id FROM tix_noterms WHERE email = 'a@example.com';
CREATE TABLE tix_partial (id int, email colcrypt.encrypted_text('tix_other'));
CREATE INDEX ON tix_partial (colcrypt.term(email)) WHERE id > 0;
SELECT tix_plan($q$SELECT id FROM tix_partial WHERE email = 'a@example.com'$q$);
CREATE TABLE tix_parent (id int, email colcrypt.encrypted_text('tix_other'));
CREATE INDEX ON tix_parent (colcrypt.term(email));
CREATE TABLE tix_child () INHERITS (tix_parent);
INSERT INTO tix_child VALUES (1, 'child@example.com');
SELECT tix_plan($q$SELECT id FROM tix_parent WHERE email = 'child@example.com'$q$);
SELECT id FROM tix_parent WHERE email = 'child@example.com';
-- A partitioned table: its partitions have the partitioned index's.
CREATE TABLE tix_parts (id int, email colcrypt.encrypted_text('tix_other')) PARTITION BY RANGE (id);
CREATE TABLE tix_parts_1 PARTITION OF tix_parts FOR VALUES FROM (0) TO (1000);
CREATE TABLE tix_parts_2 PARTITION OF tix_parts FOR VALUES FROM (1000) TO (2000);
CREATE INDEX ON tix_parts (colcrypt.term(email));
INSERT INTO tix_parts SELECT g, 'user' || g || '@example.com' FROM generate_series(0, 1999) g;
ANALYZE tix_parts;
SELECT tix_plan($q$SELECT id FROM tix_parts WHERE email = 'user1500@example.com'$q$);
SELECT id FROM tix_parts WHERE email = 'user1500@example.com';

-- An index made or dropped after a session planned lookups on the table
-- is seen at the next plan.
CREATE TABLE tix_later (id int, email colcrypt.encrypted_text('tix_other'));
INSERT INTO tix_later SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 100) g;
SELECT tix_plan($q$SELECT id FROM tix_later WHERE email = 'user5@example.com'$q$);
CREATE INDEX tix_later_term ON tix_later (colcrypt.term(email));
SET enable_seqscan = off;
SELECT tix_plan($q$SELECT id FROM tix_later WHERE email = 'user5@example.com'$q$);
DROP INDEX tix_later_term;
SELECT tix_plan($q$SELECT id FROM tix_later WHERE email = 'user5@example.com'$q$);
RESET enable_seqscan;
DROP TABLE tix_later;

-- A constant of another keyring is not made a term while planning: _bind
-- re-seals it under the column's keyring at execution (with the decrypt
-- grant on its own, which the keyring's creator holds), as without the
-- index over terms.
SET colcrypt.output_mode = ciphertext;
SELECT email AS tix_other_envelope FROM tix_parts WHERE id = 5 \gset
RESET colcrypt.output_mode;
SELECT tix_plan(format($q$SELECT id FROM tix_people WHERE email = %L::colcrypt.encrypted_text$q$, :'tix_other_envelope'));
SELECT id FROM tix_people WHERE email = :'tix_other_envelope'::colcrypt.encrypted_text;

-- UPDATE and DELETE find their rows the same way.
SELECT tix_plan($q$UPDATE tix_people SET plain = plain WHERE email = 'user60@example.com'$q$);
UPDATE tix_people SET plain = plain WHERE email = 'user60@example.com';
DELETE FROM tix_people WHERE email = 'user61@example.com' RETURNING id;

-- Spills: sorts, hashes and a materialized CTE of looked-up rows with a
-- tiny work_mem write temp files; every value in them is an envelope or a
-- term, and the answers are the plaintext copy's.
SET work_mem = '64kB';
SET enable_seqscan = off;
WITH found AS MATERIALIZED (
  SELECT p.id, p.email FROM tix_people p, generate_series(1, 1500) g WHERE p.email = 'user' || g || '@example.com')
SELECT count(*) AS rows, count(DISTINCT email) AS distinct_values FROM found;
SELECT count(*) AS groups FROM (
  SELECT q.email FROM generate_series(1, 1500) g, LATERAL (SELECT email FROM tix_people WHERE email = 'user' || g || '@example.com') q
  GROUP BY q.email) s;
-- A cursor held past its transaction keeps its rows in a temp file: the
-- looked-up values, and not one plaintext.
BEGIN;
DECLARE tix_held CURSOR WITH HOLD FOR
  SELECT p.email, g FROM generate_series(1, 1500) g, tix_people p
   WHERE p.email = 'user' || g || '@example.com';
COMMIT;
SELECT count(*) > 0 AS spilled FROM pg_ls_tmpdir();
SELECT bool_and(position('@example.com'::bytea IN pg_read_binary_file('base/pgsql_tmp/' || name)) = 0)
       AS no_plaintext_in_temp_files
  FROM pg_ls_tmpdir();
FETCH 2 FROM tix_held;
CLOSE tix_held;
RESET enable_seqscan;
RESET work_mem;

-- A blind-index key rotation: values carry terms under two index keys, and
-- lookups search for both.  A statement prepared before the rotation is
-- planned again (rotate_index_key invalidates plans) and finds new values.
SET plan_cache_mode = force_generic_plan;
PREPARE tix_before(text) AS SELECT id FROM tix_people WHERE email = $1;
EXECUTE tix_before('user70@example.com');
CREATE TEMP TABLE tix_old_term AS SELECT colcrypt.term(email) AS term FROM tix_people WHERE id = 71;
-- A cached plan with a literal carries the literal's term, made under the
-- keys of the moment: each key change plans it again.
CREATE FUNCTION tix_find_71() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT id FROM tix_people WHERE email = 'user71@example.com');
END
$$;
SELECT tix_find_71() AS before_rotation;
SELECT colcrypt.rotate_index_key('tix');
INSERT INTO tix_people VALUES (3001, 'new3001@example.com', 'new3001@example.com');
UPDATE tix_people SET email = 'user71@example.com' WHERE id = 71;  -- re-sealed under the new index key
SELECT colcrypt.term(email) <> (SELECT term FROM tix_old_term) AS terms_differ,
       colcrypt._key_version(email) AS version
  FROM tix_people WHERE id = 71;
EXECUTE tix_before('new3001@example.com');
EXECUTE tix_before('user71@example.com');
EXECUTE tix_before('user72@example.com');
SELECT tix_find_71() AS during_rotation;
SELECT tix_plan($q$SELECT id FROM tix_people WHERE email = 'user71@example.com'$q$);
SELECT tix_plan($q$EXECUTE tix_before('user71@example.com')$q$);
RESET plan_cache_mode;
SET enable_seqscan = off;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(q.id) FROM tix_people q WHERE q.email = p.plain) = ARRAY[p.id]) AS found
  FROM tix_people p WHERE p.email IS NOT NULL;
RESET enable_seqscan;
-- Every value re-encrypted, the cut-over: one term again, every row found.
CALL colcrypt.reencrypt_now('tix_people');
SELECT colcrypt.upgrade_index_order('tix');
SELECT tix_find_71() AS after_cut_over;
SELECT tix_plan($q$SELECT id FROM tix_people WHERE email = 'user71@example.com'$q$);
SET enable_seqscan = off;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(q.id) FROM tix_people q WHERE q.email = p.plain) = ARRAY[p.id]) AS found
  FROM tix_people p WHERE p.email IS NOT NULL;
RESET enable_seqscan;

-- Errors: _search_term of a type it cannot make a term of.
SELECT colcrypt._search_term(1.5::float8, -1, 0);

DROP FUNCTION tix_plan(text), tix_find_71();
DROP TABLE tix_people, tix_short, tix_noterms, tix_partial, tix_parent, tix_child, tix_parts;
