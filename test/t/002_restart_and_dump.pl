# Values across restarts, a restart with the wrong master key, what reaches
# the disk (heap, TOAST and WAL hold no plaintext), and pg_dump / restore in
# plaintext and in ciphertext output mode.
use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $tmp = PostgreSQL::Test::Utils::tempdir('dump');

my $node = colcrypt_node('main');
$node->start;
my $key_file = default_key_file($node);
my $fp = loaded_fingerprint($node);
like($fp // '', qr/\A[0-9a-f]{16}\z/, 'server started with the generated key');

# The values, as byte strings (this file is UTF-8 and has no "use utf8").
my $big_unit = '0123456789abcdef';
my %values = (
	1 => '',
	2 => 'plain ASCII, with \'quotes\', \\backslashes\\ and "double quotes"',
	3 => 'Grüße 日本語 🎉',
	4 => $big_unit x 65536,    # 1 MiB
	5 => undef,
);

# What the table holds, as "id|bytes|md5" lines (NULL as id|NULL).
my $snapshot_sql = q{
	SELECT id, CASE WHEN v IS NULL THEN 'NULL'
	                ELSE octet_length(v::text) || '|' || md5(v::text) END
	  FROM t ORDER BY id};
my $expected_snapshot = join "\n", map {
	defined $values{$_}
	  ? "$_|" . length($values{$_}) . '|' . md5_hex($values{$_})
	  : "$_|NULL"
} sort keys %values;
my $small_sql = 'SELECT id, v FROM t WHERE id IN (1, 2, 3) ORDER BY id';
my $expected_small = join "\n", map { "$_|$values{$_}" } 1 .. 3;

sub check_values
{
	my ($db, $what) = @_;
	my ($ret, $out, $err) = psql_full($node, $db, $snapshot_sql);
	is($ret, 0, "$what: table readable") or diag($err);
	is($out, $expected_snapshot, "$what: every value (1 MiB one included) is identical");
	($ret, $out, $err) = psql_full($node, $db, $small_sql);
	is($out, $expected_small, "$what: empty, ASCII and multibyte UTF-8 values read back as written");
	return;
}

sql_ok(
	$node, 'postgres', q{
	CREATE DATABASE src;
}, 'create the source database');

sql_ok(
	$node, 'src', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE t (id int PRIMARY KEY, v colcrypt.encrypted_text('pii'));
	INSERT INTO t VALUES
		(1, ''),
		(2, 'plain ASCII, with ''quotes'', \backslashes\ and "double quotes"'),
		(3, 'Grüße 日本語 🎉'),
		(4, repeat('0123456789abcdef', 65536)),
		(5, NULL);
}, 'create a keyring, a table and the values');

check_values('src', 'after insert');
is( $node->safe_psql(
		'src',
		"SELECT d.keyring, d.key_version, d.format_version, d.algorithm
		   FROM t, colcrypt.describe(t.v) d WHERE t.id = 3"),
	'pii|1|1|aes-256-gcm',
	'describe() names the keyring, version and algorithm');

###############################################################################
# Restart: still readable.
###############################################################################

$node->restart;
check_values('src', 'after restart');

###############################################################################
# Restart with a different master key: a clear error, no crash; the right key
# makes the data readable again.
###############################################################################

my $wrong_key = write_key_file("$tmp/wrong.key", key_hex(random_key_bytes()) . "\n");
$node->stop;
set_key_conf($node, master_key_file => $wrong_key);
my $offset = log_size($node);
$node->start;
my $wrong_fp = loaded_fingerprint($node, $offset);
like($wrong_fp // '', qr/\A[0-9a-f]{16}\z/, 'wrong key: server starts and logs its fingerprint');
isnt($wrong_fp, $fp, 'wrong key: a different fingerprint');

my ($ret, $out, $err) = psql_full($node, 'src', 'SELECT v FROM t WHERE id = 2');
isnt($ret, 0, 'wrong key: SELECT of the encrypted column fails');
like($err, qr/ERROR:.*master key does not match keyring "pii"/, 'wrong key: error names the keyring');
like(
	$err,
	qr/DETAIL:\s+The keyring's keys were wrapped by master key \Q$fp\E; the server has master key \Q$wrong_fp\E\./,
	'wrong key: detail names the old and the new fingerprint');
unlike($out, qr/ASCII/, 'wrong key: no plaintext returned');

($ret, $out, $err) = psql_full($node, 'src', "INSERT INTO t VALUES (99, 'new value')");
isnt($ret, 0, 'wrong key: INSERT into the encrypted column fails too');
like($err, qr/master key does not match keyring "pii"/, 'wrong key: INSERT error names the keyring');

is($node->safe_psql('src', 'SELECT 1'), '1', 'wrong key: server still answers');
is($node->safe_psql('src', 'SELECT count(*) FROM t'), '5', 'wrong key: the rows are all there');
ok(!$node->log_contains('terminated by signal', $offset), 'wrong key: no backend crashed');

$node->stop;
set_key_conf($node);    # back to the default key file
$offset = log_size($node);
$node->start;
is(scalar loaded_fingerprint($node, $offset), $fp, 'right key again: original fingerprint');
check_values('src', 'right key again');

###############################################################################
# What reaches the disk.  The marker goes into the encrypted column first;
# heap and WAL must not hold it.  Then the same marker goes into a plain text
# column, where both must hold it: the control that shows the scan works.
###############################################################################

my $marker = 'PLAINTEXT-MARKER-4711';
my $data_dir = $node->data_dir;

sub wal_files
{
	opendir my $dh, "$data_dir/pg_wal" or die "could not open pg_wal: $!";
	my @files = map { "$data_dir/pg_wal/$_" } grep { /^[0-9A-F]{24}$/ } readdir $dh;
	closedir $dh;
	return @files;
}
ok(scalar(wal_files()) > 0, 'found WAL segments to scan');
ok(!file_contains($marker, wal_files()), 'the marker is not in the WAL before the test');

sql_ok($node, 'src', "INSERT INTO t VALUES (6, '$marker'); CHECKPOINT;", 'insert the marker into the encrypted column');
my $heap = "$data_dir/" . $node->safe_psql('src', "SELECT pg_relation_filepath('t')");
my $toast = "$data_dir/"
  . $node->safe_psql('src',
	"SELECT pg_relation_filepath(reltoastrelid) FROM pg_class WHERE oid = 't'::regclass");
ok(-s $heap, 'heap file of the encrypted table exists');
ok(-s $toast, 'TOAST file of the encrypted table exists (the 1 MiB value)');
ok(!file_contains($marker, $heap), 'encrypted column: heap file does not contain the plaintext marker');
ok(!file_contains('Grüße', $heap), 'encrypted column: heap file does not contain the UTF-8 value');
ok(!file_contains($big_unit x 4, $heap, $toast), 'encrypted column: heap and TOAST do not contain the 1 MiB plaintext');
ok(!file_contains($marker, wal_files()), 'encrypted column: WAL does not contain the plaintext marker');
ok(!file_contains('Grüße', wal_files()), 'encrypted column: WAL does not contain the UTF-8 value');
is($node->safe_psql('src', 'SELECT v FROM t WHERE id = 6'), $marker, 'the marker reads back through the column');

sql_ok(
	$node, 'src', "CREATE TABLE control (id int, v text);
	 INSERT INTO control VALUES (1, '$marker'); CHECKPOINT;",
	'insert the marker into a plain text column');
my $control_heap = "$data_dir/" . $node->safe_psql('src', "SELECT pg_relation_filepath('control')");
ok(file_contains($marker, $control_heap), 'control: heap file of the plain column contains the marker');
ok(file_contains($marker, wal_files()), 'control: WAL contains the marker');
sql_ok($node, 'src', 'DROP TABLE control; DELETE FROM t WHERE id = 6;', 'drop the control table and the marker row');

# The type family (0.2.0) goes through both dumps too.
sql_ok(
	$node, 'src', q{CREATE TABLE fam (id int PRIMARY KEY, b colcrypt.encrypted_bytea('pii'),
	     j colcrypt.encrypted_jsonb('pii'), i4 colcrypt.encrypted_int4('pii'), i8 colcrypt.encrypted_int8('pii'),
	     n colcrypt.encrypted_numeric('pii'), d colcrypt.encrypted_date('pii'),
	     ts colcrypt.encrypted_timestamptz('pii'));
	 INSERT INTO fam VALUES (1, '\x00ff', '{"k": [1.50, "ü"]}', -7, 8765432109876543, 'NaN', 'infinity',
	                         '2026-01-02 03:04:05.678+00'),
	                        (2, '\x', '{}', 0, 0, 1.50, '1999-12-31', '-infinity'),
	                        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL);},
	'a table of every other encrypted type');
my $family_sql = q{SET TimeZone = 'UTC'; SELECT * FROM fam ORDER BY id};

# A table with an index over blind-index terms (docs/design/lookup-index.md):
# the restore builds it again from the envelopes, and lookups use it.
sql_ok(
	$node, 'src', q{
	CREATE TABLE lk (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'), plain text);
	INSERT INTO lk SELECT g, 'user' || g || '@example.com', 'user' || g || '@example.com'
	  FROM generate_series(1, 500) g;
	CREATE INDEX lk_term ON lk (colcrypt.term(email));
}, 'a table with an index over terms');
my $lookups_sql = q{SET enable_seqscan = off;
	SELECT count(*) FILTER (WHERE (SELECT array_agg(q.id) FROM lk q WHERE q.email = p.plain) = ARRAY[p.id]) FROM lk p};
my $lookup_plan_sql = q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM lk WHERE email = 'user7@example.com'};

sub check_term_index
{
	my ($db, $what) = @_;
	like($node->safe_psql($db, $lookup_plan_sql), qr/Index Scan (?:using|on) lk_term/,
		"$what: a lookup goes through the index over terms");
	is($node->safe_psql($db, $lookups_sql), '500', "$what: every row found by its plaintext, and only it");
	is($node->safe_psql($db, "SELECT count(*) FROM lk WHERE email = 'nobody\@example.com'"),
		'0', "$what: a missing value finds nothing");
	return;
}
check_term_index('src', 'before the dump');
my $family_expected = $node->safe_psql('src', $family_sql);

###############################################################################
# pg_dump in the default (plaintext) output mode, custom format; pg_restore
# into a new database.  The restore creates the table before the keyring rows
# are loaded (type modifier check skipped), then loads the values through the
# input function, which encrypts them again.
###############################################################################

sub column_type
{
	my ($db, $table) = @_;
	return $node->safe_psql($db,
		"SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		  WHERE attrelid = '$table'::regclass AND attname = 'v'");
}

my $plain_dump = "$tmp/plaintext.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $plain_dump, '-d', 'src' ], 'pg_dump (plaintext mode, custom format)');
ok(-s $plain_dump, 'dump file written');

$node->command_ok([ 'createdb', 'restored_plain' ], 'createdb for the plaintext restore');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored_plain', $plain_dump ],
	'pg_restore of the plaintext-mode dump');
check_values('restored_plain', 'plaintext-mode restore');
is(column_type('restored_plain', 't'), "colcrypt.encrypted_text('pii')", 'restored column type keeps its keyring');
is($node->safe_psql('restored_plain', $family_sql), $family_expected,
	'plaintext-mode restore: every other encrypted type reads back as written');
check_term_index('restored_plain', 'plaintext-mode restore');
is( $node->safe_psql(
		'restored_plain',
		"SELECT DISTINCT d.keyring FROM t, colcrypt.describe(t.v) d WHERE t.v IS NOT NULL"),
	'pii',
	'restored values are encrypted under keyring pii');
is($node->safe_psql('restored_plain', "SELECT keyring, version, master_key_fingerprint FROM colcrypt.keys"),
	"pii|1|$fp", 'restored keyring rows (same wrapped keys, same master key)');
($ret, $out, $err) = psql_full($node, 'restored_plain', "INSERT INTO t VALUES (7, 'after restore') RETURNING v");
is($out, 'after restore', 'restored database encrypts new values') or diag($err);

###############################################################################
# pg_dump in ciphertext output mode, plain format: the file holds envelopes,
# never plaintext; psql -f into a new database verifies them and gives the
# same plaintexts back.
###############################################################################

my $cipher_dump = "$tmp/ciphertext.sql";
{
	local $ENV{PGOPTIONS} = '-c colcrypt.output_mode=ciphertext';
	$node->command_ok([ 'pg_dump', '-Fp', '-f', $cipher_dump, '-d', 'src' ],
		'pg_dump with colcrypt.output_mode=ciphertext (plain format)');
}
my $dump_text = slurp_binary($cipher_dump);
like($dump_text, qr/colcrypt:[A-Za-z0-9+\/]{20,}/, 'ciphertext dump contains envelopes');
unlike($dump_text, qr/plain ASCII/, 'ciphertext dump does not contain the ASCII plaintext');
unlike($dump_text, qr/Grüße|日本語/, 'ciphertext dump does not contain the UTF-8 plaintext');
ok(index($dump_text, $big_unit x 4) < 0, 'ciphertext dump does not contain the 1 MiB plaintext');
like($dump_text, qr/colcrypt\.encrypted_text\('pii'\)/, 'ciphertext dump declares the column type with its keyring');

$node->command_ok([ 'createdb', 'restored_cipher' ], 'createdb for the ciphertext restore');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'restored_cipher', '-f', $cipher_dump ],
	'psql -f of the ciphertext-mode dump');
check_values('restored_cipher', 'ciphertext-mode restore');
is(column_type('restored_cipher', 't'), "colcrypt.encrypted_text('pii')", 'ciphertext restore: column type keeps its keyring');
my $envelopes_sql = 'SET colcrypt.output_mode = ciphertext; SELECT id, v FROM t ORDER BY id';
is($node->safe_psql('restored_cipher', $envelopes_sql),
	$node->safe_psql('src', $envelopes_sql),
	'ciphertext restore keeps the stored envelopes byte for byte');
is($node->safe_psql('restored_cipher', $family_sql), $family_expected,
	'ciphertext restore: every other encrypted type reads back as written');
check_term_index('restored_cipher', 'ciphertext-mode restore');
my $family_envelopes = 'SET colcrypt.output_mode = ciphertext; SELECT * FROM fam ORDER BY id';
is($node->safe_psql('restored_cipher', $family_envelopes), $node->safe_psql('src', $family_envelopes),
	'ciphertext restore keeps the envelopes of every other type byte for byte');
unlike($dump_text, qr/8765432109876543/, 'ciphertext dump does not contain the int8 plaintext');

# A tampered envelope in the dump is refused by the restore.
(my $tampered = $dump_text) =~ s/(colcrypt:[A-Za-z0-9+\/]{12})([A-Za-z0-9+\/])/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
isnt($tampered, $dump_text, 'tampered one envelope in a copy of the dump');
write_file("$tmp/tampered.sql", $tampered);
$node->command_ok([ 'createdb', 'restored_tampered' ], 'createdb for the tampered restore');
$node->command_fails_like(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'restored_tampered', '-f', "$tmp/tampered.sql" ],
	qr/authenticat/,
	'restore of a tampered envelope fails authentication');

###############################################################################
# A table in a schema whose name sorts before "colcrypt": pg_dump orders the
# data of tables by schema name, so this table's rows come before the keyring
# rows.  A ciphertext-mode dump restores in any order (envelopes of keyrings
# not restored yet are kept unverified and authenticated on every read); a
# plaintext-mode dump cannot be encrypted before its keys exist, so it fails
# with a hint, and the documented reordering restores it.
###############################################################################

sql_ok(
	$node, 'src', q{
	CREATE SCHEMA app;
	CREATE TABLE app.users (id int, email colcrypt.encrypted_text('pii'));
	INSERT INTO app.users VALUES (1, 'alice@example.com'), (2, 'bob@example.com');
}, 'a table in schema app');

# Plaintext mode, restored as it is: a clear error, nothing crashes.
my $app_dump = "$tmp/app.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $app_dump, '-d', 'src' ], 'pg_dump with schema app');
$node->command_ok([ 'createdb', 'restored_app_direct' ], 'createdb for the direct restore');
$node->command_fails_like(
	[ 'pg_restore', '--exit-on-error', '-d', 'restored_app_direct', $app_dump ],
	qr/restored before colcrypt's key tables.*\n.*HINT:.*encrypt_grants.*pg_restore -L/s,
	'plaintext-mode restore in dump order fails with the reordering hint');

# The documented reordering: the key tables' data before all other data.
my ($list) = run_command([ 'pg_restore', '-l', $app_dump ]);
my @lines = split /\n/, $list;
my @key_data = grep { /TABLE DATA colcrypt (keyrings|key_versions|encrypt_grants)\b/ } @lines;
is(scalar @key_data, 3, 'the dump holds the data of the key tables and encrypt grants');
my @reordered;
my $placed = 0;
for my $line (@lines) {
	next if grep { $_ eq $line } @key_data;
	if (!$placed && $line =~ /TABLE DATA/) {
		push @reordered, @key_data;
		$placed = 1;
	}
	push @reordered, $line;
}
write_file("$tmp/app.list", join("\n", @reordered) . "\n");
$node->command_ok([ 'createdb', 'restored_app' ], 'createdb for the reordered restore');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-L', "$tmp/app.list", '-d', 'restored_app', $app_dump ],
	'pg_restore -L with the key tables first');
($ret, $out, $err) = psql_full($node, 'restored_app', 'SELECT id, email FROM app.users ORDER BY id');
is($out, "1|alice\@example.com\n2|bob\@example.com", 'schema app: values restored') or diag($err);

# Ciphertext mode restores in dump order.
my $app_cipher = "$tmp/app_cipher.sql";
{
	local $ENV{PGOPTIONS} = '-c colcrypt.output_mode=ciphertext';
	$node->command_ok([ 'pg_dump', '-f', $app_cipher, '-d', 'src' ], 'ciphertext-mode pg_dump with schema app');
}
my $cipher_text = slurp_file($app_cipher);
ok(index($cipher_text, 'alice@example.com') < 0, 'schema app ciphertext dump holds no plaintext');
ok(index($cipher_text, 'COPY app.users') < index($cipher_text, 'COPY colcrypt.keyrings'),
	'the dump really loads app.users before the keyrings');
$node->command_ok([ 'createdb', 'restored_app_cipher' ], 'createdb for the ciphertext restore');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'restored_app_cipher', '-f', $app_cipher ],
	'ciphertext-mode restore in dump order');
($ret, $out, $err) = psql_full($node, 'restored_app_cipher', 'SELECT id, email FROM app.users ORDER BY id');
is($out, "1|alice\@example.com\n2|bob\@example.com", 'schema app: ciphertext restore reads back') or diag($err);

###############################################################################
# A column without a keyring, as 0.1.0 let CREATE TABLE AS make one (today
# only a restore by a superuser or colcrypt_admin member can): both dump
# modes restore the table whole, rows counted, not just exit codes.
###############################################################################

$node->safe_psql('postgres', 'CREATE DATABASE legacy_src');
sql_ok(
	$node, 'legacy_src', q{
	CREATE EXTENSION colcrypt;
	SET check_function_bodies = off;
	CREATE TABLE legacy (id int, v colcrypt.encrypted_text);
	RESET check_function_bodies;
	INSERT INTO legacy SELECT g, 'legacy ' || g FROM generate_series(1, 50) g;
}, 'a keyring-less column, as 0.1.0 made them');
is($node->safe_psql('legacy_src', q{SELECT count(*), min((colcrypt.describe(v)).keyring) FROM legacy}), '50|(transit)',
	'its values are transit values');
my $legacy_sum = $node->safe_psql('legacy_src', q{SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM legacy});
for my $mode ('plaintext', 'ciphertext')
{
	my $dump = "$tmp/legacy_$mode.dump";
	{
		local $ENV{PGOPTIONS} = "-c colcrypt.output_mode=$mode";
		$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'legacy_src' ],
			"pg_dump -Fc in $mode mode with the keyring-less column");
	}
	$node->command_ok([ 'createdb', "restored_legacy_$mode" ], "createdb for the $mode restore");
	($ret, $out, $err) = ('', '', '');
	my $log_offset = log_size($node);
	my $restored = PostgreSQL::Test::Utils::run_log(
		[ 'pg_restore', '--exit-on-error', '-d', $node->connstr("restored_legacy_$mode"), $dump ],
		'2>', \$err);
	ok($restored, "$mode: pg_restore --exit-on-error succeeds") or diag($err);
	ok($node->log_contains(qr/WARNING:  column "v" of type colcrypt.encrypted_text has no keyring/, $log_offset),
		"$mode: the restore warns about the column");
	is($node->safe_psql("restored_legacy_$mode", 'SELECT count(*) FROM legacy'), '50', "$mode: every row is restored");
	is($node->safe_psql("restored_legacy_$mode", q{SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM legacy}),
		$legacy_sum, "$mode: and reads as before");
}

###############################################################################
# A keyring whose encrypt grant to PUBLIC was revoked: a ciphertext-mode dump
# restores (envelopes are stored, nothing is sealed); a plaintext-mode
# restore seals, so the restoring role needs the grant, and the error says so.
# The grants themselves are dumped and restored.
###############################################################################

$node->safe_psql('postgres', 'CREATE DATABASE closed_src');
sql_ok(
	$node, 'closed_src', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('closed');
	CREATE TABLE t (id int, v colcrypt.encrypted_text('closed'));
	INSERT INTO t SELECT g, 'closed ' || g FROM generate_series(1, 20) g;
	SELECT colcrypt.revoke_encrypt('closed', 'public');
}, 'a keyring closed to PUBLIC');
my $closed_sum = $node->safe_psql('closed_src', q{SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM t});
my $closed_cipher = "$tmp/closed_cipher.dump";
{
	local $ENV{PGOPTIONS} = '-c colcrypt.output_mode=ciphertext';
	$node->command_ok([ 'pg_dump', '-Fc', '-f', $closed_cipher, '-d', 'closed_src' ], 'closed keyring: ciphertext dump');
}
$node->command_ok([ 'createdb', 'closed_cipher' ], 'createdb for the closed ciphertext restore');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'closed_cipher', $closed_cipher ],
	'closed keyring: the ciphertext-mode dump restores without any encrypt grant');
is($node->safe_psql('closed_cipher', q{SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM t}), $closed_sum,
	'closed keyring: and reads as before');
is($node->safe_psql('closed_cipher', q{SELECT count(*) FROM colcrypt.encrypt_grants}), '0',
	'closed keyring: the restored database has no grant to PUBLIC either');
my $closed_plain = "$tmp/closed_plain.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $closed_plain, '-d', 'closed_src' ], 'closed keyring: plaintext dump');
$node->command_ok([ 'createdb', 'closed_plain' ], 'createdb for the closed plaintext restore');
$node->command_fails_like([ 'pg_restore', '--exit-on-error', '-d', 'closed_plain', $closed_plain ],
	qr/permission denied to encrypt under keyring "closed".*HINT:.*colcrypt\.grant_encrypt/s,
	'closed keyring: a plaintext-mode restore needs the encrypt grant, and says so');
my $me = $node->safe_psql('closed_src', 'SELECT current_user');
$node->safe_psql('closed_src', qq{SELECT colcrypt.grant_encrypt('closed', '$me')});
$node->command_ok([ 'pg_dump', '-Fc', '-f', $closed_plain, '-d', 'closed_src' ], 'closed keyring: dump after the grant');
$node->command_ok([ 'createdb', 'closed_plain_granted' ], 'createdb for the granted plaintext restore');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'closed_plain_granted', $closed_plain ],
	'closed keyring: with the grant in the dump, the plaintext-mode restore seals');
is($node->safe_psql('closed_plain_granted', q{SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM t}),
	$closed_sum, 'closed keyring: plaintext restore reads as before');

ok(!$node->log_contains('terminated by signal'), 'no backend crashed during the test');
$node->stop;

done_testing();
