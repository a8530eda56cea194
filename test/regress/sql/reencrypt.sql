-- Background re-encryption's SQL surface: jobs, batches, control, coverage,
-- verify, errors and permissions.  The worker is off in this instance
-- (regress.conf), so jobs move only when this file moves them; the worker
-- itself is tested by test/t/011-014.
SELECT colcrypt.create_key('rewrap');
CREATE TABLE rewrapped (id int PRIMARY KEY, a colcrypt.encrypted_text('rewrap'),
                        b colcrypt.encrypted_text('rewrap'), c text);
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
SELECT "column", keyring, data_key_version, "values" FROM colcrypt.coverage('rewrapped');
SELECT "column", checked, failed, first_failures FROM colcrypt.verify('rewrapped');
SELECT count(*) AS unchanged FROM rewrapped WHERE a = 'a' || id AND b = 'b' || id AND c = 'c' || id;
-- A finished job cannot be cancelled.
SELECT colcrypt.cancel_reencrypt(:job);

-- The foreground procedure, after another rotation.
SELECT colcrypt.rotate_key('rewrap');
CALL colcrypt.reencrypt_now('rewrapped', 1000);
SELECT "column", keyring, data_key_version, "values" FROM colcrypt.coverage('rewrapped');

-- Cancel.
SELECT colcrypt.reencrypt('rewrapped') AS job2 \gset
SELECT colcrypt.cancel_reencrypt(:job2);
SELECT DISTINCT state FROM colcrypt.reencrypt_progress WHERE job = :job2;
SELECT count(*) AS cancelled_has_no_batch FROM colcrypt._reencrypt_step(:job2, 1000);

-- Bad input.
SELECT colcrypt.reencrypt('rewrapped_view');
SELECT colcrypt.reencrypt('plain_only');
SELECT colcrypt.pause_reencrypt(424242);
CALL colcrypt.reencrypt_now('rewrapped', 0);
SELECT * FROM colcrypt._reencrypt_step(NULL, 0);
BEGIN;
CALL colcrypt.reencrypt_now('rewrapped');
ROLLBACK;

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
