-- Blind-index key rotation (docs/design/reencryption.md, sections 1 and 7):
-- the binding of data versions to index keys, comparisons by the order key
-- while values carry terms of two index keys, UNIQUE, GROUP BY, DISTINCT,
-- joins and index scans during the transition, the cut-over, the
-- destruction of the old index key, and the errors.  The worker is off in
-- this instance (regress.conf); test/t/015_index_key_rotation.pl runs the
-- rotation with it and concurrent lookups.
SET colcrypt.blind_index_bits = 16;  -- short terms: ties are broken by full terms, under the order key too
SELECT colcrypt.create_key('ikr');
CREATE TABLE ikr_people (id int PRIMARY KEY, email colcrypt.encrypted_text('ikr') UNIQUE, plain text NOT NULL);
CREATE INDEX ON ikr_people (plain);
INSERT INTO ikr_people SELECT g, 'user' || g || '@example.com', 'user' || g || '@example.com'
  FROM generate_series(1, 400) g;
CREATE TABLE ikr_visits (person colcrypt.encrypted_text('ikr'), plain text NOT NULL);
INSERT INTO ikr_visits SELECT 'user' || (g % 50) || '@example.com', 'user' || (g % 50) || '@example.com'
  FROM generate_series(1, 300) g;
CREATE INDEX ON ikr_visits (person);
ANALYZE ikr_people, ikr_visits;
RESET colcrypt.blind_index_bits;

-- Every data version is bound to an index key; comparisons order by the
-- keyring's order key.
SELECT purpose, version, state, index_version FROM colcrypt.key_versions kv
  JOIN colcrypt.keyrings k USING (keyring_id) WHERE k.name = 'ikr' ORDER BY purpose, version;
SELECT order_index_version FROM colcrypt.keyrings WHERE name = 'ikr';

-- The rotation: index key 2 and data version 2 bound to it, active for
-- writes; index key 1 stays the order key.
SELECT colcrypt.rotate_index_key('ikr');
SELECT purpose, version, state, index_version FROM colcrypt.key_versions kv
  JOIN colcrypt.keyrings k USING (keyring_id) WHERE k.name = 'ikr' ORDER BY purpose, version;
SELECT order_index_version FROM colcrypt.keyrings WHERE name = 'ikr';
-- colcrypt.keys shows the binding to whoever may read it.
SELECT keyring, version, state, index_key_version FROM colcrypt.keys WHERE keyring = 'ikr' ORDER BY version;
SELECT operation, old_version, new_version, detail LIKE 'blind-index key version 2, master key %' AS detail_names_index_key
  FROM colcrypt.key_events WHERE keyring = 'ikr' ORDER BY event_id DESC LIMIT 1;

-- A second half of the rows, under data version 2.
INSERT INTO ikr_people SELECT g, 'user' || g || '@example.com', 'user' || g || '@example.com'
  FROM generate_series(401, 800) g;
INSERT INTO ikr_visits SELECT 'user' || (g % 50) || '@example.com', 'user' || (g % 50) || '@example.com'
  FROM generate_series(301, 600) g;
-- New values carry terms of index key 2: the same plaintext has one stored
-- term per data version, and the two differ (16-bit terms: bytes 17 and 18
-- of these envelopes, after header, keyring id, version and nonce; a
-- chance collision of two 16-bit terms is allowed for a few plaintexts).
SET colcrypt.output_mode = ciphertext;
CREATE TEMP TABLE ikr_terms AS
  SELECT plain, colcrypt._key_version(person) AS version,
         substring(decode(substr(colcrypt.encrypted_text_out(person)::text, 10), 'base64') FROM 17 FOR 2) AS term FROM ikr_visits;
RESET colcrypt.output_mode;
SELECT version, count(DISTINCT plain) AS plaintexts, count(DISTINCT (plain, term)) AS terms
  FROM ikr_terms GROUP BY version ORDER BY version;
SELECT count(*) >= 45 AS terms_differ_between_index_keys
  FROM (SELECT plain FROM ikr_terms GROUP BY plain HAVING count(DISTINCT term) = 2) d;
SELECT "column", data_key_version, index_key_version, "values" FROM colcrypt.coverage('ikr_people') WHERE "values" > 0;

-- Lookups find every row, old and new, through the index.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ikr_people WHERE email = 'user700@example.com';
SELECT id FROM ikr_people WHERE email = 'user700@example.com';
SELECT id FROM ikr_people WHERE email = 'user7@example.com';
SELECT id FROM ikr_people WHERE email IN ('user3@example.com', 'user403@example.com', 'nobody@example.com') ORDER BY id;
-- Every plaintext finds its own row and only it (the text member of the
-- btree family: the term is computed under the order key).
SELECT count(*) AS rows, count(*) FILTER (WHERE (SELECT count(*) FROM ikr_people q WHERE q.email = p.plain) = 1) AS found_once
  FROM ikr_people p;
SELECT count(*) AS rows, count(*) FILTER (WHERE (SELECT count(*) FROM ikr_people q WHERE q.email = p.email) = 1) AS found_once
  FROM ikr_people p;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- UNIQUE never admits a value equal to one stored under the other index key.
INSERT INTO ikr_people VALUES (1001, 'user5@example.com', 'x');
INSERT INTO ikr_people VALUES (1002, 'user405@example.com', 'x');
SELECT count(*) FROM ikr_people;

-- GROUP BY, DISTINCT and joins agree with the plaintext copy, by sort and
-- by index.
SELECT (SELECT count(DISTINCT person) FROM ikr_visits) AS distinct_encrypted,
       (SELECT count(DISTINCT plain) FROM ikr_visits) AS distinct_plain;
SELECT count(*) AS groups, bool_and(n = 12) AS twelve_each
  FROM (SELECT person, count(*) AS n FROM ikr_visits GROUP BY person) g;
SELECT (SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n FROM ikr_visits GROUP BY person) a)
     = (SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(*) AS n FROM ikr_visits GROUP BY plain) b)
       AS same_groups;
SET enable_hashjoin = off;
SELECT (SELECT count(*) FROM ikr_visits v JOIN ikr_people p ON p.email = v.person)
     = (SELECT count(*) FROM ikr_visits v JOIN ikr_people p ON p.plain = v.plain) AS join_agrees,
       (SELECT count(*) FROM ikr_visits v JOIN ikr_people p ON p.email = v.person AND p.plain = v.plain)
     = (SELECT count(*) FROM ikr_visits v JOIN ikr_people p ON p.plain = v.plain) AS join_pairs_agree;
SET enable_mergejoin = off;
SELECT count(*) AS nested_loop_join FROM ikr_visits v JOIN ikr_people p ON p.email = v.person AND p.plain = v.plain;
RESET enable_mergejoin;
RESET enable_hashjoin;
-- ORDER BY gives one order, in which equal values sit together.
SELECT count(*) AS runs FROM (
  SELECT plain, lag(plain) OVER (ORDER BY person, plain) AS before FROM ikr_visits) s
 WHERE before IS DISTINCT FROM plain;

-- The indexes are consistent with the order comparisons use.
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT bt_index_check('ikr_people_email_key', true), bt_index_check('ikr_visits_person_idx', true);

-- Errors during the transition.
SELECT colcrypt.rotate_index_key('ikr');
SELECT colcrypt.upgrade_index_order('ikr');
SELECT colcrypt.transfer_key() AS recipient \gset
SELECT colcrypt.export_keyring('ikr', :'recipient');
SELECT colcrypt.retire_key('ikr', 1);
SELECT colcrypt.rotate_index_key('no_such_keyring');
CREATE ROLE regress_ikr_user;
SET ROLE regress_ikr_user;
SELECT colcrypt.rotate_index_key('ikr');
RESET ROLE;
DROP ROLE regress_ikr_user;

-- Re-encryption brings every value to data version 2 (terms of index key 2).
SET client_min_messages = warning;  -- job numbers depend on the files before
CALL colcrypt.reencrypt_now('ikr_people');
CALL colcrypt.reencrypt_now('ikr_visits');
RESET client_min_messages;
SELECT "table", "column", from_versions, to_version, rows_done, state FROM colcrypt.reencrypt_progress
 WHERE keyring = 'ikr' ORDER BY job;
SELECT "column", data_key_version, index_key_version, "values" FROM colcrypt.coverage('ikr_people') WHERE "values" > 0;
-- Still under the old order key: lookups decrypt, and stay right.
SELECT id FROM ikr_people WHERE email = 'user7@example.com';

-- The cut-over: order key 2, the indexes rebuilt under it.
SELECT colcrypt.upgrade_index_order('ikr');
SELECT order_index_version FROM colcrypt.keyrings WHERE name = 'ikr';
SELECT operation, detail FROM colcrypt.key_events WHERE keyring = 'ikr' ORDER BY event_id DESC LIMIT 1;
SELECT colcrypt.upgrade_index_order('ikr');
SELECT bt_index_check('ikr_people_email_key', true), bt_index_check('ikr_visits_person_idx', true);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ikr_people WHERE email = 'user7@example.com';
SELECT id FROM ikr_people WHERE email = 'user7@example.com';
SELECT count(*) AS rows, count(*) FILTER (WHERE (SELECT count(*) FROM ikr_people q WHERE q.email = p.plain) = 1) AS found_once
  FROM ikr_people p;
RESET enable_seqscan;
RESET enable_bitmapscan;
INSERT INTO ikr_people VALUES (1003, 'user5@example.com', 'x');

-- Index key 1 is destroyed with the last data version bound to it.
SELECT purpose, version, state, index_version FROM colcrypt.key_versions kv
  JOIN colcrypt.keyrings k USING (keyring_id) WHERE k.name = 'ikr' ORDER BY purpose, version;
VACUUM ikr_people, ikr_visits;
ANALYZE ikr_people, ikr_visits;
SELECT colcrypt.retire_key('ikr', 1);
SELECT purpose, version, state, wrapped_key IS NULL AS destroyed, index_version FROM colcrypt.key_versions kv
  JOIN colcrypt.keyrings k USING (keyring_id) WHERE k.name = 'ikr' ORDER BY purpose, version;
SELECT operation, old_version, detail FROM colcrypt.key_events WHERE keyring = 'ikr' ORDER BY event_id DESC LIMIT 1;
SELECT bt_index_check('ikr_people_email_key', true), bt_index_check('ikr_visits_person_idx', true);
SELECT (SELECT count(*) FROM ikr_visits v JOIN ikr_people p ON p.email = v.person)
     = (SELECT count(*) FROM ikr_visits v JOIN ikr_people p ON p.plain = v.plain) AS join_agrees;
SELECT count(*) AS groups FROM (SELECT person FROM ikr_visits GROUP BY person) g;

-- A second rotation starts from index key 2.
SELECT colcrypt.rotate_index_key('ikr');
SELECT id FROM ikr_people WHERE email = 'user9@example.com';
-- This time the old data version is retired before the cut-over: index
-- key 2 stays while it is the order key, and goes at the cut-over.
SET client_min_messages = warning;
CALL colcrypt.reencrypt_now('ikr_people');
CALL colcrypt.reencrypt_now('ikr_visits');
RESET client_min_messages;
VACUUM ikr_people, ikr_visits;
REINDEX TABLE ikr_people;
REINDEX TABLE ikr_visits;
ANALYZE ikr_people, ikr_visits;
SELECT colcrypt.retire_key('ikr', 2);
SELECT purpose, version, state, index_version FROM colcrypt.key_versions kv
  JOIN colcrypt.keyrings k USING (keyring_id) WHERE k.name = 'ikr' ORDER BY purpose, version;
SELECT id FROM ikr_people WHERE email = 'user9@example.com';
SELECT colcrypt.upgrade_index_order('ikr');
SELECT purpose, version, state, index_version FROM colcrypt.key_versions kv
  JOIN colcrypt.keyrings k USING (keyring_id) WHERE k.name = 'ikr' ORDER BY purpose, version;
SELECT operation, detail FROM colcrypt.key_events WHERE keyring = 'ikr' ORDER BY event_id DESC LIMIT 1;
SELECT bt_index_check('ikr_people_email_key', true), bt_index_check('ikr_visits_person_idx', true);
SELECT id FROM ikr_people WHERE email = 'user9@example.com';

DROP TABLE ikr_people, ikr_visits;

-- A search value compared before a rotation in the same transaction: its
-- term is not reused for values whose terms are under the new index key.
SELECT colcrypt.create_key('ikr_tx') > 0 AS created;
CREATE TABLE ikr_tx (id int, v colcrypt.encrypted_text('ikr_tx'));
INSERT INTO ikr_tx VALUES (1, 'same@example.com'), (2, 'other@example.com');
BEGIN;
SET LOCAL enable_indexscan = off;
SELECT id FROM ikr_tx WHERE v = 'same@example.com'::text;
SELECT colcrypt.rotate_index_key('ikr_tx') > 0 AS rotated;
INSERT INTO ikr_tx VALUES (3, 'same@example.com');
SELECT id FROM ikr_tx WHERE v = 'same@example.com'::text ORDER BY id;
COMMIT;
DROP TABLE ikr_tx;
