-- Background re-encryption's SQL surface: jobs, batches, control, coverage,
-- verify, errors and permissions.  The worker is off in this instance
-- (regress.conf), so jobs move only when this file moves them; the worker
-- itself is tested by test/t/011-014.
SELECT colcrypt.create_key('rewrap');
-- Autovacuum off: coverage counts the old row versions the batches leave.
CREATE TABLE rewrapped (id int PRIMARY KEY, a colcrypt.encrypted_text('rewrap'),
                        b colcrypt.encrypted_text('rewrap'), c text) WITH (autovacuum_enabled = off);
INSERT INTO rewrapped SELECT g, 'a' || g, 'b' || g, 'c' || g FROM generate_series(1, 2500) g;
CREATE TABLE plain_only (id int);
CREATE VIEW rewrapped_view AS SELECT * FROM rewrapped;
SELECT colcrypt.rotate_key('rewrap');
SELECT "column", keyring, data_key_version, index_key_version, "values" FROM colcrypt.coverage('rewrapped');

-- A job: one row per encrypted column, nothing counted before its first batch.
SELECT colcrypt.reencrypt('rewrapped') AS job \gset
SELECT "table", "column", keyring, from_versions, to_version, rows_done, rows_left, state
  FROM colcrypt.reencrypt_progress WHERE job = :job ORDER BY "column";

-- Pause and resume.
SELECT colcrypt.pause_reencrypt(:job);
SELECT DISTINCT state FROM colcrypt.reencrypt_progress WHERE job = :job;
SELECT colcrypt.pause_reencrypt(:job);
SELECT * FROM colcrypt._reencrypt_step(:job, 1000);
SELECT colcrypt.resume_reencrypt(:job);

-- Batches by hand: 1000 rows each (both columns), then the end of the table.
SELECT job = :job AS this_job, relation, rewritten, state, last_error FROM colcrypt._reencrypt_step(:job, 1000);
SELECT "column", from_versions, to_version, rows_done, rows_left, state
  FROM colcrypt.reencrypt_progress WHERE job = :job ORDER BY "column";
SELECT relation, rewritten, state FROM colcrypt._reencrypt_step(:job, 1000);
SELECT relation, rewritten, state FROM colcrypt._reencrypt_step(:job, 1000);
SELECT count(*) AS no_more FROM colcrypt._reencrypt_step(:job, 1000);
SELECT "column", rows_done, rows_left, state, passes, batches
  FROM colcrypt.reencrypt_progress WHERE job = :job ORDER BY "column";
-- The old row versions the batches left (those page pruning has not
-- removed yet) still hold version 1.
SELECT "column", keyring, data_key_version, "values", old_row_versions > 0 AS old_row_versions
  FROM colcrypt.coverage('rewrapped');
SELECT "column", checked, failed, first_failures FROM colcrypt.verify('rewrapped');
-- VACUUM removes the old row versions, and coverage sees it.
VACUUM rewrapped;
SELECT "column", keyring, data_key_version, "values", old_row_versions FROM colcrypt.coverage('rewrapped');
SELECT count(*) AS unchanged FROM rewrapped WHERE a = 'a' || id AND b = 'b' || id AND c = 'c' || id;
-- A finished job cannot be cancelled.
SELECT colcrypt.cancel_reencrypt(:job);

-- The foreground procedure, after another rotation.
SELECT colcrypt.rotate_key('rewrap');
CALL colcrypt.reencrypt_now('rewrapped', 1000);
SELECT "column", keyring, data_key_version, "values" FROM colcrypt.coverage('rewrapped') WHERE "values" > 0;

-- Cancel.
SELECT colcrypt.reencrypt('rewrapped') AS job2 \gset
SELECT colcrypt.cancel_reencrypt(:job2);
SELECT DISTINCT state FROM colcrypt.reencrypt_progress WHERE job = :job2;
SELECT count(*) AS cancelled_has_no_batch FROM colcrypt._reencrypt_step(:job2, 1000);

-- What fires during a batch (session_replication_role = replica): an
-- ordinary trigger does not, an ALWAYS trigger does (docs/design/reencryption.md).
CREATE TABLE fired (trigger_name text, id int);
CREATE FUNCTION log_fire() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fired VALUES (TG_NAME, NEW.id);
    RETURN NEW;
END $$;
CREATE TABLE triggered (id int PRIMARY KEY, v colcrypt.encrypted_text('rewrap'));
INSERT INTO triggered SELECT g, 'v' || g FROM generate_series(1, 10) g;
CREATE TRIGGER ordinary BEFORE UPDATE ON triggered FOR EACH ROW EXECUTE FUNCTION log_fire();
CREATE TRIGGER always_on BEFORE UPDATE ON triggered FOR EACH ROW EXECUTE FUNCTION log_fire();
ALTER TABLE triggered ENABLE ALWAYS TRIGGER always_on;
SELECT colcrypt.rotate_key('rewrap');
-- It runs with the batch's search_path (pg_catalog, pg_temp), like a
-- trigger in a logical replication apply: unqualified, its table is not
-- found, the batch fails and the task stops with the error.
CALL colcrypt.reencrypt_now('triggered', 1000);
SELECT "table", state, last_error FROM colcrypt.reencrypt_progress WHERE "table" LIKE '%triggered';
CREATE OR REPLACE FUNCTION log_fire() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.fired VALUES (TG_NAME, NEW.id);
    RETURN NEW;
END $$;
CALL colcrypt.reencrypt_now('triggered', 1000);
SELECT trigger_name, count(*) FROM fired GROUP BY 1 ORDER BY 1;
SELECT count(*) AS under_the_new_version FROM triggered
 WHERE colcrypt._key_version(v) = (SELECT version FROM colcrypt.keys WHERE keyring = 'rewrap' AND state = 'active');

-- verify() reports values that do not decrypt, by ctid: here an envelope
-- relabelled to a keyring that does not exist, stored the way a restore
-- stores envelopes it cannot check yet.
SET colcrypt.output_mode = ciphertext;
SELECT v AS envelope FROM triggered WHERE id = 1 \gset
RESET colcrypt.output_mode;
SET check_function_bodies = off;
INSERT INTO triggered VALUES (11, 'colcrypt:' || replace(encode(set_byte(decode(substr(:'envelope', 10), 'base64'), 2, 99), 'base64'), E'\n', ''));
RESET check_function_bodies;
SELECT "column", checked, failed, first_failures FROM colcrypt.verify('triggered');
DROP TABLE triggered, fired;
DROP FUNCTION log_fire();

-- Columns dropped or retyped mid-job: their part of the task stops with
-- the reason, the other columns go on.
CREATE TABLE midway (id int PRIMARY KEY, a colcrypt.encrypted_text('rewrap'), b colcrypt.encrypted_text('rewrap'),
                     c colcrypt.encrypted_text('rewrap'));
INSERT INTO midway SELECT g, 'a' || g, 'b' || g, 'c' || g FROM generate_series(1, 3000) g;
SELECT colcrypt.rotate_key('rewrap');
SELECT colcrypt.reencrypt('midway') AS job3 \gset
SELECT relation, rewritten, state, last_error FROM colcrypt._reencrypt_step(:job3, 1000);
ALTER TABLE midway DROP COLUMN b;
ALTER TABLE midway ALTER COLUMN c TYPE text USING c::text;
SELECT relation, rewritten, state, last_error FROM colcrypt._reencrypt_step(:job3, 1000);
SELECT relation, rewritten, state, last_error FROM colcrypt._reencrypt_step(:job3, 1000);
SELECT relation, rewritten, state, last_error FROM colcrypt._reencrypt_step(:job3, 1000);
SELECT "column", rows_done, rows_left, state, last_error FROM colcrypt.reencrypt_progress WHERE job = :job3 ORDER BY 1;
SELECT count(*) AS a_rewritten FROM midway
 WHERE colcrypt._key_version(a) = (SELECT version FROM colcrypt.keys WHERE keyring = 'rewrap' AND state = 'active');
SELECT count(*) AS c_still_reads FROM midway WHERE c = 'c' || id;

-- A table that forces row security would hide rows from the batch: refused,
-- never a silent skip.
CREATE TABLE hidden (id int PRIMARY KEY, v colcrypt.encrypted_text('rewrap'));
INSERT INTO hidden SELECT g, 'v' || g FROM generate_series(1, 10) g;
ALTER TABLE hidden ENABLE ROW LEVEL SECURITY;
ALTER TABLE hidden FORCE ROW LEVEL SECURITY;
CREATE POLICY only_even ON hidden USING (id % 2 = 0);
SELECT colcrypt.rotate_key('rewrap');
CALL colcrypt.reencrypt_now('hidden', 1000);
SELECT "column", state, last_error FROM colcrypt.reencrypt_progress WHERE "table" LIKE '%hidden';
DROP TABLE midway, hidden;

-- Bad input.
SELECT colcrypt.reencrypt('rewrapped_view');
SELECT colcrypt.reencrypt('plain_only');
SELECT colcrypt.pause_reencrypt(424242);
CALL colcrypt.reencrypt_now('rewrapped', 0);
SELECT * FROM colcrypt._reencrypt_step(NULL, 0);
BEGIN;
CALL colcrypt.reencrypt_now('rewrapped');
ROLLBACK;

-- Every type of the family is re-encrypted, counted and verified, not only
-- encrypted_text; the plaintexts and their equality survive.
SELECT t::regtype FROM unnest(colcrypt._encrypted_types()) t ORDER BY t::regtype::text;
CREATE TABLE typed (id int PRIMARY KEY, n colcrypt.encrypted_int4('rewrap'), j colcrypt.encrypted_jsonb('rewrap'),
                    m colcrypt.encrypted_numeric('rewrap'), d colcrypt.encrypted_date('rewrap'))
  WITH (autovacuum_enabled = off);
INSERT INTO typed SELECT g, g * 7, jsonb_build_object('k', g), g / 4.0, date '2026-01-01' + g
  FROM generate_series(1, 300) g;
CREATE INDEX typed_n ON typed (n);
SELECT colcrypt.rotate_key('rewrap') AS typed_version \gset
SELECT "column", data_key_version = :typed_version AS current, "values" FROM colcrypt.coverage('typed')
 WHERE "values" > 0 ORDER BY 1, 2;
SELECT colcrypt.reencrypt('typed') AS job3 \gset
SELECT "column", from_versions IS NULL AS not_counted_yet, to_version IS NULL AS no_target_yet, state
  FROM colcrypt.reencrypt_progress WHERE job = :job3 ORDER BY "column";
SELECT rewritten, state FROM colcrypt._reencrypt_step(:job3, 1000);
SELECT count(*) AS no_more FROM colcrypt._reencrypt_step(:job3, 1000);
SELECT "column", to_version = :typed_version AS to_current, from_versions = ARRAY[:typed_version - 1] AS from_previous,
       rows_done, rows_left, state
  FROM colcrypt.reencrypt_progress WHERE job = :job3 ORDER BY "column";
SELECT "column", data_key_version = :typed_version AS current, "values" FROM colcrypt.coverage('typed')
 WHERE "values" > 0 ORDER BY 1, 2;
SELECT "column", checked, failed FROM colcrypt.verify('typed') ORDER BY 1;
SELECT count(*) AS unchanged FROM typed
 WHERE n::int4 = id * 7 AND j::jsonb = jsonb_build_object('k', id) AND m::numeric = id / 4.0
   AND d::date = date '2026-01-01' + id;
SET enable_seqscan = off;
SELECT id FROM typed WHERE n = 700;
RESET enable_seqscan;
DROP TABLE typed;

-- Coverage walks values inside composites and arrays, as retire_key's scan
-- does (the worker does not rewrite those: by hand).
CREATE TYPE rewrap_pair AS (v colcrypt.encrypted_text('rewrap'), n int);
CREATE TABLE nested (id int, p rewrap_pair, arr colcrypt.encrypted_text('rewrap')[]);
INSERT INTO nested VALUES (1, ROW('x', 1), ARRAY['a', 'b', NULL]), (2, NULL, '{}');
SELECT "column", keyring, data_key_version = :typed_version AS current, "values", old_row_versions
  FROM colcrypt.coverage('nested');
-- Nor does a job queue them: nothing to queue here.
SELECT colcrypt.reencrypt('nested') IS NULL AS nothing_queued;
DROP TABLE nested;
DROP TYPE rewrap_pair;

-- Only colcrypt_admin and the extension's owner.
CREATE ROLE reencrypt_nobody;
GRANT SELECT, UPDATE ON rewrapped TO reencrypt_nobody;
SET ROLE reencrypt_nobody;
SELECT colcrypt.reencrypt('rewrapped');
SELECT count(*) FROM colcrypt.reencrypt_progress;
SELECT colcrypt.cancel_reencrypt(1);
SELECT * FROM colcrypt.coverage();
RESET ROLE;
DROP OWNED BY reencrypt_nobody;
DROP ROLE reencrypt_nobody;
DROP VIEW rewrapped_view;
DROP TABLE rewrapped, plain_only;
