-- Blind-index equality: every query shape against a plaintext copy of the
-- same data.  Each shape shows its plan next to the plaintext table's plan,
-- and its result is compared with the plaintext result both ways (EXCEPT).
SELECT colcrypt.create_key('lookup');
-- 8-bit terms: 3000 distinct names share 256 terms, so terms collide
-- constantly and every match must be confirmed by decrypting.
SET colcrypt.blind_index_bits = 8;
SELECT colcrypt.create_key('tiny');
RESET colcrypt.blind_index_bits;

CREATE TABLE people_plain (id int PRIMARY KEY, email text, name text);
INSERT INTO people_plain
    SELECT g, 'user' || (g % 9000) || '@example.com', 'name-' || (g % 3000)
      FROM generate_series(1, 12000) g;
CREATE TABLE people (
    id    int PRIMARY KEY,
    email colcrypt.encrypted_text('lookup'),
    name  colcrypt.encrypted_text('tiny')
);
INSERT INTO people SELECT id, email, name FROM people_plain;
CREATE INDEX ON people (email);
CREATE INDEX ON people (name);
CREATE INDEX ON people_plain (email);
CREATE INDEX ON people_plain (name);
ANALYZE people, people_plain;
-- Whether a lookup is an index scan or a bitmap scan depends on the
-- correlation statistic, which for an encrypted column follows its random
-- keys (values sort by term).  Bitmap scans are off, for both tables, so
-- that the plans below do not change from run to run.
SET enable_bitmapscan = off;

-- 'same: N rows' when both queries return the same multiset of rows.
CREATE FUNCTION same_rows(encrypted_query text, plain_query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
    extra bigint;
    total bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) d', plain_query, encrypted_query) INTO missing;
    EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) d', encrypted_query, plain_query) INTO extra;
    EXECUTE format('SELECT count(*) FROM (%s) d', plain_query) INTO total;
    IF missing = 0 AND extra = 0 THEN
        RETURN format('same: %s rows', total);
    END IF;
    RETURN format('DIFFERENT: %s missing, %s extra', missing, extra);
END $$;

-- = with a literal (parsed before the column's keyring is known).
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email = 'user42@example.com';
EXPLAIN (COSTS OFF) SELECT id FROM people_plain WHERE email = 'user42@example.com';
SELECT same_rows($$SELECT id FROM people WHERE email = 'user42@example.com'$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);

-- = with a text value.
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email = 'user42@example.com'::text;
SELECT same_rows($$SELECT id FROM people WHERE email = 'user42@example.com'::text$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);
SELECT same_rows($$SELECT id FROM people WHERE 'user42@example.com'::text = email$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);
-- Two keys on the index column, of different types: the btree cannot
-- compare them with each other (no (text, text) member), so it applies both.
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email = 'user42@example.com'::text AND email = 'user42@example.com';
SELECT same_rows($$SELECT id FROM people WHERE email = 'user42@example.com'::text AND email = 'user42@example.com'$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);
SELECT same_rows($$SELECT id FROM people WHERE email = 'user42@example.com'::text AND email = 'user43@example.com'::text$$,
                 $$SELECT id FROM people_plain WHERE false$$);

-- <> (a sequential scan on both).
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email <> 'user42@example.com';
SELECT same_rows($$SELECT id FROM people WHERE email <> 'user42@example.com'$$,
                 $$SELECT id FROM people_plain WHERE email <> 'user42@example.com'$$);

-- Several literals in one qual, each compared with every row; and a search
-- value longer than the comparison caches take.
SELECT same_rows($$SELECT id FROM people WHERE email = 'user1@example.com' OR email = 'user2@example.com'
                     OR email = 'user3@example.com' OR email = 'user4@example.com' OR email = 'user5@example.com'
                     OR email = 'user6@example.com' OR email = 'nobody'$$,
                 $$SELECT id FROM people_plain WHERE email IN ('user1@example.com', 'user2@example.com',
                     'user3@example.com', 'user4@example.com', 'user5@example.com', 'user6@example.com')$$);
SELECT same_rows($$SELECT id FROM people WHERE email = repeat('x', 2000)::colcrypt.encrypted_text
                     OR email = 'user42@example.com'$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);

-- IN (...) and = ANY(array).
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email IN ('user1@example.com', 'user2@example.com', 'nobody');
EXPLAIN (COSTS OFF) SELECT id FROM people_plain WHERE email IN ('user1@example.com', 'user2@example.com', 'nobody');
SELECT same_rows($$SELECT id FROM people WHERE email IN ('user1@example.com', 'user2@example.com', 'nobody')$$,
                 $$SELECT id FROM people_plain WHERE email IN ('user1@example.com', 'user2@example.com', 'nobody')$$);
SELECT same_rows($$SELECT id FROM people WHERE email = ANY (ARRAY['user5@example.com', 'user6@example.com']::text[])$$,
                 $$SELECT id FROM people_plain WHERE email = ANY (ARRAY['user5@example.com', 'user6@example.com'])$$);
SELECT same_rows($$SELECT id FROM people WHERE email NOT IN ('user1@example.com', 'user2@example.com')$$,
                 $$SELECT id FROM people_plain WHERE email NOT IN ('user1@example.com', 'user2@example.com')$$);

-- Prepared statements: text, encrypted and inferred parameters, custom and
-- generic plans.
PREPARE by_text(text) AS SELECT id FROM people WHERE email = $1 ORDER BY id;
PREPARE by_value(colcrypt.encrypted_text) AS SELECT id FROM people WHERE email = $1 ORDER BY id;
PREPARE by_inferred AS SELECT id FROM people WHERE email = $1 ORDER BY id;
PREPARE by_array(text[]) AS SELECT id FROM people WHERE email = ANY ($1) ORDER BY id;
PREPARE plain_by_text(text) AS SELECT id FROM people_plain WHERE email = $1;
EXPLAIN (COSTS OFF) EXECUTE by_text('user7@example.com');
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_text('user7@example.com');
EXPLAIN (COSTS OFF) EXECUTE by_value('user7@example.com');
EXPLAIN (COSTS OFF) EXECUTE by_inferred('user7@example.com');
EXPLAIN (COSTS OFF) EXECUTE by_array('{user7@example.com,user8@example.com}');
EXPLAIN (COSTS OFF) EXECUTE plain_by_text('user7@example.com');
EXECUTE by_text('user7@example.com');
EXECUTE by_value('user7@example.com');
EXECUTE by_inferred('user7@example.com');
EXECUTE by_array('{user7@example.com,user8@example.com}');
-- The same parameter bound again and again (the memoised binding), then
-- another: each execution gives its own answer.
EXECUTE by_text('user9@example.com');
EXECUTE by_text('user9@example.com');
EXECUTE by_text('user10@example.com');
EXECUTE by_text('nobody');
RESET plan_cache_mode;
-- Reads spend none of the column key's nonce budget: a literal or an
-- untyped parameter is compared as the transit value it arrives as, never
-- sealed again under the column's keyring.  (Array elements are: the btree
-- sorts them in the index's order.)
CREATE TEMP TABLE encryptions_before AS
    SELECT sum(encryptions) AS n FROM colcrypt.keys WHERE keyring = 'lookup';
SET plan_cache_mode = force_generic_plan;
EXECUTE by_inferred('user7@example.com');
EXECUTE by_inferred('user8@example.com');
RESET plan_cache_mode;
EXECUTE by_inferred('user9@example.com');
SELECT count(*) FROM people WHERE email = 'user42@example.com';
SELECT count(*) FROM people WHERE email <> 'user42@example.com';
SELECT (SELECT sum(encryptions) FROM colcrypt.keys WHERE keyring = 'lookup') - n AS encryptions_by_reads
  FROM encryptions_before;

-- Joins between columns of one keyring.
CREATE TABLE contacts (email colcrypt.encrypted_text('lookup'));
CREATE TABLE contacts_plain (email text);
INSERT INTO contacts_plain SELECT 'user' || (g * 7) || '@example.com' FROM generate_series(1, 40) g;
INSERT INTO contacts SELECT email FROM contacts_plain;
ANALYZE contacts, contacts_plain;
EXPLAIN (COSTS OFF) SELECT p.id FROM contacts c JOIN people p ON p.email = c.email;
EXPLAIN (COSTS OFF) SELECT p.id FROM contacts_plain c JOIN people_plain p ON p.email = c.email;
SELECT same_rows($$SELECT p.id FROM contacts c JOIN people p ON p.email = c.email$$,
                 $$SELECT p.id FROM contacts_plain c JOIN people_plain p ON p.email = c.email$$);
-- A merge join, forced.
SET enable_hashjoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT p.id FROM contacts c JOIN people p ON p.email = c.email;
SELECT same_rows($$SELECT p.id FROM contacts c JOIN people p ON p.email = c.email$$,
                 $$SELECT p.id FROM contacts_plain c JOIN people_plain p ON p.email = c.email$$);
RESET enable_hashjoin;
RESET enable_nestloop;
-- Against a plaintext column: each text value is looked up through the
-- index as it is (the operator family's (encrypted_text, text) member).
EXPLAIN (COSTS OFF) SELECT p.id FROM contacts_plain c JOIN people p ON p.email = c.email;
SELECT same_rows($$SELECT p.id FROM contacts_plain c JOIN people p ON p.email = c.email$$,
                 $$SELECT p.id FROM contacts_plain c JOIN people_plain p ON p.email = c.email$$);
-- A nested loop makes one index descent per outer row, each through a new
-- FmgrInfo for the (encrypted_text, text) support function: nothing may
-- pile up in the query's memory (it once kept ~350 bytes per descent).
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_seqscan = off;
SET enable_memoize = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM people_plain p JOIN people e ON e.email = p.email;
BEGIN;
DECLARE nested CURSOR FOR SELECT count(*) FROM people_plain p JOIN people e ON e.email = p.email;
FETCH ALL FROM nested;
SELECT max(total_bytes) < 1024 * 1024 AS executor_memory_bounded
  FROM pg_backend_memory_contexts WHERE name = 'ExecutorState';
COMMIT;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_seqscan;
RESET enable_memoize;
-- Semi-join: IN (subquery).
SELECT same_rows($$SELECT id FROM people WHERE email IN (SELECT email FROM contacts)$$,
                 $$SELECT id FROM people_plain WHERE email IN (SELECT email FROM contacts_plain)$$);

-- GROUP BY and DISTINCT (sorted: there is no hash operator class).
EXPLAIN (COSTS OFF) SELECT email, count(*) FROM people GROUP BY email;
SELECT same_rows($$SELECT email::text, count(*) FROM people GROUP BY email$$,
                 $$SELECT email, count(*) FROM people_plain GROUP BY email$$);
EXPLAIN (COSTS OFF) SELECT DISTINCT email FROM people;
SELECT same_rows($$SELECT DISTINCT email::text FROM (SELECT DISTINCT email FROM people) d$$,
                 $$SELECT DISTINCT email FROM people_plain$$);
SELECT (SELECT count(DISTINCT email) FROM people) AS encrypted_distinct,
       (SELECT count(DISTINCT email) FROM people_plain) AS plain_distinct;

-- Truncated terms collide: 8-bit terms over 3000 distinct names.  Every
-- lookup, join and group still gives exactly the plaintext answer.
SELECT count(DISTINCT name) > 256 AS terms_must_collide FROM people_plain;
SELECT count(*) AS wrong_lookups
  FROM (SELECT DISTINCT name FROM people_plain) d
 WHERE (SELECT count(*) FROM people WHERE people.name = d.name)
    <> (SELECT count(*) FROM people_plain WHERE people_plain.name = d.name);
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE name = 'name-17';
SELECT same_rows($$SELECT id FROM people WHERE name = 'name-17'$$,
                 $$SELECT id FROM people_plain WHERE name = 'name-17'$$);
-- The same lookups with text operands, through the index: the btree
-- places the text among colliding terms by its plaintext.
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE name = 'name-17'::text;
SELECT count(*) AS wrong_text_lookups
  FROM (SELECT DISTINCT name FROM people_plain) d
 WHERE (SELECT array_agg(id ORDER BY id) FROM people WHERE people.name = d.name::text)
    IS DISTINCT FROM (SELECT array_agg(id ORDER BY id) FROM people_plain WHERE people_plain.name = d.name);
-- And with transit operands (what a literal or an untyped parameter is),
-- through the index alike.
EXPLAIN (COSTS OFF) SELECT id FROM people WHERE name = 'name-17'::text::colcrypt.encrypted_text;
SELECT count(*) AS wrong_transit_lookups
  FROM (SELECT DISTINCT name FROM people_plain) d
 WHERE (SELECT array_agg(id ORDER BY id) FROM people WHERE people.name = d.name::colcrypt.encrypted_text)
    IS DISTINCT FROM (SELECT array_agg(id ORDER BY id) FROM people_plain WHERE people_plain.name = d.name);
SELECT same_rows($$SELECT name::text, count(*) FROM people GROUP BY name$$,
                 $$SELECT name, count(*) FROM people_plain GROUP BY name$$);
SELECT same_rows($$SELECT a.id, b.id FROM people a JOIN people b ON a.name = b.name WHERE a.id < 300$$,
                 $$SELECT a.id, b.id FROM people_plain a JOIN people_plain b ON a.name = b.name WHERE a.id < 300$$);

-- UNIQUE and ON CONFLICT.
CREATE TABLE accounts (id serial, email colcrypt.encrypted_text('lookup') UNIQUE, visits int DEFAULT 1);
INSERT INTO accounts (email) VALUES ('a@example.com'), ('b@example.com');
INSERT INTO accounts (email) VALUES ('a@example.com');
\echo :LAST_ERROR_SQLSTATE
EXPLAIN (COSTS OFF) INSERT INTO accounts (email) VALUES ('a@example.com')
    ON CONFLICT (email) DO UPDATE SET visits = accounts.visits + 1;
INSERT INTO accounts (email) VALUES ('a@example.com'), ('c@example.com')
    ON CONFLICT (email) DO UPDATE SET visits = accounts.visits + 1;
INSERT INTO accounts (email) VALUES ('b@example.com') ON CONFLICT (email) DO NOTHING;
-- EXCLUDED is stored as it is: no double encryption.
INSERT INTO accounts (email) VALUES ('c@example.com')
    ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email, visits = accounts.visits + 10;
SELECT email, visits, (colcrypt.describe(email)).keyring FROM accounts ORDER BY email::text;
-- Unique on a tiny-term keyring: different names with colliding terms are
-- not duplicates.
CREATE TABLE tiny_unique (name colcrypt.encrypted_text('tiny') UNIQUE);
INSERT INTO tiny_unique SELECT DISTINCT name FROM people_plain;
SELECT count(*) AS distinct_names_accepted FROM tiny_unique;
INSERT INTO tiny_unique VALUES ('name-5');
\echo :LAST_ERROR_SQLSTATE

-- Different keyrings cannot be compared through their terms: an error, never
-- a wrong answer; the plaintexts can.
CREATE TABLE emails_under_tiny (email colcrypt.encrypted_text('tiny'));
INSERT INTO emails_under_tiny VALUES ('user5@example.com');
SELECT p.id FROM people p JOIN emails_under_tiny o ON p.email = o.email;
\echo :LAST_ERROR_SQLSTATE
SELECT p.id FROM people p JOIN emails_under_tiny o ON p.email::text = o.email::text;

-- Values without a keyring on both sides compare by plaintext.
SELECT 'x'::colcrypt.encrypted_text = 'x'::colcrypt.encrypted_text AS same,
       'x'::colcrypt.encrypted_text = 'y'::colcrypt.encrypted_text AS different,
       'x'::colcrypt.encrypted_text <> 'y'::text AS not_equal_text;

-- A keyring without index terms: lookups still correct (by decrypting).
SET colcrypt.blind_index_bits = 0;
SELECT colcrypt.create_key('no_terms');
RESET colcrypt.blind_index_bits;
CREATE TABLE no_terms (id int, v colcrypt.encrypted_text('no_terms'));
INSERT INTO no_terms SELECT id, email FROM people_plain WHERE id <= 500;
CREATE INDEX ON no_terms (v);
SELECT (colcrypt.describe(v)).index_term_bits FROM no_terms LIMIT 1;
SELECT same_rows($$SELECT id FROM no_terms WHERE v = 'user42@example.com'$$,
                 $$SELECT id FROM people_plain WHERE id <= 500 AND email = 'user42@example.com'$$);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM no_terms WHERE v = 'user42@example.com'::text;
SELECT same_rows($$SELECT id FROM no_terms WHERE v = 'user42@example.com'::text$$,
                 $$SELECT id FROM people_plain WHERE id <= 500 AND email = 'user42@example.com'$$);
RESET enable_seqscan;
SELECT same_rows($$SELECT v::text, count(*) FROM no_terms GROUP BY v$$,
                 $$SELECT email, count(*) FROM people_plain WHERE id <= 500 GROUP BY email$$);

-- 128-bit terms are conclusive: equal terms decide = and the btree order
-- without decrypting.  Every shape still gives the plaintext answer
-- (people_plain.email repeats: 9000 distinct values in 12000 rows).
SET colcrypt.blind_index_bits = 128;
SELECT colcrypt.create_key('wide');
SET colcrypt.blind_index_bits = 256;
SELECT colcrypt.create_key('widest', case_insensitive => true);
RESET colcrypt.blind_index_bits;
CREATE TABLE wide (id int, email colcrypt.encrypted_text('wide'), shout colcrypt.encrypted_text('widest'));
INSERT INTO wide SELECT id, email, CASE WHEN id % 2 = 0 THEN upper(email) ELSE email END FROM people_plain;
CREATE INDEX ON wide (email);
CREATE INDEX ON wide (shout);
ANALYZE wide;
SELECT (colcrypt.describe(email)).index_term_bits AS email_bits, (colcrypt.describe(shout)).index_term_bits AS shout_bits
  FROM wide LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM wide WHERE email = 'user42@example.com'::text;
SELECT same_rows($$SELECT id FROM wide WHERE email = 'user42@example.com'::text$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);
SELECT same_rows($$SELECT id FROM wide WHERE email = 'user42@example.com'$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);
SELECT same_rows($$SELECT id FROM wide WHERE email IN ('user1@example.com', 'user2@example.com', 'nobody')$$,
                 $$SELECT id FROM people_plain WHERE email IN ('user1@example.com', 'user2@example.com', 'nobody')$$);
SELECT same_rows($$SELECT id FROM wide WHERE email <> 'user42@example.com'::text$$,
                 $$SELECT id FROM people_plain WHERE email <> 'user42@example.com'$$);
SELECT same_rows($$SELECT email::text, count(*) FROM wide GROUP BY email$$,
                 $$SELECT email, count(*) FROM people_plain GROUP BY email$$);
SELECT same_rows($$SELECT w.id FROM contacts_plain c JOIN wide w ON w.email = c.email$$,
                 $$SELECT p.id FROM contacts_plain c JOIN people_plain p ON p.email = c.email$$);
SELECT same_rows($$SELECT a.id, b.id FROM wide a JOIN wide b ON a.email = b.email WHERE a.id < 2000$$,
                 $$SELECT a.id, b.id FROM people_plain a JOIN people_plain b ON a.email = b.email WHERE a.id < 2000$$);
SELECT same_rows($$SELECT id FROM wide WHERE shout = 'USER42@example.com'::text$$,
                 $$SELECT id FROM people_plain WHERE email = 'user42@example.com'$$);
SELECT same_rows($$SELECT lower(shout::text), count(*) FROM wide GROUP BY shout$$,
                 $$SELECT email, count(*) FROM people_plain GROUP BY email$$);
CREATE UNIQUE INDEX ON wide (email);
\echo :LAST_ERROR_SQLSTATE

-- Plaintext stays out of constraint errors (and so out of the server log).
CREATE TABLE checked (id int, v colcrypt.encrypted_text('lookup') NOT NULL, CHECK (id > 0));
INSERT INTO checked VALUES (-1, 'secret-in-check');
INSERT INTO checked VALUES (1, NULL);
INSERT INTO accounts (email) VALUES ('a@example.com');

-- Case-insensitive keyrings (e-mail addresses): terms and comparisons ignore
-- ASCII case; values keep the case they were written in.
SELECT colcrypt.create_key('emails_ci', case_insensitive => true);
SELECT keyring, case_insensitive FROM colcrypt.keys WHERE keyring IN ('lookup', 'emails_ci') ORDER BY 1;
CREATE TABLE ci_plain (id int, email text);
INSERT INTO ci_plain SELECT id, email FROM people_plain WHERE id <= 1000;
INSERT INTO ci_plain SELECT id + 100000, upper(email) FROM people_plain WHERE id <= 1000;
CREATE TABLE ci (id int, email colcrypt.encrypted_text('emails_ci'));
INSERT INTO ci SELECT id, email FROM ci_plain;
CREATE INDEX ON ci (email);
ANALYZE ci;
EXPLAIN (COSTS OFF) SELECT id FROM ci WHERE email = 'User42@Example.COM';
SELECT id, email FROM ci WHERE email = 'User42@Example.COM' ORDER BY id;
SELECT same_rows($$SELECT id FROM ci WHERE email = 'uSER42@example.com'$$,
                 $$SELECT id FROM ci_plain WHERE lower(email) = 'user42@example.com'$$);
EXPLAIN (COSTS OFF) SELECT id FROM ci WHERE email = 'uSER42@example.com'::text;
SELECT same_rows($$SELECT id FROM ci WHERE email = 'uSER42@example.com'::text$$,
                 $$SELECT id FROM ci_plain WHERE lower(email) = 'user42@example.com'$$);
SELECT same_rows($$SELECT id FROM ci WHERE email <> 'uSER42@example.com'$$,
                 $$SELECT id FROM ci_plain WHERE lower(email) <> 'user42@example.com'$$);
SELECT same_rows($$SELECT lower(email::text), count(*) FROM ci GROUP BY email$$,
                 $$SELECT lower(email), count(*) FROM ci_plain GROUP BY lower(email)$$);
CREATE TABLE ci_unique (email colcrypt.encrypted_text('emails_ci') UNIQUE);
INSERT INTO ci_unique VALUES ('Alice@Example.com');
INSERT INTO ci_unique VALUES ('alice@example.COM');
\echo :LAST_ERROR_SQLSTATE
-- Only ASCII letters fold: É and é are different.
INSERT INTO ci_unique VALUES ('ÉLODIE@example.com'), ('élodie@example.com');
SELECT email FROM ci_unique ORDER BY email::text;
-- A case-sensitive keyring keeps case distinct.
SELECT count(*) AS case_sensitive_matches FROM people WHERE email = 'USER42@EXAMPLE.COM';

-- Many search values at once: each row's qual compares with twenty
-- plaintexts (more than the transaction's term cache holds, so entries are
-- replaced while the scan runs), under two keyrings in one qual, and in
-- one transaction that looks the first values up again after the others.
-- A remembered search term must never answer for another value or keyring.
SET enable_indexscan = off;
SELECT same_rows(
    $$SELECT id FROM people WHERE email = ANY (ARRAY(SELECT 'user' || g || '@example.com' FROM generate_series(1, 20) g))$$,
    $$SELECT id FROM people_plain WHERE email = ANY (ARRAY(SELECT 'user' || g || '@example.com' FROM generate_series(1, 20) g))$$);
SELECT same_rows(
    $$SELECT id FROM people WHERE email = 'user7@example.com'::text OR name = 'name-7'::text OR email = 'user8@example.com'::text$$,
    $$SELECT id FROM people_plain WHERE email = 'user7@example.com' OR name = 'name-7' OR email = 'user8@example.com'$$);
RESET enable_indexscan;
BEGIN;
SELECT string_agg(same_rows(format('SELECT id FROM people WHERE email = %L::text', 'user' || g % 25 || '@example.com'),
                            format('SELECT id FROM people_plain WHERE email = %L', 'user' || g % 25 || '@example.com')),
                  ', ' ORDER BY g) ~ 'DIFFERENT' AS any_different,
       count(*) AS lookups
  FROM generate_series(1, 60) g;
COMMIT;
