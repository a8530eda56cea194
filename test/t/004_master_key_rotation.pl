# Master key rotation: a wrong previous key changes nothing; the right one
# rewraps every key in one transaction without rewriting table data; after a
# restart with only the new key everything reads.  Also the previous key from
# a command, and the checks on the previous key file.
use strict;
use warnings;

use File::Path qw(make_path);

# PostgreSQL::Test::Utils creates $TESTDIR/tmp_check with a plain mkdir in
# its INIT block: $TESTDIR itself must exist first.
BEGIN { make_path($ENV{TESTDIR}) if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $keys = PostgreSQL::Test::Utils::tempdir('keys');

sub write_key
{
	my ($name, $mode) = @_;
	open my $random, '<:raw', '/dev/urandom' or die "/dev/urandom: $!";
	read($random, my $bytes, 32) == 32 or die 'short read from /dev/urandom';
	close $random;
	my $path = "$keys/$name.key";
	open my $fh, '>', $path or die "$path: $!";
	print $fh unpack('H*', $bytes), "\n";
	close $fh;
	chmod(defined $mode ? $mode : 0600, $path) or die "chmod $path: $!";
	return $path;
}

my $old_key = write_key('old');
my $new_key = write_key('new');
my $third_key = write_key('third');
my $wrong_key = write_key('wrong');
my $open_key = write_key('world_readable', 0644);

my $node = PostgreSQL::Test::Cluster->new('rotation');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'colcrypt'
include_if_exists = 'colcrypt_key.conf'
# No background re-encryption after rotate_key: this test is about keys.
colcrypt.reencrypt_on_rotate = off
EOC

# The key settings live in one include file, rewritten for each step.
sub set_keys
{
	my (%gucs) = @_;
	my $path = $node->data_dir . '/colcrypt_key.conf';
	open my $fh, '>', $path or die "$path: $!";
	print $fh "colcrypt.$_ = '$gucs{$_}'\n" foreach sort keys %gucs;
	close $fh;
	return;
}

# (exit code, stdout, stderr) of some SQL.
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql('postgres', $sql, stdout => \$out, stderr => \$err);
	return ($ret, $out, $err);
}

sub loaded_fingerprint
{
	my ($offset) = @_;
	my $fp;
	my $log = slurp_file($node->logfile, $offset);
	$fp = $1 while $log =~ /colcrypt: master key loaded from .*? \(fingerprint ([0-9a-f]{16})\)/g;
	return $fp;
}

my $all_values_sql = q{
	SELECT 'pii', id, v::text FROM pii_data
	UNION ALL SELECT 'hr', id, v::text FROM hr_data ORDER BY 1, 2};
my $expected_values = join "\n",
  ('hr|1|salary 1', 'hr|2|salary 2', 'pii|1|alice', 'pii|2|bob', 'pii|3|carol');
my $versions_sql = q{
	SELECT keyring_id, purpose, version, state, encode(wrapped_key, 'hex'), master_key_fingerprint
	  FROM colcrypt.key_versions ORDER BY 1, 2, 3};
# Raw envelopes: table data must not change.
my $envelopes_sql = q{
	SET colcrypt.output_mode = ciphertext;
	SELECT colcrypt.encrypted_text_out(v)::text FROM pii_data
	UNION ALL SELECT colcrypt.encrypted_text_out(v)::text FROM hr_data ORDER BY 1};

# --- Keys and data under the old master key ----------------------------------
set_keys(master_key_file => $old_key);
my $offset = -s $node->logfile || 0;
$node->start;
my $old_fp = loaded_fingerprint(0);
like($old_fp, qr/\A[0-9a-f]{16}\z/, 'started with the old master key');

$node->safe_psql('postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	SELECT colcrypt.create_key('hr');
	CREATE TABLE pii_data (id int, v colcrypt.encrypted_text('pii'));
	CREATE TABLE hr_data (id int, v colcrypt.encrypted_text('hr'));
	INSERT INTO pii_data VALUES (1, 'alice');
	INSERT INTO hr_data VALUES (1, 'salary 1'), (2, 'salary 2');
});
$node->safe_psql('postgres', q{SELECT colcrypt.rotate_key('pii')});
$node->safe_psql('postgres', q{INSERT INTO pii_data VALUES (2, 'bob'), (3, 'carol')});
is($node->safe_psql('postgres', $all_values_sql), $expected_values, 'values written under the old key');
is( $node->safe_psql('postgres',
		q{SELECT count(*), count(DISTINCT master_key_fingerprint), min(master_key_fingerprint) FROM colcrypt.key_versions}),
	"5|1|$old_fp",
	'five wrapped keys (pii data v1, v2, index v1; hr data, index), all under the old key');
my $envelopes_before = $node->safe_psql('postgres', $envelopes_sql);

# --- New master key, wrong previous key ---------------------------------------
$node->stop;
set_keys(master_key_file => $new_key, previous_master_key_file => $wrong_key);
$offset = -s $node->logfile;
$node->start;
my $new_fp = loaded_fingerprint($offset);
like($new_fp, qr/\A[0-9a-f]{16}\z/, 'restarted with the new master key');
isnt($new_fp, $old_fp, 'the new key has another fingerprint');

my ($ret, $out, $err) = run_sql('SELECT v FROM pii_data');
like($err, qr/master key does not match keyring "pii"/, 'before rotation the keys do not open under the new key');

my $versions_before = $node->safe_psql('postgres', $versions_sql);
my $events_before = $node->safe_psql('postgres', 'SELECT count(*) FROM colcrypt.key_events');
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
isnt($ret, 0, 'rotation with a wrong previous key fails');
like($err, qr/previous master key does not match keyring "hr"/, 'the error says the previous key does not match');
like($err, qr/wrapped by master key \Q$old_fp\E; the previous master key is [0-9a-f]{16} and the current one \Q$new_fp\E/,
	'the detail names the fingerprints');
is($node->safe_psql('postgres', $versions_sql), $versions_before, 'wrong previous key: key_versions unchanged');
is($node->safe_psql('postgres', 'SELECT count(*) FROM colcrypt.key_events'), $events_before, 'and nothing audited');

# The previous key file gets the same checks as the master key file.
set_keys(master_key_file => $new_key, previous_master_key_file => $open_key);
$node->reload;
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
like($err, qr/colcrypt previous master key file ".*world_readable.key" has group or world access/,
	'a world-readable previous key file is refused');
set_keys(master_key_file => $new_key, previous_master_key_file => "$keys/missing.key");
$node->reload;
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
like($err, qr/could not open colcrypt previous master key file ".*missing.key"/, 'a missing previous key file is refused');
set_keys(master_key_file => $new_key, previous_master_key_file => $old_key,
	previous_master_key_command => "cat $old_key");
$node->reload;
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
like($err, qr/previous_master_key_file and colcrypt.previous_master_key_command are both set/,
	'file and command together are refused');
set_keys(master_key_file => $new_key, previous_master_key_file => $new_key);
$node->reload;
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
like($err, qr/the previous master key is the current master key/, 'the current key as previous key is refused');

# A damaged wrapped key is found before anything is written.
set_keys(master_key_file => $new_key, previous_master_key_file => $old_key);
$node->reload;
$node->safe_psql('postgres', q{
	UPDATE colcrypt.key_versions SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1)
	 WHERE keyring_id = 2 AND purpose = 'index'});
my $damaged = $node->safe_psql('postgres', $versions_sql);
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
like($err, qr/blind-index key version 1 of keyring "hr" failed authentication with the previous master key/,
	'a damaged wrapped key stops the rotation');
is($node->safe_psql('postgres', $versions_sql), $damaged, 'damaged key: key_versions unchanged');
$node->safe_psql('postgres', q{
	UPDATE colcrypt.key_versions SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1)
	 WHERE keyring_id = 2 AND purpose = 'index'});
is($node->safe_psql('postgres', $versions_sql), $versions_before, 'damage undone');

# --- The right previous key ----------------------------------------------------
$offset = -s $node->logfile;
is($node->safe_psql('postgres', 'SELECT colcrypt.rotate_master_key()'), '5', 'five keys rewrapped');
is($node->safe_psql('postgres', $all_values_sql), $expected_values, 'every value reads after the rotation');
is( $node->safe_psql('postgres',
		q{SELECT count(*), count(DISTINCT master_key_fingerprint), min(master_key_fingerprint) FROM colcrypt.key_versions}),
	"5|1|$new_fp",
	'every wrapped key now carries the new fingerprint');
isnt($node->safe_psql('postgres', $versions_sql), $versions_before, 'the wrapped keys changed');
is($node->safe_psql('postgres', q{SELECT string_agg(state, ',' ORDER BY keyring_id, purpose, version) FROM colcrypt.key_versions}),
	'decrypt_only,active,active,active,active', 'states unchanged');
is($node->safe_psql('postgres', $envelopes_sql), $envelopes_before, 'no table data was rewritten');
is( $node->safe_psql('postgres', q{
		SELECT operation, keyring IS NULL, regexp_replace(detail, '[0-9a-f]{16}', 'FP', 'g')
		  FROM colcrypt.key_events WHERE operation = 'rotate_master_key'}),
	'rotate_master_key|t|5 keys rewrapped from master key FP to master key FP',
	'the rotation is audited');
like(slurp_file($node->logfile, $offset),
	qr/colcrypt: rotate_master_key by role "\w+" \(session user "\w+"\): 5 keys rewrapped from master key \Q$old_fp\E to master key \Q$new_fp\E/,
	'and logged with both fingerprints');
($ret, $out, $err) = run_sql('SELECT colcrypt.rotate_master_key()');
is($out, '0', 'a second rotation has nothing to do');
like($err, qr/every key is already wrapped by the current master key/, 'and says so');

# --- Restart with only the new key ----------------------------------------------
$node->stop;
unlink $old_key or die "unlink $old_key: $!";
set_keys(master_key_file => $new_key);
$node->start;
is($node->safe_psql('postgres', $all_values_sql), $expected_values, 'after a restart with only the new key, everything reads');
$node->safe_psql('postgres', q{INSERT INTO hr_data VALUES (3, 'salary 3')});
is($node->safe_psql('postgres', q{SELECT v FROM hr_data WHERE id = 3}), 'salary 3', 'and new values are written');
$node->safe_psql('postgres', q{DELETE FROM hr_data WHERE id = 3});

# --- Once more, the previous key from a command ----------------------------------
$node->stop;
set_keys(master_key_file => $third_key, previous_master_key_command => "cat $new_key");
$node->start;
is($node->safe_psql('postgres', 'SELECT colcrypt.rotate_master_key()'), '5', 'previous key from a command: five keys rewrapped');
$node->stop;
set_keys(master_key_file => $third_key);
$node->start;
is($node->safe_psql('postgres', $all_values_sql), $expected_values, 'third key alone reads everything');
is($node->safe_psql('postgres', q{SELECT count(*) FROM colcrypt.key_events WHERE operation = 'rotate_master_key'}),
	'2', 'both rotations audited');

$node->stop;
done_testing();
