# Re-encryption next to concurrent writers (docs/design/reencryption.md,
# section 3): pgbench updates the encrypted column (with a plaintext copy
# written in the same statement) and another column while the worker
# rewrites the table.  At the end every encrypted value equals its copy
# (the writers' last writes: the worker never wrote over one), every
# increment of the other column is there, no READ COMMITTED writer saw an
# error (a deadlock would abort pgbench), and every value is under the new
# version.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $rows = 20_000;
my $node = colcrypt_node('concurrent', reencrypt => 1, conf => "colcrypt.reencrypt_naptime = '20ms'\ncolcrypt.reencrypt_batch_size = 200");
$node->start;

sub run_sql { return $node->safe_psql('postgres', $_[0]); }

run_sql(q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE t (id int PRIMARY KEY, a colcrypt.encrypted_text('pii'), a_plain text, n int NOT NULL DEFAULT 0);
	CREATE INDEX ON t (a);
	CREATE TABLE increments (id int);
});
run_sql(qq{INSERT INTO t SELECT g, 'a' || g, 'a' || g FROM generate_series(1, $rows) g});

my $dir = PostgreSQL::Test::Utils::tempdir;
write_file("$dir/encrypted.sql", qq{\\set id random(1, $rows)\n\\set v random(1, 1000000000)\n}
	  . qq{UPDATE t SET a = 'w' || :v, a_plain = 'w' || :v WHERE id = :id;\n});
# Each increment is logged in the same transaction: pgbench's per-script
# counts leave out a transaction per thread, a log does not.
write_file("$dir/other.sql", qq{\\set id random(1, $rows)\nBEGIN;\nUPDATE t SET n = n + 1 WHERE id = :id;\n}
	  . qq{INSERT INTO increments VALUES (:id);\nEND;\n});

run_sql(q{SELECT colcrypt.rotate_key('pii')});
my $job = run_sql(q{SELECT max(job) FROM colcrypt.reencrypt_tasks});
$node->poll_query_until('postgres', qq{SELECT rows_done > 0 FROM colcrypt.reencrypt_progress WHERE job = $job AND "column" = 'a'})
  or die 'the job did not start';

my $pgbench_start = run_sql(q{SELECT clock_timestamp()});
my ($out, $err) = ('', '');
my $ran = IPC::Run::run(
	[
		'pgbench', '-n', '-t', '5000', '-c', '4', '-j', '2', '-f', "$dir/encrypted.sql", '-f', "$dir/other.sql",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
note($out);
ok($ran, 'pgbench (READ COMMITTED) ran to the end') or diag($err);
like($out, qr/number of failed transactions: 0 /, 'no writer saw an error (no deadlock, no serialization failure)');
my $other_txns = run_sql(q{SELECT count(*) FROM increments});
cmp_ok($other_txns, '>', 0, "pgbench committed updates of the other column ($other_txns)");

ok( $node->poll_query_until(
		'postgres', qq{SELECT bool_and(state IN ('waiting for vacuum', 'done')) FROM colcrypt.reencrypt_progress WHERE job = $job}),
	'the job finishes');
is(run_sql(qq{SELECT bool_and(finished > '$pgbench_start') FROM colcrypt.reencrypt_progress WHERE job = $job}), 't',
	'the job, started before pgbench, finished after pgbench started: they ran together');
is(run_sql(q{SELECT count(*) FROM t WHERE a::text IS DISTINCT FROM a_plain}), '0',
	'every encrypted value is the writers\' last write (equal to the copy written with it)');
cmp_ok(run_sql(q{SELECT count(*) FROM t WHERE a_plain LIKE 'w%'}), '>', 0, 'the writers did change values');
is( run_sql(q{SELECT count(*) FROM t LEFT JOIN (SELECT id, count(*) AS c FROM increments GROUP BY id) i USING (id)
		WHERE t.n <> coalesce(i.c, 0)}),
	'0', 'every update of the other column is there, row by row');
is(run_sql(q{SELECT count(*) FROM t WHERE colcrypt._key_version(a) <> 2}), '0', 'every value is under the new version');
is(run_sql(q{SELECT count(*) FROM t WHERE a = 'a17' OR a = a_plain}), $rows, 'lookups still find every row');

done_testing();
