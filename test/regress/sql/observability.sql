-- colcrypt.stats: encryptions, decryptions and failed decryptions per
-- keyring since a reset; colcrypt.health(): the checks a monitoring system
-- calls.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('obs');
CREATE TABLE obs_t (id int, v colcrypt.encrypted_text('obs'), n colcrypt.encrypted_int4('obs'));
SELECT colcrypt.stats_reset() <= now() + interval '1 second' AS reset;
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- 50 rows, two encrypted values each: 100 encryptions.
INSERT INTO obs_t SELECT g, 'value ' || g, g FROM generate_series(1, 50) g;
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- Reading 10 values of one column decrypts 10.
SELECT sum(length(v::text)) FROM obs_t WHERE id <= 10;
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- A lookup decrypts only the row whose term matches, to confirm it (a
-- 64-bit term can collide): one decryption for fifty rows.
SELECT id FROM obs_t WHERE v = 'value 7';
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- Ciphertext output decrypts nothing.
SET colcrypt.output_mode = ciphertext;
SELECT sum(length(colcrypt.encrypted_text_out(v)::text)) > 0 AS envelopes_shown FROM obs_t;
SELECT v AS envelope FROM obs_t WHERE id = 1 \gset
RESET colcrypt.output_mode;
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- A tampered envelope (last base64 character of the tag changed) fails
-- authentication, and counts as a failure.
SELECT CASE WHEN right(:'envelope', 1) = 'A' THEN left(:'envelope', -1) || 'B'
            ELSE left(:'envelope', -1) || 'A' END AS tampered \gset
\set VERBOSITY terse
INSERT INTO obs_t (id, v) VALUES (99, :'tampered');
\set VERBOSITY default
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- Transit values (a literal not yet bound to a keyring) are not a keyring's.
SELECT 'x'::colcrypt.encrypted_text::text AS transit_round_trip;
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
SELECT since <= now() AND since > now() - interval '1 hour' AS since_is_the_reset FROM colcrypt.stats WHERE keyring = 'obs';
SELECT colcrypt.stats_reset() IS NOT NULL AS reset_again;
SELECT encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring = 'obs';
-- A row whose columns are under six keyrings, loaded and read in one
-- transaction: each keyring gets exactly its own counts (a backend keeps
-- counts for a few keyrings at a time and adds the others' as it goes).
SELECT count(colcrypt.create_key('obs_' || k)) AS keyrings FROM generate_series(1, 6) k;
CREATE TABLE obs_wide (id int, a colcrypt.encrypted_text('obs_1'), b colcrypt.encrypted_text('obs_2'),
    c colcrypt.encrypted_text('obs_3'), d colcrypt.encrypted_text('obs_4'), e colcrypt.encrypted_text('obs_5'),
    f colcrypt.encrypted_text('obs_6'));
BEGIN;
INSERT INTO obs_wide SELECT g, 'a', 'b', 'c', 'd', 'e', 'f' FROM generate_series(1, 30) g;
SELECT count(a::text || b::text || c::text || d::text || e::text || f::text) FROM obs_wide WHERE id <= 20;
COMMIT;
SELECT keyring, encryptions, decryptions, failures FROM colcrypt.stats WHERE keyring LIKE 'obs\__' ORDER BY keyring;
DROP TABLE obs_wide;

-- Health: every check ok on a server with its key, keys and launcher.
SELECT "check", status, regexp_replace(regexp_replace(detail, '[0-9a-f]{16}', '<fingerprint>'), '^[0-9]+ keys', 'N keys') AS detail
  FROM colcrypt.health();
-- Who may read them: administrators and pg_monitor, not everyone.
CREATE ROLE obs_monitor IN ROLE pg_monitor;
CREATE ROLE obs_nobody;
SET ROLE obs_monitor;
SELECT count(*) > 0 AS monitor_sees_stats FROM colcrypt.stats;
SELECT count(*) AS monitor_health_checks FROM colcrypt.health();
SELECT colcrypt.stats_reset();
RESET ROLE;
SET ROLE obs_nobody;
SELECT count(*) FROM colcrypt.stats;
SELECT count(*) FROM colcrypt.health();
RESET ROLE;
DROP ROLE obs_monitor, obs_nobody;
DROP TABLE obs_t;
