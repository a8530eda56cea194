# Master key loading: the generated default key file, explicit key files in
# hex and base64, colcrypt.master_key_command, every kind of bad key material
# (the server must refuse to start and say why), the extension without
# preloading, and that no key material or plaintext reaches the server log.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $keydir = PostgreSQL::Test::Utils::tempdir('keys');

###############################################################################
# 1. Default key file: generated next to the data directory on first start.
###############################################################################

my $dflt = colcrypt_node('default_key');
my $default_path = default_key_file($dflt);
ok(!-e $default_path, 'no key file before the first start');
$dflt->start;

ok(-f $default_path, "key file generated next to the data directory");
my $mode = (stat $default_path)[2] & 07777;
is(sprintf('%04o', $mode), '0600', 'generated key file has mode 0600');

my $key_text = slurp_file($default_path);
like($key_text, qr/\A[0-9a-f]{64}\n\z/, 'key file holds 64 hex digits and a newline');
(my $default_hex = $key_text) =~ s/\s+//g;

my $log = slurp_file($dflt->logfile);
like(
	$log,
	qr/colcrypt: generated a new master key in "\Q$default_path\E"/,
	'log names the generated key file');
my ($default_fp, $default_src) = loaded_fingerprint($dflt);
like($default_fp // '', qr/\A[0-9a-f]{16}\z/, 'log shows a 16-hex-digit fingerprint');
is($default_src, "file \"$default_path\"", 'log says the key came from the default file');
unlike($log, qr/\Q$default_hex\E/i, 'the generated key is not in the server log');

my $out = sql_ok(
	$dflt, 'postgres',
	"CREATE EXTENSION colcrypt;
	 SELECT colcrypt.create_key('pii');
	 SELECT master_key_fingerprint FROM colcrypt.keys WHERE keyring = 'pii';",
	'create_key works with the generated key');
is((split /\n/, $out)[-1], $default_fp, 'colcrypt.keys shows the logged fingerprint');

# A restart reuses the file: same fingerprint, no new key.
my $offset = log_size($dflt);
$dflt->restart;
is(scalar loaded_fingerprint($dflt, $offset), $default_fp, 'restart loads the same key');
ok(!$dflt->log_contains('generated a new master key', $offset), 'restart does not generate another key');
is(slurp_file($default_path), $key_text, 'key file unchanged by the restart');
is(slurp_file($dflt->data_dir . '/pg_colcrypt/master_key_fingerprint'), "$default_fp\n",
	'the data directory records the fingerprint of its key');
$dflt->stop;

# The key file lost: a data directory colcrypt has used gets no new key
# (it would read none of the values), and the server does not start.
rename $default_path, "$default_path.away" or die "rename: $!";
ok(!$dflt->start(fail_ok => 1), 'without its key file the server does not start');
like(slurp_file($dflt->logfile), qr/DETAIL:  No new key is generated because colcrypt has used a master key in it before/,
	'and says why it did not generate one');
ok(!-e $default_path, 'no key was generated');
rename "$default_path.away", $default_path or die "rename: $!";
$dflt->start;
is($dflt->safe_psql('postgres', q{SELECT master_key_fingerprint FROM colcrypt.keys WHERE keyring = 'pii'}), $default_fp,
	'with the file back, it starts with the same key');
$dflt->stop;

###############################################################################
# 2. Explicit key file, hex; then the same key in base64; then the same key
#    from master_key_command.
###############################################################################

my $key = random_key_bytes();
my $hex = key_hex($key);
my $b64 = key_base64($key);
is(length($b64), 44, 'base64 form of the key is 44 characters');
my $hex_file = write_key_file("$keydir/hex.key", "$hex\n");
my $b64_file = write_key_file("$keydir/b64.key", "$b64\n");

my $node = colcrypt_node('explicit', conf => "log_statement = none");
set_key_conf($node, master_key_file => $hex_file);
$node->start;
my ($hex_fp, $hex_src) = loaded_fingerprint($node);
like($hex_fp // '', qr/\A[0-9a-f]{16}\z/, 'hex key file: fingerprint logged');
is($hex_src, "file \"$hex_file\"", 'hex key file: log names the file');
ok(!-e default_key_file($node), 'no default key file generated when a file is configured');

my $marker = 'SECRET-VALUE-9931';
$out = sql_ok(
	$node, 'postgres',
	"CREATE EXTENSION colcrypt;
	 SELECT colcrypt.create_key('pii');
	 CREATE TABLE t (id int, v colcrypt.encrypted_text('pii'));
	 INSERT INTO t VALUES (1, '$marker'), (2, 'second');
	 SELECT master_key_fingerprint FROM colcrypt.keys WHERE keyring = 'pii';",
	'hex key file: create_key and insert work');
is((split /\n/, $out)[-1], $hex_fp, 'hex key file: colcrypt.keys shows the logged fingerprint');

# The same key written in base64: same fingerprint, data still readable.
set_key_conf($node, master_key_file => $b64_file);
$offset = log_size($node);
$node->restart;
my ($b64_fp, $b64_src) = loaded_fingerprint($node, $offset);
is($b64_src, "file \"$b64_file\"", 'base64 key file: loaded');
is($b64_fp, $hex_fp, 'base64 form of the same key has the same fingerprint');
is($node->safe_psql('postgres', 'SELECT v FROM t ORDER BY id'),
	"$marker\nsecond", 'base64 key file: values decrypt');

# The key from a command.
set_key_conf($node, master_key_command => "cat '$hex_file'");
$offset = log_size($node);
$node->restart;
my ($cmd_fp, $cmd_src) = loaded_fingerprint($node, $offset);
is($cmd_src, 'colcrypt.master_key_command', 'master_key_command: key loaded from the command');
is($cmd_fp, $hex_fp, 'master_key_command: same key, same fingerprint');
$out = sql_ok(
	$node, 'postgres',
	"INSERT INTO t VALUES (3, 'via command 🔑');
	 SELECT v FROM t ORDER BY id;",
	'master_key_command: insert works');
is($out, "$marker\nsecond\nvia command 🔑", 'master_key_command: values round-trip');

# A second node with its own base64 key: starts, create_key works, and its
# fingerprint differs from the first key's.
my $key2 = random_key_bytes();
my $b64_file2 = write_key_file("$keydir/other_b64.key", key_base64($key2));
my $node2 = colcrypt_node('base64');
set_key_conf($node2, master_key_file => $b64_file2);
$node2->start;
my $fp2 = loaded_fingerprint($node2);
like($fp2 // '', qr/\A[0-9a-f]{16}\z/, 'second node, base64 key: fingerprint logged');
isnt($fp2, $hex_fp, 'a different key has a different fingerprint');
$out = sql_ok(
	$node2, 'postgres',
	"CREATE EXTENSION colcrypt;
	 SELECT colcrypt.create_key('pii');
	 SELECT master_key_fingerprint FROM colcrypt.keys;",
	'second node, base64 key: create_key works');
is((split /\n/, $out)[-1], $fp2, 'second node: colcrypt.keys shows the logged fingerprint');
my ($hex2, $b642) = (key_hex($key2), key_base64($key2));
my $log2 = slurp_file($node2->logfile);
unlike($log2, qr/\Q$hex2\E/i, 'second node: key (hex) not in the log');
unlike($log2, qr/\Q$b642\E/, 'second node: key (base64) not in the log');
$node2->stop;

###############################################################################
# 3. Bad key material: the server refuses to start and says why; once the
#    configuration is fixed it starts again.
###############################################################################

my $missing = "$keydir/does-not-exist.key";
my $wide = write_key_file("$keydir/wide.key", "$hex\n", 0644);
my $short = write_key_file("$keydir/short.key", "0123456789\n");
my $nothex = write_key_file("$keydir/nothex.key", ('z' x 64) . "\n");

my @bad = (
	[
		'missing explicit file', { master_key_file => $missing },
		qr/could not open colcrypt master key file "\Q$missing\E"/
	],
	[
		'mode 0644', { master_key_file => $wide },
		qr/colcrypt master key file "\Q$wide\E" has group or world access/
	],
	[ '10 hex digits', { master_key_file => $short }, qr/wrong length/ ],
	[ '64 characters neither hex nor base64', { master_key_file => $nothex }, qr/neither hex nor base64/ ],
	[ 'command exiting 1', { master_key_command => 'exit 1' }, qr/colcrypt\.master_key_command failed/ ],
	[
		'command that never returns',
		{ master_key_command => 'sleep 600 # token=SECRET-TOKEN', master_key_command_timeout => '2' },
		qr/running colcrypt\.master_key_command \(timeout 2 s\).*colcrypt\.master_key_command did not finish within 2 s/s
	],
	[
		'file and command both set',
		{ master_key_file => $hex_file, master_key_command => "cat '$hex_file'" },
		qr/colcrypt\.master_key_file and colcrypt\.master_key_command are both set/
	],
);

foreach my $case (@bad)
{
	my ($what, $gucs, $expect) = @$case;
	$node->stop;
	set_key_conf($node, %$gucs);
	$offset = log_size($node);
	my $started = $node->start(fail_ok => 1);
	is($started, 0, "$what: server does not start");
	my $since = log_since($node, $offset);
	like($since, $expect, "$what: log says why");
	unlike($since, qr/master key loaded/, "$what: no key was loaded");
	unlike($since, qr/\Q$hex\E/i, "$what: key not in the log");

	set_key_conf($node, master_key_file => $hex_file);
	$offset = log_size($node);
	is($node->start(fail_ok => 1), 1, "$what: starts again once fixed");
	is(scalar loaded_fingerprint($node, $offset), $hex_fp, "$what: the right key is loaded after the fix");
	is($node->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1'), $marker, "$what: data readable after the fix");
}
ok(!-e $missing, 'no key is generated for an explicitly configured path');
unlike(log_since($node), qr/SECRET-TOKEN/, 'the log names the setting, never the command line');

# A hanging command does not keep pg_ctl stop from working: the postmaster
# notices the stop request while it waits.
$node->stop;
set_key_conf($node, master_key_command => 'sleep 600', master_key_command_timeout => '600');
$offset = log_size($node);
PostgreSQL::Test::Utils::system_log('pg_ctl', '-D', $node->data_dir, '-l', $node->logfile, '-W', 'start');
ok($node->wait_for_log(qr/running colcrypt\.master_key_command \(timeout 600 s\)/, $offset),
	'the server waits for the key command');
my $stop_started = time;
PostgreSQL::Test::Utils::system_log('pg_ctl', '-D', $node->data_dir, '-m', 'fast', '-w', 'stop');
cmp_ok(time - $stop_started, '<', 60, 'pg_ctl stop returns while the key command hangs');
ok(!-e $node->data_dir . '/postmaster.pid', 'the postmaster has exited');
like(log_since($node, $offset), qr/colcrypt\.master_key_command was interrupted by a request to stop/,
	'and says why');
set_key_conf($node, master_key_file => $hex_file);
$node->start;
like(log_since($node), qr/File mode is 0644/, 'mode error shows the file mode');
like(log_since($node), qr/exit code 1/, 'command error shows the exit status');

###############################################################################
# 4. Without shared_preload_libraries.
###############################################################################

my $plain = colcrypt_node('no_preload', preload => 0);
$plain->start;
my ($ret, $stdout, $stderr) = psql_full($plain, 'postgres', 'CREATE EXTENSION colcrypt;');
is($ret, 0, 'without preload: CREATE EXTENSION succeeds') or diag($stderr);

($ret, $stdout, $stderr) = psql_full($plain, 'postgres', "SELECT colcrypt.create_key('pii');");
isnt($ret, 0, 'without preload: create_key fails');
like($stderr, qr/colcrypt master key is not loaded/, 'without preload: create_key says the key is not loaded');
like($stderr, qr/HINT:.*shared_preload_libraries/, 'without preload: hint names shared_preload_libraries');

($ret, $stdout, $stderr) = psql_full($plain, 'postgres', "SELECT 'x'::colcrypt.encrypted_text;");
isnt($ret, 0, 'without preload: encrypting a value fails');
like($stderr, qr/colcrypt master key is not loaded/, 'without preload: value input says the key is not loaded');
($ret, $stdout, $stderr) = psql_full($plain, 'postgres', 'SELECT count(*) FROM colcrypt.keyrings');
is($stdout, '0', 'without preload: no keyring created') or diag($stderr);
ok(!-e default_key_file($plain), 'without preload: no key file generated');
$plain->stop;

###############################################################################
# 5. No key material or plaintext in the server log (log_statement is off on
#    this node).  Provoke an error on an envelope too: it must not echo the
#    plaintext.
###############################################################################

my $envelope = $node->safe_psql('postgres',
	"SET colcrypt.output_mode = ciphertext; SELECT v FROM t WHERE id = 1");
like($envelope, qr/\Acolcrypt:[A-Za-z0-9+\/=]+\z/, 'ciphertext mode shows an envelope');
(my $tampered = $envelope) =~ s/^(colcrypt:.{12})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
($ret, $stdout, $stderr) = psql_full($node, 'postgres', "INSERT INTO t VALUES (9, '$tampered');");
isnt($ret, 0, 'tampered envelope is rejected');
unlike($stderr, qr/\Q$marker\E/, 'the error does not show the plaintext');
$node->stop;

$log = slurp_file($node->logfile);
unlike($log, qr/\Q$hex\E/i, 'server log never contains the key in hex');
unlike($log, qr/\Q$b64\E/, 'server log never contains the key in base64');
unlike($log, qr/\Q$marker\E/, 'server log never contains an inserted plaintext');
unlike($log, qr/terminated by signal/, 'no backend crashed');

done_testing();
