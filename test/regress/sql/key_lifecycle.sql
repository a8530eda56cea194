-- Key lifecycle: rotation, retirement, the keys view and the audit trail.
SELECT colcrypt.create_key('lifecycle');
CREATE TABLE rotated (id int, v colcrypt.encrypted_text('lifecycle'));
INSERT INTO rotated VALUES (1, 'written under version 1');

-- Rotation: a new active version; the previous one becomes decrypt-only.
SELECT colcrypt.rotate_key('lifecycle') AS new_version;
INSERT INTO rotated VALUES (2, 'written under version 2');
SELECT id, v, (colcrypt.describe(v)).key_version FROM rotated ORDER BY id;
SELECT keyring, version, state FROM colcrypt.keys WHERE keyring = 'lifecycle' ORDER BY version;
-- Only the data key rotates; the blind-index key stays (rotate_index_key).
SELECT v.purpose, v.version, v.state, length(v.wrapped_key) AS wrapped_bytes
  FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)
 WHERE k.name = 'lifecycle' ORDER BY v.purpose, v.version;

-- A rotation that rolls back leaves nothing behind.
BEGIN;
SELECT colcrypt.rotate_key('lifecycle') AS rolled_back_version;
ROLLBACK;
SELECT colcrypt.rotate_key('lifecycle') AS new_version;
INSERT INTO rotated VALUES (3, 'written under version 3');
SELECT id, v, (colcrypt.describe(v)).key_version FROM rotated ORDER BY id;

-- The keys view counts encryptions per version; the budget left is the
-- budget minus that count.
SELECT keyring, version, state, encryptions,
       nonce_budget_left = current_setting('colcrypt.nonce_budget')::bigint - encryptions AS budget_left_ok
  FROM colcrypt.keys WHERE keyring = 'lifecycle' ORDER BY version;

SELECT colcrypt.rotate_key('missing');
\echo :LAST_ERROR_SQLSTATE

-- Retirement is refused for the active version and for versions in use,
-- with the count and the columns that hold them.
SELECT colcrypt.retire_key('lifecycle', 3);
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.retire_key('lifecycle', 9);
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.retire_key('lifecycle', 1);
\echo :LAST_ERROR_SQLSTATE

-- Every kind of column that can hold a value is found: arrays, domains,
-- partitions, materialized views, and tables made from queries.  Copies of
-- a value keep its key version (composites and ranges: the adversarial
-- suite, attack_retire_data_loss).
CREATE DOMAIN lifecycle_secret AS colcrypt.encrypted_text('lifecycle');
CREATE TABLE rotated_kinds (id int, many colcrypt.encrypted_text('lifecycle')[], d lifecycle_secret);
INSERT INTO rotated_kinds SELECT id, ARRAY[v, v], v FROM rotated WHERE id = 1;
CREATE TABLE rotated_parts (id int, v colcrypt.encrypted_text('lifecycle')) PARTITION BY RANGE (id);
CREATE TABLE rotated_parts_low PARTITION OF rotated_parts FOR VALUES FROM (0) TO (100);
INSERT INTO rotated_parts SELECT id, v FROM rotated WHERE id = 1;
CREATE MATERIALIZED VIEW rotated_view AS SELECT id, v FROM rotated WHERE id = 1;
-- A table made from a query gets no keyring-less column: refused without a
-- default key, bound to it otherwise (values of that keyring keep theirs).
CREATE TABLE rotated_loose AS SELECT id, v::colcrypt.encrypted_text AS v FROM rotated WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SET colcrypt.default_key = 'lifecycle';
CREATE TABLE rotated_loose AS SELECT id, v::colcrypt.encrypted_text AS v FROM rotated WHERE id = 1;
RESET colcrypt.default_key;
-- Columns of other keyrings are not scanned.
CREATE TABLE other_keyring (v colcrypt.encrypted_text('pii'));
INSERT INTO other_keyring VALUES ('another keyring');
SELECT (colcrypt.describe(many[1])).key_version AS array_1, (colcrypt.describe(many[2])).key_version AS array_2,
       (colcrypt.describe(d)).key_version AS domain_version
  FROM rotated_kinds;
SELECT attrelid::regclass, attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'rotated_loose'::regclass AND attname = 'v';
SELECT colcrypt.retire_key('lifecycle', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.retire_key('lifecycle', 2);
\echo :LAST_ERROR_SQLSTATE

-- Keep an envelope of a version-2 value, as a ciphertext dump would.
SET colcrypt.output_mode = ciphertext;
CREATE TABLE saved (envelope text);
INSERT INTO saved SELECT colcrypt.encrypted_text_out(v)::text FROM rotated WHERE id = 2;
RESET colcrypt.output_mode;
SELECT (colcrypt.describe(envelope::colcrypt.encrypted_text)).key_version AS saved_version FROM saved;

-- Re-encrypt everything under the active version, then retire.
UPDATE rotated SET v = v::text;
UPDATE rotated_kinds SET many = many::text[], d = d::text;
UPDATE rotated_parts SET v = v::text;
REFRESH MATERIALIZED VIEW rotated_view;
UPDATE rotated_loose SET v = v::text::colcrypt.encrypted_text('lifecycle');
SELECT id, v, (colcrypt.describe(v)).key_version FROM rotated ORDER BY id;
SELECT (colcrypt.describe(v)).key_version AS loose_version FROM rotated_loose;
-- The old row versions stay on disk until VACUUM removes them, and older
-- snapshots may still read them: retirement waits for the vacuum.
SELECT colcrypt.retire_key('lifecycle', 1);
\echo :LAST_ERROR_SQLSTATE
VACUUM ANALYZE rotated, rotated_kinds, rotated_parts_low, rotated_loose;
SELECT colcrypt.retire_key('lifecycle', 1);
SELECT colcrypt.retire_key('lifecycle', 2);
-- Retiring twice is harmless.
SELECT colcrypt.retire_key('lifecycle', 1);

-- The wrapped keys are destroyed.
SELECT v.version, v.state, v.wrapped_key IS NULL AS key_destroyed
  FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)
 WHERE k.name = 'lifecycle' AND v.purpose = 'data' ORDER BY v.version;
-- Retired versions no longer count encryptions, nor have a budget.
SELECT keyring, version, state, encryptions IS NULL AS not_counted, nonce_budget_left IS NULL AS no_budget
  FROM colcrypt.keys WHERE keyring = 'lifecycle' ORDER BY version;

-- A value kept elsewhere under a retired version can no longer be read,
-- nor stored again.
SELECT envelope::colcrypt.encrypted_text('lifecycle') FROM saved;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO rotated SELECT 4, envelope FROM saved;
\echo :LAST_ERROR_SQLSTATE
-- The rows that were re-encrypted still read.
SELECT id, v FROM rotated ORDER BY id;
SELECT many, d FROM rotated_kinds;

-- The audit trail: every operation that committed, and nothing else.
-- Fingerprints differ per installation and are masked.
SELECT operation, keyring, old_version, new_version,
       replace(regexp_replace(detail, '[0-9a-f]{16}', '<fingerprint>', 'g'),
               format('"%s"', current_user), '"<me>"') AS detail,
       session_user_name = session_user AS by_session_user, current_user_name = current_user AS by_current_user,
       event_time <= clock_timestamp() AS timed
  FROM colcrypt.key_events WHERE keyring = 'lifecycle' ORDER BY event_id;

-- Administrators: members of colcrypt_admin run key operations and read the
-- audit trail, which no one but its owner may change.
CREATE ROLE regress_key_admin IN ROLE colcrypt_admin;
CREATE ROLE regress_key_user;
SET ROLE regress_key_admin;
SELECT colcrypt.create_key('admin_made');
SELECT colcrypt.rotate_key('admin_made');
SELECT operation, keyring, new_version, session_user_name = session_user AS session_user_kept,
       current_user_name AS acting_role
  FROM colcrypt.key_events WHERE keyring = 'admin_made' ORDER BY event_id;
DELETE FROM colcrypt.key_events;
\echo :LAST_ERROR_SQLSTATE
UPDATE colcrypt.key_events SET detail = 'forged';
\echo :LAST_ERROR_SQLSTATE
TRUNCATE colcrypt.key_events;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO colcrypt.key_events (session_user_name, current_user_name, operation) VALUES ('x', 'x', 'create');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Other roles run no key operation and cannot read the audit trail.
SET ROLE regress_key_user;
SELECT colcrypt.rotate_key('admin_made');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.retire_key('admin_made', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.rotate_master_key();
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.grant_decrypt('admin_made', 'regress_key_user');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.revoke_decrypt('admin_made', 'regress_key_admin');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM colcrypt.key_events;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM colcrypt.decrypt_grants;
\echo :LAST_ERROR_SQLSTATE
-- The keys view stays readable.
SELECT keyring, version, state FROM colcrypt.keys WHERE keyring = 'admin_made' ORDER BY version;
RESET ROLE;

-- Master key rotation needs the previous key configured (the TAP test
-- t/004_master_key_rotation.pl covers the rotation itself).
SELECT colcrypt.rotate_master_key();
\echo :LAST_ERROR_SQLSTATE

DROP ROLE regress_key_user;
-- regress_key_admin holds a decrypt grant (it created admin_made): revoke
-- it before dropping the role.
SELECT colcrypt.revoke_decrypt('admin_made', 'regress_key_admin');
DROP ROLE regress_key_admin;
