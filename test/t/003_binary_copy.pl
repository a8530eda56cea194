# Binary send/receive through COPY (FORMAT binary), in plaintext and in
# ciphertext output mode, and what the input does with damaged envelopes in
# binary and text COPY files.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $tmp = PostgreSQL::Test::Utils::tempdir('copy');

my $node = colcrypt_node('main');
$node->start;

my $marker = 'COPY-PLAINTEXT-8842';
sql_ok(
	$node, 'postgres', qq{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE src (id int, v colcrypt.encrypted_text('pii'));
	INSERT INTO src VALUES
		(1, '$marker'),
		(2, ''),
		(3, 'Grüße 日本語 🎉'),
		(4, NULL),
		(5, 'tab\tand newline\nand backslash \\\\ inside'),
		(6, repeat('x', 100000));
	CREATE TABLE dst_plain (LIKE src);
	CREATE TABLE dst_cipher (LIKE src);
	CREATE TABLE dst_bad (LIKE src);
	CREATE TABLE dst_text (LIKE src);
}, 'keyring, source table with values, target tables');

is( $node->safe_psql(
		'postgres',
		"SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		  WHERE attrelid = 'dst_plain'::regclass AND attname = 'v'"),
	"colcrypt.encrypted_text('pii')",
	'target tables have the same column type');

# Plaintext of every row, md5 for the long one, to compare tables.
sub contents
{
	my ($table) = @_;
	return $node->safe_psql('postgres',
		"SELECT id, CASE WHEN id = 6 THEN md5(v::text) ELSE v::text END FROM $table ORDER BY id");
}
my $expected = contents('src');
like($expected, qr/\Q$marker\E/, 'source table reads back');

sub expect_error
{
	my ($sql, $sqlstate, $message, $what) = @_;
	my ($ret, $out, $err) = psql_full($node, 'postgres', $sql);
	isnt($ret, 0, "$what: fails");
	like($err, qr/ERROR:\s+\Q$sqlstate\E: /, "$what: SQLSTATE $sqlstate");
	like($err, $message, "$what: message");
	return $err;
}

sub server_alive
{
	my ($what) = @_;
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$what: server still answers");
	ok(!$node->log_contains('terminated by signal'), "$what: no backend crashed");
	return;
}

###############################################################################
# Plaintext mode: binary send gives the plaintext, binary receive encrypts it.
###############################################################################

my $plain_bin = "$tmp/plain.bin";
sql_ok($node, 'postgres', "COPY src TO '$plain_bin' WITH (FORMAT binary)", 'binary COPY TO in plaintext mode');
my $plain_data = slurp_binary($plain_bin);
like($plain_data, qr/\APGCOPY\n\377\r\n\0/, 'file is a binary COPY file');
ok(index($plain_data, $marker) >= 0, 'plaintext mode: binary send carries the plaintext');
ok(index($plain_data, 'colcrypt:') < 0, 'plaintext mode: no envelope in the file');

sql_ok($node, 'postgres', "COPY dst_plain FROM '$plain_bin' WITH (FORMAT binary)", 'binary COPY FROM in plaintext mode');
is(contents('dst_plain'), $expected, 'plaintext-mode binary COPY: values equal');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM dst_plain p JOIN src s USING (id)
		  WHERE colcrypt.describe(p.v) IS NOT DISTINCT FROM colcrypt.describe(s.v)
		    AND (colcrypt.describe(p.v)).keyring = 'pii'"),
	'5',
	'plaintext-mode binary COPY: copied values are encrypted under pii');

###############################################################################
# Ciphertext mode: binary send gives the envelope text; receive verifies it.
###############################################################################

my $cipher_bin = "$tmp/cipher.bin";
sql_ok(
	$node, 'postgres',
	"SET colcrypt.output_mode = ciphertext; COPY src TO '$cipher_bin' WITH (FORMAT binary)",
	'binary COPY TO in ciphertext mode');
my $cipher_data = slurp_binary($cipher_bin);
ok(index($cipher_data, $marker) < 0, 'ciphertext mode: binary file has no plaintext');
ok(index($cipher_data, 'Grüße') < 0, 'ciphertext mode: binary file has no UTF-8 plaintext');
ok(index($cipher_data, 'x' x 100) < 0, 'ciphertext mode: binary file has no long plaintext');
my @envelopes = $cipher_data =~ /colcrypt:[A-Za-z0-9+\/]+=*/g;
is(scalar @envelopes, 5, 'ciphertext mode: one envelope per non-NULL value');

sql_ok($node, 'postgres', "COPY dst_cipher FROM '$cipher_bin' WITH (FORMAT binary)",
	'binary COPY FROM of envelopes (plaintext-mode session)');
is(contents('dst_cipher'), $expected, 'ciphertext-mode binary COPY: values equal');
my $envelopes_sql = 'SET colcrypt.output_mode = ciphertext; SELECT id, v FROM %s ORDER BY id';
is( $node->safe_psql('postgres', sprintf($envelopes_sql, 'dst_cipher')),
	$node->safe_psql('postgres', sprintf($envelopes_sql, 'src')),
	'ciphertext-mode binary COPY keeps the envelopes as they were');

# Flip one base64 character of the first envelope.  Character 12 after the
# prefix encodes bits 72..77 of the envelope, i.e. its nonce (bytes 4..15):
# still well-formed, but the tag no longer matches.
my $at = index($cipher_data, 'colcrypt:');
ok($at >= 0, 'found an envelope in the binary file');
my $pos = $at + length('colcrypt:') + 12;
my $orig = substr($cipher_data, $pos, 1);
my $flipped = $orig eq 'A' ? 'B' : 'A';
my $tampered = $cipher_data;
substr($tampered, $pos, 1) = $flipped;
is(length($tampered), length($cipher_data), 'tampered file has the same size');
isnt($tampered, $cipher_data, 'tampered file differs');
write_file("$tmp/tampered.bin", $tampered);

expect_error(
	"COPY dst_bad FROM '$tmp/tampered.bin' WITH (FORMAT binary)",
	'XX001', qr/authenticat/,
	'binary COPY FROM with one flipped base64 character');
is($node->safe_psql('postgres', 'SELECT count(*) FROM dst_bad'), '0', 'failed COPY stored nothing');
server_alive('after the tampered binary COPY');

# A character outside the base64 alphabet: malformed, not tampered.
my $garbled = $cipher_data;
substr($garbled, $pos, 1) = '*';
write_file("$tmp/garbled.bin", $garbled);
expect_error(
	"COPY dst_bad FROM '$tmp/garbled.bin' WITH (FORMAT binary)",
	'22P02', qr/invalid input syntax for type colcrypt\.encrypted_text: malformed colcrypt envelope/,
	'binary COPY FROM with a non-base64 character');
server_alive('after the garbled binary COPY');

###############################################################################
# Text COPY in ciphertext mode, with truncated envelopes.
###############################################################################

my $cipher_txt = "$tmp/cipher.txt";
sql_ok(
	$node, 'postgres',
	"SET colcrypt.output_mode = ciphertext; COPY src TO '$cipher_txt'",
	'text COPY TO in ciphertext mode');
my $text = slurp_binary($cipher_txt);
ok(index($text, $marker) < 0, 'ciphertext text COPY has no plaintext');
sql_ok($node, 'postgres', "COPY dst_text FROM '$cipher_txt'", 'text COPY FROM of envelopes');
is(contents('dst_text'), $expected, 'ciphertext-mode text COPY: values equal');

# Cut to the prefix and 20 base64 characters (15 bytes): well-formed base64,
# but too short to be an envelope.
(my $short = $text) =~ s/^(1\tcolcrypt:[A-Za-z0-9+\/]{20})[^\n]*/$1/m;
isnt($short, $text, 'cut the first envelope to 20 characters');
write_file("$tmp/short.txt", $short);
expect_error(
	"COPY dst_bad FROM '$tmp/short.txt'",
	'22P02', qr/invalid input syntax for type colcrypt\.encrypted_text: malformed colcrypt envelope/,
	'text COPY FROM with an envelope cut to 20 characters');
server_alive('after the truncated text COPY');

# Cut one character: the base64 is no longer whole.
(my $odd = $text) =~ s/^(1\tcolcrypt:[^\n]*)[^\n]$/$1/m;
is(length($odd), length($text) - 1, 'cut the last character of the first envelope');
write_file("$tmp/odd.txt", $odd);
expect_error(
	"COPY dst_bad FROM '$tmp/odd.txt'",
	'22P02', qr/malformed colcrypt envelope/,
	'text COPY FROM with an envelope one character short');

# Cut a whole base64 group off the end: valid base64 of a shorter envelope
# whose tag is wrong.
my ($first) = $text =~ /^1\t(colcrypt:[^\n]*)$/m;
my $cut_group = substr($first, 0, length($first) - 8);
like($cut_group, qr/\Acolcrypt:[A-Za-z0-9+\/]+\z/, 'envelope cut by whole base64 groups');
(my $grp = $text) =~ s/^1\t\Q$first\E$/1\t$cut_group/m;
write_file("$tmp/group.txt", $grp);
expect_error(
	"COPY dst_bad FROM '$tmp/group.txt'",
	'XX001', qr/authenticat/,
	'text COPY FROM with an envelope cut by whole base64 groups');
is($node->safe_psql('postgres', 'SELECT count(*) FROM dst_bad'), '0', 'no failed COPY stored anything');
server_alive('after the truncated text COPYs');

###############################################################################
# Plaintext COPY from a file, with markers the log-leak check looks for in
# this node's log (test/log_leak/check.sh): the values never are in a query
# text, and a rejected row's input stays out of the error context.
###############################################################################

write_file("$tmp/leak.txt", "1\tLEAKMARK-COPY-003-a\n2\tLEAKMARK-COPY-003-b\n");
sql_ok($node, 'postgres', "CREATE TABLE leak (LIKE src); COPY leak FROM '$tmp/leak.txt'",
	'text COPY FROM of plaintext rows');
is($node->safe_psql('postgres', 'SELECT string_agg(v::text, \',\' ORDER BY id) FROM leak'),
	'LEAKMARK-COPY-003-a,LEAKMARK-COPY-003-b', 'plaintext COPY rows read back');
write_file("$tmp/leak_bad.txt", "3\tLEAKMARK-COPY-003-c\n4\tLEAKMARK-COPY-003-d\tone column too many\n");
my $context = expect_error("COPY leak FROM '$tmp/leak_bad.txt'", '22P04', qr/extra data after last expected column/,
	'text COPY FROM with a row of too many columns');
like($context, qr/CONTEXT:\s+COPY leak, line 2 \(input not shown: the table has encrypted columns\)/,
	'rejected row: the context keeps the line number');
unlike($context, qr/LEAKMARK/, 'rejected row: the context quotes no input');
is($node->safe_psql('postgres', 'SELECT count(*) FROM leak'), '2', 'the failed COPY stored nothing');

$node->stop;
done_testing();
