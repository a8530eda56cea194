# Re-encryption and physical replication (docs/design/reencryption.md,
# section 5): a streaming standby made by pg_basebackup runs neither the
# launcher nor a re-encryption worker while the primary's job is under way;
# after the primary stops mid-job and the standby is promoted, the job
# resumes there by itself and completes, nothing lost.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $rows = 40_000;
my $keydir = PostgreSQL::Test::Utils::tempdir;
my $key_file = write_key_file("$keydir/master.key", key_hex(random_key_bytes()) . "\n");

my $primary = colcrypt_node('primary', reencrypt => 1, allows_streaming => 1,
	conf => "colcrypt.reencrypt_naptime = '50ms'\ncolcrypt.reencrypt_batch_size = 200");
set_key_conf($primary, master_key_file => $key_file);
$primary->start;

$primary->safe_psql('postgres', qq{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE t (id int PRIMARY KEY, a colcrypt.encrypted_text('pii'));
	INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, $rows) g;
});
my $checksum_sql = q{SELECT count(*) || ' ' || md5(string_agg(id || ':' || a::text, ',' ORDER BY id)) FROM t};
my $before = $primary->safe_psql('postgres', $checksum_sql);

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', q{SELECT colcrypt.rotate_key('pii')});
my $job = $primary->safe_psql('postgres', q{SELECT max(job) FROM colcrypt.reencrypt_tasks});
$primary->poll_query_until('postgres',
	qq{SELECT rows_done >= 2000 FROM colcrypt.reencrypt_progress WHERE job = $job})
  or die 'the job did not start';
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', $checksum_sql), $before, 'the standby reads the values (same master key)');
is( $standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'colcrypt%'}),
	'0', 'no colcrypt launcher or re-encryption worker runs on the standby');
is($standby->safe_psql('postgres', qq{SELECT state FROM colcrypt.reencrypt_tasks WHERE job = $job}), 'running',
	'the standby sees the job running on the primary');
my $done = $standby->safe_psql('postgres', qq{SELECT rows_done FROM colcrypt.reencrypt_tasks WHERE job = $job});
cmp_ok($done, '<', $rows, "the job is mid-way ($done of $rows rows) when the primary stops");

$primary->stop('immediate');
$standby->promote;
ok( $standby->poll_query_until(
		'postgres', qq{SELECT bool_and(state IN ('waiting for vacuum', 'done')) FROM colcrypt.reencrypt_progress WHERE job = $job}),
	'after promotion the job resumes and completes by itself');
is($standby->safe_psql('postgres', $checksum_sql), $before, 'row count and md5 of the decrypted table are unchanged');
# The promotion also rotates every keyring (its nonce counters are the base
# backup's): the job ends with the values under version 2, or under
# version 3 if that rotation came first; none is left under version 1.
is($standby->safe_psql('postgres', q{SELECT count(*) FROM t WHERE colcrypt._key_version(a) = 1}), '0',
	'no value is left under the old version on the promoted standby');
ok($standby->poll_query_until('postgres', q{SELECT version FROM colcrypt.keys WHERE keyring = 'pii' AND state = 'active'}, '3'),
	'and the promoted node writes under a version of its own');

done_testing();
