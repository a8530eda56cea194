# The nonce budget: encryptions per data-key version are counted; at
# colcrypt.nonce_budget the keyring rotates itself in a background worker
# (logged and audited) and writes continue under the new version; at twice
# the budget encryption is refused; the counters survive a restart, an
# immediate stop and a backend crash without under-counting.
use strict;
use warnings;

use File::Path qw(make_path);

BEGIN { make_path($ENV{TESTDIR}) if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $budget = 100;

my $node = PostgreSQL::Test::Cluster->new('budget');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'colcrypt'
colcrypt.nonce_budget = $budget
restart_after_crash = on
# No background re-encryption after rotate_key: this test is about keys.
colcrypt.reencrypt_on_rotate = off
EOC
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('nb');
	CREATE TABLE t (id serial, v colcrypt.encrypted_text('nb'));
});
# How much a crash may over-count: the reservation block, as the server
# computes it (core::NonceBudget).
my ($policy_budget, $hard_limit, $block) = split /\|/,
  $node->safe_psql('postgres', 'SELECT budget, hard_limit, reservation_block FROM colcrypt._nonce_policy()');
is("$policy_budget $hard_limit", "$budget 200", 'the server\'s policy: the budget, refused past twice it');
cmp_ok($block, '>=', 1, "reservations in blocks of $block");

# One launcher, started with the server; backends only post requests to it.
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'colcrypt launcher'}),
	'the colcrypt launcher runs');
my $launcher_pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'colcrypt launcher'});

sub key_state
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(format('v%s %s %s/%s', version, state, encryptions, nonce_budget_left), ', ' ORDER BY version)
		  FROM colcrypt.keys WHERE keyring = 'nb'});
}

sub encryptions
{
	my ($version) = @_;
	return $node->safe_psql('postgres',
		"SELECT encryptions FROM colcrypt.keys WHERE keyring = 'nb' AND version = $version");
}

sub insert_rows
{
	my ($n) = @_;
	my $err = '';
	my $ret = $node->psql('postgres', "INSERT INTO t (v) SELECT 'row ' || g FROM generate_series(1, $n) g",
		stderr => \$err);
	return $ret == 0 ? '' : $err;
}

# --- Counting ----------------------------------------------------------------
is(insert_rows(99), '', '99 encryptions');
is(key_state(), 'v1 active 99/1', 'counted: 99 encryptions, 1 left, no rotation yet');
ok(-f $node->data_dir . '/pg_colcrypt/nonce_counters', 'the counter file exists in the data directory');

# --- Automatic rotation at the budget ------------------------------------------
my $offset = -s $node->logfile;
is(insert_rows(1), '', 'the 100th encryption succeeds');
ok( $node->poll_query_until('postgres',
		q{SELECT state = 'active' FROM colcrypt.keys WHERE keyring = 'nb' AND version = 2}),
	'the keyring rotated itself to version 2');
my $log = slurp_file($node->logfile, $offset);
like($log, qr/colcrypt: key version 1 of keyring "nb" reached its nonce budget \(100 encryptions, colcrypt.nonce_budget = 100\); starting automatic rotation/,
	'the backend logged the budget');
like($log, qr/colcrypt: auto_rotate keyring "nb" version 1 -> 2 by role "\w+" \(session user "\w+"\): nonce budget reached/,
	'the worker logged the rotation');
unlike($log, qr/could not (start|request)/, 'the launcher started the worker');
unlike($log, qr/STATEMENT:.*row ' \|\|/, 'no statement text next to those lines');
is( $node->safe_psql('postgres', q{
		SELECT operation, old_version, new_version, detail FROM colcrypt.key_events
		 WHERE keyring = 'nb' AND operation <> 'create' ORDER BY event_id}),
	'auto_rotate|1|2|nonce budget reached: version 1 had encrypted 100 values (colcrypt.nonce_budget = 100)',
	'the rotation is audited as automatic');
is(key_state(), 'v1 decrypt_only 100/0, v2 active 0/100', 'version 1 is decrypt-only, version 2 fresh');

is(insert_rows(5), '', 'writes continue');
is( $node->safe_psql('postgres', q{
		SELECT (colcrypt.describe(v)).key_version, count(*) FROM t GROUP BY 1 ORDER BY 1}),
	"1|100\n2|5", 'new rows use version 2');
is($node->safe_psql('postgres', q{SELECT count(*) FROM t WHERE v::text LIKE 'row %'}), '105', 'every row reads');

# --- The hard limit: twice the budget ---------------------------------------------
# Hold the keyrings table so the automatic rotation cannot complete.
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE colcrypt.keyrings IN EXCLUSIVE MODE;');
$offset = -s $node->logfile;
is(insert_rows(95), '', 'version 2 reaches its budget');
is(insert_rows(100), '', 'and goes on up to twice the budget');
is(encryptions(2), '200', '200 encryptions under version 2');
my $err = insert_rows(1);
like($err, qr/ERROR:  nonce budget of key version 2 of keyring "nb" is exhausted/, 'the 201st is refused');
like($err, qr/DETAIL:  The version has encrypted 200 values; colcrypt refuses more than 200 \(colcrypt.nonce_budget is 100\)/,
	'with the numbers');
like($err, qr/HINT:  Rotate the keyring: SELECT colcrypt.rotate_key\('nb'\);/, 'and a hint to rotate');
my ($ret, $out, $stderr) = ('', '', '');
$node->psql('postgres', q{\set VERBOSITY verbose
	INSERT INTO t (v) VALUES ('refused')}, stderr => \$stderr);
like($stderr, qr/ERROR:  55000: nonce budget/, 'SQLSTATE 55000 (object not in prerequisite state)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '300', 'nothing was written past the limit (105 + 95 + 100 rows)');
my @launches = slurp_file($node->logfile, $offset) =~ /reached its nonce budget/g;
is(scalar(@launches), 1, 'one rotation worker while it waits');
$blocker->query_safe('ROLLBACK');
$blocker->quit;
ok( $node->poll_query_until('postgres',
		q{SELECT state = 'active' FROM colcrypt.keys WHERE keyring = 'nb' AND version = 3}),
	'once the lock is gone the rotation completes');
is(insert_rows(10), '', 'writes work again, under version 3');
is(encryptions(3), '10', 'counted under version 3');

is( $node->safe_psql('postgres', q{SELECT count(*) FROM colcrypt.key_events WHERE operation = 'auto_rotate'}),
	'2', 'two automatic rotations audited');

# --- Restart, immediate stop, crash: never fewer ------------------------------------
my @counts_before = map { encryptions($_) } 1 .. 3;
is("@counts_before", '100 202 10', 'counts before the restart (the two refused encryptions counted too)');
$node->restart;
my @counts_after = map { encryptions($_) } 1 .. 3;
foreach my $version (1 .. 3)
{
	my ($before, $after) = ($counts_before[ $version - 1 ], $counts_after[ $version - 1 ]);
	ok($after >= $before && $after <= $before + $block,
		"clean restart, version $version: $before before, $after after (never fewer, at most one block more)");
}
is(key_state(), "v1 decrypt_only $counts_after[0]/0, v2 decrypt_only $counts_after[1]/0, v3 active $counts_after[2]/"
	  . ($budget - $counts_after[2]),
	'the keys view shows the restored counts');
my ($before, $after);

is(insert_rows(3), '', 'three more encryptions');
$before = encryptions(3);
$node->stop('immediate');
$node->start;
$after = encryptions(3);
cmp_ok($after, '>=', $before, "immediate stop: $before before, $after after");
cmp_ok($after, '<=', $before + $block, 'over-count at most one reservation block');

# A backend killed in the middle: shared memory is reinitialised from the file.
is(insert_rows(2), '', 'two more encryptions');
$before = encryptions(3);
my $victim = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
$victim->query_safe(q{INSERT INTO t (v) VALUES ('in the crashed backend')});
$before++;
kill 'KILL', $pid or die "kill $pid: $!";
$victim->quit;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'server back after the crash');
$after = encryptions(3);
cmp_ok($after, '>=', $before, "backend crash: $before before (the crashed backend's included), $after after");
cmp_ok($after, '<=', $before + $block, 'over-count at most one reservation block');
is(insert_rows(1), '', 'and encryption goes on');

# --- The launcher comes back ------------------------------------------------------------
$launcher_pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'colcrypt launcher'});
kill 'TERM', $launcher_pid or die "kill $launcher_pid: $!";
ok( $node->poll_query_until('postgres',
		qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'colcrypt launcher' AND pid <> $launcher_pid}),
	'a terminated launcher is restarted by the postmaster');

# --- A manual rotation while the automatic one waits makes it a no-op ----------------
$blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE colcrypt.keyrings IN EXCLUSIVE MODE;');
$offset = -s $node->logfile;
is(insert_rows($budget - encryptions(3)), '', 'version 3 reaches its budget');
ok($node->wait_for_log(qr/key version 3 of keyring "nb" reached its nonce budget/, $offset),
	'the automatic rotation was requested');
is($blocker->query_safe(q{SELECT colcrypt.rotate_key('nb'); COMMIT;}), '4', 'meanwhile, a manual rotation to version 4');
$blocker->quit;
ok($node->wait_for_log(qr/key version 3 of keyring 1 is no longer active; no automatic rotation needed/, $offset),
	'the automatic rotation then has nothing to do');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s %s->%s', operation, old_version, new_version), ', ' ORDER BY event_id)
		  FROM colcrypt.key_events WHERE keyring = 'nb' AND operation <> 'create'}),
	'auto_rotate 1->2, auto_rotate 2->3, rotate 3->4', 'no version lost, none made twice');
is( $node->safe_psql('postgres', q{SELECT max(version), count(*) FILTER (WHERE state = 'active') FROM colcrypt.keys WHERE keyring = 'nb'}),
	'4|1', 'version 4 is the only active one');

$node->stop;
done_testing();
