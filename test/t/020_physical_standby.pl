# A physical standby (pg_basebackup, streaming): without the primary's
# master key it refuses to start instead of generating a key of its own;
# with it, it reads plaintext and serves lookups by index; key functions are
# refused there with a clear error, and no colcrypt worker runs; after
# promotion, writes, rotation and the launcher work, and the old primary's
# values still read on both.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $primary = colcrypt_node('primary', allows_streaming => 1);
$primary->start;
my $key_file = default_key_file($primary);
ok(-f $key_file, 'the primary generated its master key');
ok(-f $primary->data_dir . '/pg_colcrypt/master_key_fingerprint', 'and recorded its fingerprint in pg_colcrypt');
$primary->safe_psql('postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE people (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'));
	INSERT INTO people SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 2000) g;
	CREATE INDEX ON people (email);
	ANALYZE people;
});
my $sum_sql = q{SELECT count(*) || ' ' || md5(string_agg(id || ':' || email::text, ',' ORDER BY id)) FROM people};
my $launchers_sql = q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'colcrypt launcher'};

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);

# The standby's data directory is elsewhere, so the default key path is
# another file, which does not exist: no key may be invented.
my $standby_key = default_key_file($standby);
ok(!-e $standby_key, 'no key file at the standby\'s default path');
ok(!$standby->start(fail_ok => 1), 'a standby without the master key does not start');
my $log = slurp_file($standby->logfile);
like($log, qr/colcrypt master key file "\Q$standby_key\E" does not exist/, 'it names the missing key file');
like($log, qr/DETAIL:  No new key is generated because it is a standby \(standby\.signal exists\)/,
	'and says why no key is generated');
like($log, qr/HINT:  Copy the key file of the server this data directory comes from/, 'with a hint');
ok(!-e $standby_key, 'no key was generated');

set_key_conf($standby, master_key_file => $key_file);
$standby->start;
$primary->safe_psql('postgres', q{INSERT INTO people VALUES (2001, 'after-backup@example.com')});
$primary->wait_for_catchup($standby);
my $sum = $primary->safe_psql('postgres', $sum_sql);
like($sum, qr/^2001 /, 'the primary holds 2001 rows');
is($standby->safe_psql('postgres', $sum_sql), $sum, 'the standby reads every value, the streamed ones included');
is($standby->safe_psql('postgres', q{SELECT id FROM people WHERE email = 'user77@example.com'}), '77',
	'a lookup on the standby');
like($standby->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM people WHERE email IN ('user7@example.com', 'user8@example.com')}),
	qr/Index (Only )?Scan|Bitmap Index Scan/, 'by index');
is($standby->safe_psql('postgres', $launchers_sql), '0', 'no colcrypt launcher runs on the standby');
is($standby->safe_psql('postgres', q{SELECT string_agg("check" || ' ' || status, ', ' ORDER BY "check") FROM colcrypt.health()}),
	'keys ok, launcher ok, master key ok, nonce budget ok, statistics ok', 'health on the standby: every check ok');
like($standby->safe_psql('postgres', q{SELECT detail FROM colcrypt.health() WHERE "check" = 'launcher'}),
	qr/in recovery/, 'health says why no launcher runs there');
cmp_ok($standby->safe_psql('postgres', q{SELECT decryptions FROM colcrypt.stats WHERE keyring = 'pii'}), '>=', 2001,
	'colcrypt.stats counts the standby\'s own decryptions');

for my $call (
	q{colcrypt.create_key('other')}, q{colcrypt.rotate_key('pii')}, q{colcrypt.retire_key('pii', 1)},
	q{colcrypt.grant_decrypt('pii', 'postgres')}, q{colcrypt.revoke_encrypt('pii', 'public')},
	q{colcrypt.rotate_master_key()}, q{colcrypt.upgrade_index_order('pii')}, q{colcrypt.rotate_index_key('pii')})
{
	my ($function) = $call =~ /^colcrypt\.(\w+)/;
	my ($ret, $out, $err) = psql_full($standby, 'postgres', "SELECT $call");
	like($err, qr/ERROR:  25006: colcrypt\.$function cannot run during recovery\n.*\n.*HINT:  Run it on the primary server\./,
		"$function on the standby: refused, naming the function");
}

# Promotion: the standby becomes a primary of its own.
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion did not finish';
ok($standby->poll_query_until('postgres', $launchers_sql, '1'), 'after promotion the colcrypt launcher runs');
is($standby->safe_psql('postgres', q{SELECT status || ' ' || detail FROM colcrypt.health() WHERE "check" = 'launcher'}),
	'ok running', 'and health sees it');
is($standby->safe_psql('postgres', $sum_sql), $sum, 'after promotion every value reads');
# Its nonce counters are those of the base backup: every keyring is rotated
# by itself, so that nothing more is encrypted under versions the old
# primary kept using.
ok($standby->poll_query_until('postgres',
		q{SELECT count(*) FROM colcrypt.key_events WHERE operation = 'auto_rotate' AND detail LIKE 'after the change to timeline 2 %'},
		'1'), 'after promotion every keyring is rotated (auto_rotate, audited with the timeline)');
is($standby->safe_psql('postgres', q{SELECT version FROM colcrypt.keys WHERE keyring = 'pii' AND state = 'active'}), '2',
	'the promoted node writes under a version of its own');
ok($standby->log_contains('colcrypt: timeline 2 follows timeline 1: rotating every keyring'), 'the log says why');
$standby->safe_psql('postgres', q{INSERT INTO people VALUES (3001, 'promoted@example.com')});
is($standby->safe_psql('postgres', q{SELECT colcrypt.rotate_key('pii')}), '3', 'rotate_key on the promoted node');
$standby->safe_psql('postgres', q{INSERT INTO people VALUES (3002, 'rotated@example.com')});
is($standby->safe_psql('postgres',
		q{SELECT string_agg(id || ' v' || (colcrypt.describe(email)).key_version, ', ' ORDER BY id) FROM people WHERE id > 2000}),
	'2001 v1, 3001 v2, 3002 v3', 'new values under the new versions, old ones as they were');
is($standby->safe_psql('postgres', q{SELECT id FROM people WHERE email = 'rotated@example.com'}), '3002',
	'lookups find values of both versions');
is($standby->safe_psql('postgres', q{SELECT operation FROM colcrypt.key_events ORDER BY event_id DESC LIMIT 1}),
	'rotate', 'the rotation is audited on the promoted node');
is($primary->safe_psql('postgres', $sum_sql), $sum, 'the old primary still reads its values');
is($primary->safe_psql('postgres', q{SELECT colcrypt.rotate_key('pii')}), '2', 'and runs key functions itself');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM colcrypt.key_events WHERE operation = 'auto_rotate'}), '0',
	'the old primary, still on timeline 1, rotated nothing by itself');
# A restart of the promoted node does not rotate again: the timeline is recorded.
$standby->restart;
$standby->poll_query_until('postgres', $launchers_sql, '1') or die 'no launcher after the restart';
sleep 2;    # a rotation would have been posted at the launcher's start
is($standby->safe_psql('postgres', q{SELECT count(*) FROM colcrypt.key_events WHERE operation = 'auto_rotate'}), '1',
	'a restart on the same timeline rotates nothing more');
is(slurp_file($standby->data_dir . '/pg_colcrypt/timeline'), "2\n", 'pg_colcrypt/timeline records timeline 2');

ok(!$standby->log_contains('terminated by signal'), 'no backend crashed on the standby');
ok(!$primary->log_contains('terminated by signal'), 'no backend crashed on the primary');
$standby->stop;
$primary->stop;
done_testing();
