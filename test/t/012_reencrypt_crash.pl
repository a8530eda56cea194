# Re-encryption survives crashes (docs/design/reencryption.md, section 5):
# kill -9 of the worker mid-job (the postmaster restarts every process),
# and separately pg_ctl stop -m immediate mid-job.  After the restart the
# job completes by itself, nothing is lost: row count and the md5 of the
# decrypted table are those from before.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

use ColcryptTest;

my $rows = 20_000;
# Slow on purpose, so that the job is still running when it is interrupted.
# restart_after_crash: the production default, which the test framework
# turns off.
my $node = colcrypt_node('crash', reencrypt => 1,
	conf => "colcrypt.reencrypt_naptime = '20ms'\ncolcrypt.reencrypt_batch_size = 200\nrestart_after_crash = on");
$node->start;

sub run_sql { return $node->safe_psql('postgres', $_[0]); }

run_sql(q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE t (id int PRIMARY KEY, a colcrypt.encrypted_text('pii'), b colcrypt.encrypted_text('pii'), n int);
});
run_sql(qq{INSERT INTO t SELECT g, 'a' || g, 'b' || g, g FROM generate_series(1, $rows) g});
my $checksum_sql = q{SELECT count(*) || ' ' || md5(string_agg(id || ':' || a::text || ':' || b::text || ':' || n, ',' ORDER BY id)) FROM t};
my $before = run_sql($checksum_sql);

# Waits until the job has done some rows but not all; returns rows done.
sub mid_job
{
	my ($job) = @_;
	$node->poll_query_until('postgres',
		qq{SELECT rows_done > 0 FROM colcrypt.reencrypt_progress WHERE job = $job AND "column" = 'a'})
	  or die "the job did not start";
	return run_sql(qq{SELECT rows_done FROM colcrypt.reencrypt_progress WHERE job = $job AND "column" = 'a'});
}

sub finished
{
	my ($job) = @_;
	return $node->poll_query_until('postgres',
		qq{SELECT bool_and(state IN ('waiting for vacuum', 'done')) FROM colcrypt.reencrypt_progress WHERE job = $job});
}

# --- kill -9 of the worker -------------------------------------------------------
run_sql(q{SELECT colcrypt.rotate_key('pii')});
my $job = run_sql(q{SELECT max(job) FROM colcrypt.reencrypt_tasks});
my $done = mid_job($job);
cmp_ok($done, '<', $rows, "the job is mid-way ($done of $rows rows) when the worker is killed");
my $pid = run_sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'colcrypt re-encryption'});
like($pid, qr/^\d+$/, 'the re-encryption worker is in pg_stat_activity');
my $offset = log_size($node);
kill 'KILL', $pid;
my $back = 0;
for (1 .. 600)
{
	# psql fails (instead of dying) while the postmaster restarts.
	if ($node->psql('postgres', 'SELECT 1', on_error_die => 0) == 0 && log_since($node, $offset) =~ /database system is ready/)
	{
		$back = 1;
		last;
	}
	sleep 0.1;
}
ok($back, 'the server is back after the crash restart');
like(log_since($node, $offset), qr/terminated by signal 9/, 'the postmaster saw the worker killed');
ok(finished($job), 'after the crash restart the job completes by itself');
is(run_sql($checksum_sql), $before, 'row count and md5 of the decrypted table are unchanged');
is(run_sql(q{SELECT count(*) FROM t WHERE colcrypt._key_version(a) <> 2 OR colcrypt._key_version(b) <> 2}), '0',
	'every value is under the new version');
is(run_sql(qq{SELECT rows_done FROM colcrypt.reencrypt_progress WHERE job = $job AND "column" = 'a'}), $rows,
	'the progress counts every row once: the batch in flight rolled back with its count');

# --- immediate shutdown ----------------------------------------------------------
run_sql(q{SELECT colcrypt.rotate_key('pii')});
$job = run_sql(q{SELECT max(job) FROM colcrypt.reencrypt_tasks});
$done = mid_job($job);
cmp_ok($done, '<', $rows, "the job is mid-way ($done of $rows rows) at the immediate shutdown");
$node->stop('immediate');
$node->start;
ok(finished($job), 'after the restart the job completes by itself');
is(run_sql($checksum_sql), $before, 'row count and md5 of the decrypted table are unchanged');
is(run_sql(q{SELECT count(*) FROM t WHERE colcrypt._key_version(a) <> 3 OR colcrypt._key_version(b) <> 3}), '0',
	'every value is under the newest version');
is(run_sql(qq{SELECT rows_done FROM colcrypt.reencrypt_progress WHERE job = $job AND "column" = 'b'}), $rows,
	'the progress counts every row once');

done_testing();
