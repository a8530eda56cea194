# Background re-encryption (docs/design/reencryption.md): after rotate_key
# the worker rewrites a table with two encrypted columns by itself, values
# and plaintexts unchanged, no application trigger fired; its cleanup
# (VACUUM, REINDEX CONCURRENTLY, the check) makes the job done, after which
# retire_key of the old version succeeds and lookups, UNIQUE and GROUP BY
# still work (amcheck).  Then pause, resume, cancel, a table dropped
# mid-job, the foreground procedure, and the cleanup off, or kept waiting by
# an old snapshot.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use ColcryptTest;

my $rows = 100_000;
my $node = colcrypt_node('reencrypt', reencrypt => 1, conf => "colcrypt.reencrypt_naptime = 0\ncolcrypt.reencrypt_cpu_percent = 100\ncolcrypt.reencrypt_batch_size = 2000");
$node->start;

sub run_sql { return $node->safe_psql('postgres', $_[0]); }

run_sql(q{
	CREATE EXTENSION colcrypt;
	CREATE EXTENSION amcheck;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE people (
		id int PRIMARY KEY,
		email colcrypt.encrypted_text('pii') UNIQUE,
		city colcrypt.encrypted_text('pii'),
		note text,
		updated_at timestamptz NOT NULL DEFAULT '2000-01-01');
	CREATE INDEX people_city ON people (city);
	CREATE TABLE audit (id bigserial, what text);
	CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
	CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN INSERT INTO audit (what) VALUES (TG_OP || ' ' || NEW.id); RETURN NEW; END $$;
});
run_sql(qq{INSERT INTO people (id, email, city, note)
	SELECT g, 'user' || g || '\@example.com', 'city-' || (g % 97), 'n' || g FROM generate_series(1, $rows) g});
run_sql(q{
	CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch();
	CREATE TRIGGER people_audit AFTER UPDATE ON people FOR EACH ROW EXECUTE FUNCTION audit_row();
});

my $checksum_sql = q{SELECT md5(string_agg(id || ':' || email::text || ':' || city::text || ':' || note
	|| ':' || updated_at, ',' ORDER BY id)) FROM people};
my $before = run_sql($checksum_sql);

my $coverage_sql = q{SELECT string_agg("column" || ' ' || keyring || ' v' || data_key_version || ' i' || index_key_version
	|| ' ' || "values", ', ' ORDER BY "column", data_key_version) FROM colcrypt.coverage('people')};
is(run_sql($coverage_sql), "city pii v1 i1 $rows, email pii v1 i1 $rows", 'coverage before the rotation');

# --- rotate_key queues a job; the worker finishes it by itself ----------------
my ($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.rotate_key('pii')});
is($ret, 0, 'rotate_key succeeds');
like($err, qr/re-encryption job (\d+) queued for the values of keyring "pii"/, 'rotate_key queues a job');
my ($job) = $err =~ /re-encryption job (\d+) queued/;

my $started = time;
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT bool_and(state IN ('waiting for vacuum', 'done')) FROM colcrypt.reencrypt_progress WHERE job = $job}),
	'the worker finishes the job by itself');
my $seconds = time - $started;
note(sprintf('re-encrypted %d rows x 2 columns in %.1f s', $rows, $seconds));
# Then its cleanup: VACUUM (ANALYZE), REINDEX INDEX CONCURRENTLY of the
# indexes still holding old envelopes, and the check that nothing is left.
ok( $node->poll_query_until(
		'postgres', qq{SELECT bool_and(state = 'done' AND last_error IS NULL) FROM colcrypt.reencrypt_progress WHERE job = $job}),
	'the worker cleans up after the job: every column done');
note(sprintf('job and cleanup in %.1f s', time - $started));
ok( run_sql(q{SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_all_tables WHERE relid = 'people'::regclass})
		eq 't', 'the cleanup vacuumed and analyzed the table');
is( run_sql(q{SELECT count(*) FROM pg_index i WHERE i.indrelid = 'people'::regclass AND NOT i.indisvalid}),
	'0', 'no invalid index is left by the rebuilds');

is( run_sql(qq{SELECT string_agg("column" || ' ' || from_versions::text || '->' || to_version || ' ' || rows_done || ' done '
		|| rows_left || ' left', ', ' ORDER BY "column") FROM colcrypt.reencrypt_progress WHERE job = $job}),
	"city {1}->2 $rows done 0 left, email {1}->2 $rows done 0 left",
	'the progress view shows both columns from version 1 to 2, every row done, none left');
is( run_sql(q{SELECT count(*) FILTER (WHERE (colcrypt.describe(email)).key_version = 2),
	           count(*) FILTER (WHERE (colcrypt.describe(city)).key_version = 2) FROM people}),
	"$rows|$rows", 'every value of both columns is under version 2 (describe)');
is(run_sql($coverage_sql), "city pii v2 i1 $rows, email pii v2 i1 $rows", 'coverage: every value of both columns on version 2');
is( run_sql(q{SELECT string_agg("column" || ' ' || checked || ' checked ' || failed || ' failed ' || coalesce(first_failures, '-'),
		', ' ORDER BY "column") FROM colcrypt.verify('people')}),
	"city $rows checked 0 failed -, email $rows checked 0 failed -", 'verify decrypts every value of both columns');
is(run_sql($checksum_sql), $before, 'plaintexts, other columns and updated_at are unchanged (md5 of the decrypted table)');
is(run_sql(q{SELECT count(*) FROM audit}), '0', 'the audit trigger did not fire');
is(run_sql(q{SELECT count(*) FROM people WHERE updated_at <> '2000-01-01'}), '0', 'the updated_at trigger did not fire');

# --- retire the old version: nothing to do by hand -------------------------------
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('pii', 1)});
is($ret, 0, 'retire_key of version 1 succeeds once the job is done, with no VACUUM, REINDEX or ANALYZE by hand')
	or diag($err);

is(run_sql(q{SELECT id FROM people WHERE email = 'user4242@example.com'}), '4242', 'lookup after retirement');
like(run_sql(q{EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email = 'user4242@example.com'}),
	qr/Index (Only )?Scan/, 'the lookup uses the index');
($ret, $out, $err) = psql_full($node, 'postgres', q{INSERT INTO people (id, email, city) VALUES (0, 'user7@example.com', 'x')});
like($err, qr/duplicate key value violates unique constraint "people_email_key"/, 'UNIQUE still refuses a duplicate');
is(run_sql(q{SELECT count(*) FROM (SELECT city FROM people GROUP BY city) s}), '97', 'GROUP BY on the column');
is( run_sql(q{SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = 'people'::regclass) s}),
	'3', 'bt_index_check passes on every index of the table');

# --- pause, resume, cancel -----------------------------------------------------
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_naptime = '200ms'; ALTER SYSTEM SET colcrypt.reencrypt_batch_size = 500;
	SELECT pg_reload_conf()});
run_sql(q{SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('pii')});
is(run_sql(q{SELECT count(*) FROM colcrypt.reencrypt_tasks WHERE state IN ('queued', 'running')}), '0',
	'with reencrypt_on_rotate off, rotate_key queues nothing');
my $job2 = run_sql(q{SELECT colcrypt.reencrypt('people')});
ok($node->poll_query_until('postgres', qq{SELECT rows_done > 0 FROM colcrypt.reencrypt_progress WHERE job = $job2 AND "column" = 'email'}),
	'colcrypt.reencrypt() starts a job');
run_sql(qq{SELECT colcrypt.pause_reencrypt($job2)});
my $paused_done = run_sql(qq{SELECT rows_done FROM colcrypt.reencrypt_progress WHERE job = $job2 AND "column" = 'email'});
sleep 1;
is(run_sql(qq{SELECT state || ' ' || rows_done FROM colcrypt.reencrypt_progress WHERE job = $job2 AND "column" = 'email'}),
	"paused $paused_done", 'a paused job does not move');
run_sql(qq{SELECT colcrypt.resume_reencrypt($job2)});
ok( $node->poll_query_until(
		'postgres', qq{SELECT rows_done > $paused_done FROM colcrypt.reencrypt_progress WHERE job = $job2 AND "column" = 'email'}),
	'a resumed job moves again');
run_sql(qq{SELECT colcrypt.cancel_reencrypt($job2)});
my $cancelled_done = run_sql(qq{SELECT rows_done FROM colcrypt.reencrypt_progress WHERE job = $job2 AND "column" = 'email'});
sleep 1;
is(run_sql(qq{SELECT state || ' ' || rows_done FROM colcrypt.reencrypt_progress WHERE job = $job2 AND "column" = 'email'}),
	"cancelled $cancelled_done", 'a cancelled job stops');
cmp_ok($cancelled_done, '<', $rows, 'the cancelled job stopped before the end');
is(run_sql($checksum_sql), $before, 'a cancelled job leaves every value readable and unchanged');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.pause_reencrypt(999999)});
like($err, qr/re-encryption job 999999 does not exist/, 'an unknown job is refused');

# --- the foreground procedure -------------------------------------------------
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_worker = off; SELECT pg_reload_conf()});
($ret, $out, $err) = psql_full($node, 'postgres', q{CALL colcrypt.reencrypt_now('people', 5000)});
is($ret, 0, 'CALL colcrypt.reencrypt_now succeeds') or diag($err);
like($err, qr/re-encryption job \d+: \d+ rows rewritten, people: waiting for vacuum/, 'it reports progress as it goes');
is(run_sql(q{SELECT count(*) FROM people WHERE colcrypt._key_version(email) <> 3 OR colcrypt._key_version(city) <> 3}),
	'0', 'the foreground procedure rewrote every value');
is(run_sql($checksum_sql), $before, '... and changed no plaintext');
is(run_sql(q{SELECT count(*) FROM audit}), '0', '... and fired no trigger');

# --- a table dropped mid-job ---------------------------------------------------
run_sql(q{SELECT colcrypt.create_key('other');
	CREATE TABLE doomed (id int PRIMARY KEY, v colcrypt.encrypted_text('other'));
	INSERT INTO doomed SELECT g, 'v' || g FROM generate_series(1, 20000) g;
	CREATE TABLE kept (id int PRIMARY KEY, v colcrypt.encrypted_text('other'));
	INSERT INTO kept SELECT g, 'k' || g FROM generate_series(1, 2000) g;
	SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('other')});
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_worker = on; ALTER SYSTEM SET colcrypt.reencrypt_batch_size = 100;
	ALTER SYSTEM SET colcrypt.reencrypt_naptime = '50ms'; SELECT pg_reload_conf()});
my $job3 = run_sql(q{SELECT colcrypt.reencrypt(NULL)});
ok($node->poll_query_until('postgres', qq{SELECT rows_done > 0 FROM colcrypt.reencrypt_progress WHERE job = $job3 AND "table" = 'public.doomed'}),
	'a job over every table works on table doomed');
run_sql(q{DROP TABLE doomed});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'failed' AND last_error = 'table was dropped' FROM colcrypt.reencrypt_progress
		WHERE job = $job3 AND "table" = 'public.doomed'}),
	'the dropped table fails its task with the reason');
ok( $node->poll_query_until(
		'postgres', qq{SELECT state IN ('waiting for vacuum', 'done') AND rows_done = 2000 FROM colcrypt.reencrypt_progress
		WHERE job = $job3 AND "table" = 'public.kept'}),
	'the job goes on with the other tables');
is( run_sql(qq{SELECT state || ' ' || rows_done FROM colcrypt.reencrypt_progress WHERE job = $job3 AND "table" = 'public.people' AND "column" = 'email'}),
	'done 0', 'a table with nothing stale is done at once');
is(run_sql(q{SELECT count(*) FROM kept WHERE v::text = 'k' || id AND colcrypt._key_version(v) = 2}), '2000',
	'kept is rewritten and reads back');
is(run_sql($checksum_sql), $before, 'people is unchanged after all');

# --- partitions, no primary key, TOASTed values, ALTER TABLE in flight ----------
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_batch_size = 1000; ALTER SYSTEM SET colcrypt.reencrypt_naptime = '10ms';
	SELECT pg_reload_conf();
	CREATE TABLE events (at int, body colcrypt.encrypted_text('other')) PARTITION BY RANGE (at);
	CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (5000);
	CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (5000) TO (10000);
	INSERT INTO events SELECT g, 'e' || g FROM generate_series(0, 9999) g;
	INSERT INTO events SELECT 42, repeat(md5(g::text), 4000) FROM generate_series(1, 3) g;
	SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('other')});
my $events_sql = q{SELECT count(*) || ' ' || md5(string_agg(at || ':' || body::text, ',' ORDER BY at, body::text)) FROM events};
my $events_before = run_sql($events_sql);
ok(run_sql(q{SELECT pg_column_size(body) > 100000 FROM events WHERE length(body::text) > 1000 LIMIT 1}) eq 't',
	'three values are large (stored out of line)');
# An ALTER TABLE in flight: the job waits for it without blocking behind it.
my $alter = $node->background_psql('postgres');
$alter->query_safe(q{BEGIN; ALTER TABLE events_1 ADD CONSTRAINT at_positive CHECK (at >= 0)});
my $job4 = run_sql(q{SELECT colcrypt.reencrypt('events')});
is(run_sql(qq{SELECT string_agg("table", ',' ORDER BY "table") FROM colcrypt.reencrypt_progress WHERE job = $job4}),
	'public.events_1,public.events_2', 'a partitioned table is queued as its partitions (no primary key needed)');
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'running' AND last_error LIKE 'the table is locked by another transaction%'
		FROM colcrypt.reencrypt_progress WHERE job = $job4 AND "table" = 'public.events_1'}),
	'a partition locked by an ALTER TABLE is retried, with the reason in last_error');
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'waiting for vacuum' FROM colcrypt.reencrypt_progress WHERE job = $job4 AND "table" = 'public.events_2'}),
	'the other partition is done meanwhile');
is(run_sql(q{SELECT count(*) FROM pg_locks WHERE relation = 'events_1'::regclass AND NOT granted}), '0',
	'nothing queues behind the ALTER TABLE for the job');
$alter->query_safe(q{COMMIT});
$alter->quit;
ok( $node->poll_query_until(
		'postgres', qq{SELECT bool_and(state = 'done') FROM colcrypt.reencrypt_progress WHERE job = $job4}),
	'after the ALTER TABLE commits, the job finishes, and its cleanup');
is(run_sql($events_sql), $events_before, 'every value of the partitions, large ones too, reads as before');
is(run_sql(q{SELECT count(*) FROM events WHERE colcrypt._key_version(body) <> 3}), '0', 'and is under the new version');

# --- the cleanup kept waiting by an old snapshot; retried by resume -------------
my $reader = $node->background_psql('postgres');
$reader->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM kept});
run_sql(q{SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('other')});
my $job5 = run_sql(q{SELECT colcrypt.reencrypt('kept')});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'waiting for vacuum' AND last_error LIKE 'cleanup: VACUUM could not remove old row versions yet%'
		FROM colcrypt.reencrypt_progress WHERE job = $job5}),
	'a transaction older than the job keeps the cleanup waiting, with the reason');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('other', 2)});
like($err, qr/vacuum first/i, 'retire_key of the old version says vacuum first meanwhile');
$reader->query_safe(q{COMMIT});
$reader->quit;
run_sql(qq{SELECT colcrypt.resume_reencrypt($job5)});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'done' AND last_error IS NULL FROM colcrypt.reencrypt_progress WHERE job = $job5}),
	'resume_reencrypt retries the cleanup at once: done once the old transaction has ended');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('other', 2)});
is($ret, 0, '... and retire_key of the old version succeeds') or diag($err);

# --- the cleanup off: the table waits for the DBA -------------------------------
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_vacuum = off; SELECT pg_reload_conf()});
run_sql(q{SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('other')});
my $job6 = run_sql(q{SELECT colcrypt.reencrypt('kept')});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'waiting for vacuum' FROM colcrypt.reencrypt_progress WHERE job = $job6}),
	'with colcrypt.reencrypt_vacuum off the finished table waits for vacuum');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('other', 4)});
isnt($ret, 0, 'retire_key refuses before VACUUM');
like($err, qr/vacuum first|reindex first/i, '... and says what to do first');
run_sql(q{VACUUM kept});
is(run_sql(qq{SELECT state FROM colcrypt.reencrypt_progress WHERE job = $job6}), 'done',
	'after a VACUUM by hand the progress view shows the task done');
run_sql(q{REINDEX INDEX CONCURRENTLY kept_pkey; ANALYZE kept});
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('other', 4)});
is($ret, 0, 'retire_key succeeds after VACUUM, REINDEX and ANALYZE by hand') or diag($err);

# --- a job of one batch: its cleanup knows the versions it rewrote -----------------
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_vacuum = on; SELECT pg_reload_conf();
	SELECT colcrypt.create_key('small');
	CREATE TABLE small (id int PRIMARY KEY, v colcrypt.encrypted_text('small'));
	INSERT INTO small SELECT g, 's' || g FROM generate_series(1, 300) g;
	SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('small')});
my $job8 = run_sql(q{SELECT colcrypt.reencrypt('small')});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'done' AND batches = 1 AND from_versions = '{1}' AND rows_done = 300
		FROM colcrypt.reencrypt_progress WHERE job = $job8}),
	'a job of one batch keeps the version it found stale, and its cleanup ends it');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('small', 1)});
is($ret, 0, '... after which retire_key of that version succeeds') or diag($err);

# --- a cut-over while the cleanup rebuilds an index concurrently ------------------
# The rebuild waits for older transactions, so a cut-over that waited for it
# would deadlock: it is refused with the reason instead, and succeeds after.
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_vacuum = off; SELECT pg_reload_conf();
	SELECT colcrypt.create_key('cut');
	CREATE TABLE cut (id int, v colcrypt.encrypted_text('cut') UNIQUE);
	INSERT INTO cut SELECT g, 'c' || g FROM generate_series(1, 3000) g;
	SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_index_key('cut')});
my $job9 = run_sql(q{SELECT colcrypt.reencrypt('cut')});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'waiting for vacuum' FROM colcrypt.reencrypt_progress WHERE job = $job9}),
	'the job of a blind-index key rotation finishes, its cleanup off');
my $writer = $node->background_psql('postgres');
$writer->query_safe(q{BEGIN; INSERT INTO cut VALUES (0, 'c0')});
run_sql(qq{ALTER SYSTEM SET colcrypt.reencrypt_vacuum = on; SELECT pg_reload_conf(); SELECT colcrypt.resume_reencrypt($job9)});
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) > 0 FROM pg_stat_activity
		WHERE query LIKE 'colcrypt re-encryption: REINDEX INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'}),
	'the cleanup rebuilds the index concurrently, waiting for an open writer');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.upgrade_index_order('cut')});
like($err, qr/cannot rebuild the indexes of keyring "cut" now.*rebuilding an index of table cut concurrently/s,
	'the cut-over meanwhile is refused with the reason, not a deadlock');
$writer->query_safe(q{COMMIT});
$writer->quit;
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'done' FROM colcrypt.reencrypt_progress WHERE job = $job9}),
	'the rebuild and the cleanup finish once the writer has committed');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.upgrade_index_order('cut')});
is($ret, 0, 'the cut-over then succeeds') or diag($err);
is(run_sql(q{SELECT count(*) FROM cut WHERE v = 'c42' OR v = 'c0'}), '2', 'lookups after the cut-over');

# --- a cleanup that cannot rebuild an index concurrently --------------------------
# PostgreSQL cannot rebuild an exclusion constraint's index concurrently: the
# cleanup says so and leaves the index to the DBA, never a locking REINDEX.
run_sql(q{ALTER SYSTEM SET colcrypt.reencrypt_vacuum = on; SELECT pg_reload_conf();
	SELECT colcrypt.create_key('excl');
	CREATE TABLE excl (id int, v colcrypt.encrypted_text('excl'), EXCLUDE USING btree (v WITH =));
	INSERT INTO excl SELECT g, 'x' || g FROM generate_series(1, 3000) g;
	SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_key('excl')});
my $job7 = run_sql(q{SELECT colcrypt.reencrypt('excl')});
ok( $node->poll_query_until(
		'postgres', qq{SELECT state = 'waiting for vacuum' AND last_error LIKE 'cleanup failed: %exclusion constraint%'
		FROM colcrypt.reencrypt_progress WHERE job = $job7}),
	'an exclusion constraint index the cleanup cannot rebuild: the reason in last_error');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('excl', 1)});
like($err, qr/reindex first/i, 'retire_key of the old version says reindex first');
run_sql(q{REINDEX TABLE excl});
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('excl', 1)});
is($ret, 0, 'after the REINDEX by hand retire_key succeeds') or diag($err);
is(run_sql(q{SELECT count(*) FROM excl WHERE v = 'x42'}), '1', 'the constraint\'s column still finds its values');

done_testing();
