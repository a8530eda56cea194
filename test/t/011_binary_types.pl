# Every encrypted type through libpq in binary format: parameters typed as
# the plaintext type and untyped, binary results, binary lookups, envelopes
# in ciphertext mode sent back in binary, and bytea's envelope prefix
# (test/client/binary_types.c).
use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $client_source = dirname(__FILE__) . '/../client/binary_types.c';
my $client = PostgreSQL::Test::Utils::tempdir() . '/binary_types';
my ($includedir) = run_command([ 'pg_config', '--includedir' ]);
chomp $includedir;
command_ok([ 'cc', '-std=c99', '-Wall', '-o', $client, $client_source, "-I$includedir", '-lpq' ],
	'the libpq client builds');

my $node = PostgreSQL::Test::Cluster->new('binary_types');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'colcrypt'");
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('bin');
	CREATE TABLE typed (id int PRIMARY KEY,
		int4 colcrypt.encrypted_int4('bin'), int8 colcrypt.encrypted_int8('bin'),
		numeric colcrypt.encrypted_numeric('bin'), date colcrypt.encrypted_date('bin'),
		timestamptz colcrypt.encrypted_timestamptz('bin'), bytea colcrypt.encrypted_bytea('bin'),
		jsonb colcrypt.encrypted_jsonb('bin'));
	CREATE INDEX ON typed (int4);
	CREATE INDEX ON typed (numeric);
});

my ($out, $err) = run_command([ $client, $node->connstr('postgres') ]);
is($err, '', 'the client reports no error');
my %results = map { /^(\S+ [^>]+?) -> ?(.*)$/ ? ($1 => $2) : () } split /\n/, $out;

# What each value was sent as, in hex (binary_types.c's cases); the row
# numbers: 100 + i typed, 200 + i untyped, 300 + i the envelope sent back.
my @cases = (
	[ int4 => '80000000', 0, '-2147483648' ],
	[ int8 => '7fffffffffffffff', 1, '9223372036854775807' ],
	[ numeric => '0003000100000002000903e81388', 2, '91000.50' ],
	[ date => '0000016e', 3, '2001-01-01' ],
	[ timestamptz => '00000000000f4240', 4, '2000-01-01 00:00:01+00' ],
	[ bytea => unpack('H*', "LEAKMARK-BIND-011\x00\xff"), 5, '\x' . unpack('H*', "LEAKMARK-BIND-011\x00\xff") ],
	[ jsonb => unpack('H*', "\x01" . '{"LEAKMARK-BIND-011": [1.50, null]}'), 6,
		'{"LEAKMARK-BIND-011": [1.50, null]}' ]);
for my $case (@cases) {
	my ($type, $hex, $i, $text) = @$case;
	is($results{"$type typed"}, $hex, "$type: a typed binary parameter reads back as the same binary value");
	is($results{"$type untyped"}, $hex, "$type: an untyped binary parameter (the type's receive) reads back the same");
	for my $how (qw(typed untyped)) {
		is($results{"$type lookup $how"}, join(',', 100 + $i, 200 + $i, 300 + $i),
			"$type: a binary lookup parameter, $how, finds both rows and the re-sent envelope");
	}
	is($results{"$type ciphertext"}, 'colcrypt:', "$type: ciphertext mode sends the envelope in binary");
	is($results{"$type envelope back"}, $hex, "$type: the envelope sent back in binary reads back as the value");
	is($node->safe_psql('postgres', qq{SET TimeZone = 'UTC'; SELECT $type FROM typed WHERE id = } . (100 + $i)),
		$text, "$type: the binary value is the expected plaintext");
	is($node->safe_psql('postgres',
		qq{SELECT count(DISTINCT (colcrypt.describe($type)).keyring) || ' ' || min((colcrypt.describe($type)).keyring)
		   FROM typed WHERE id IN (} . join(',', 100 + $i, 200 + $i, 300 + $i) . ')'),
		'1 bin', "$type: stored under the column's keyring");
}
is($results{'bytea prefix typed'}, 'colcrypt:LEAKMARK-BIND-011',
	'a bytea parameter typed bytea that starts with the prefix is a plaintext');
is($results{'bytea prefix untyped'}, '22P02', 'untyped, the same bytes are taken for a malformed envelope');
like($results{'int4 short'}, qr/^08P01 /, 'a binary int4 of 3 bytes is refused with int4\'s error');
for my $type (qw(int4 jsonb date)) {
	my $bad = $results{"$type bad text"};
	like($bad, qr/^22(P02|007|008) .* \| The input is not shown/, "$type: bad text input refused with the base type's SQLSTATE");
	unlike($bad, qr/LEAKMARK/, "$type: the refusal does not quote the input");
}
ok($node->safe_psql('postgres', q{SELECT count(*) FROM typed WHERE numeric = 91000.5}) == 3,
	'a numeric literal of another scale finds the rows');

$node->stop;
done_testing();
