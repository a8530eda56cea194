# An application through psycopg2 (Debian's python3-psycopg2): the driver's
# own parameter adaptation into every encrypted type, results as strings
# until the types are registered with the driver's typecasters as the
# README shows, then as Decimal, int, date, datetime, dict and bytes;
# lookups with adapted parameters; a bad value refused without being echoed
# (test/client/psycopg2_types.py).
use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $python = '/usr/bin/python3';
if (system($python, '-c', 'import psycopg2') != 0) {
	plan skip_all => 'psycopg2 is not installed (python3-psycopg2)';
}

my $node = colcrypt_node('psycopg2');
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('app');
	CREATE TABLE people (id int PRIMARY KEY, email colcrypt.encrypted_text('app'), salary colcrypt.encrypted_numeric('app'),
	                     score colcrypt.encrypted_int4('app'), birth colcrypt.encrypted_date('app'),
	                     created colcrypt.encrypted_timestamptz('app'), doc colcrypt.encrypted_jsonb('app'),
	                     data colcrypt.encrypted_bytea('app'));
	CREATE INDEX ON people (email);
	CREATE INDEX ON people (salary);
});

my ($out, $err) = run_command([ $python, dirname(__FILE__) . '/../client/psycopg2_types.py', $node->connstr('postgres') ]);
is($err, '', 'the client reports no error');
my %got = map { /^(.+?) -> (.*)$/ ? ($1 => $2) : () } split /\n/, $out;
is($got{'unregistered types'}, 'str,str,str', 'without registration the driver returns strings');
is($got{'row 1'},
	q{alice@example.com|Decimal('91000.50')|42|datetime.date(1990, 1, 2)|2026-12-01T12:30:00+00:00|{"a": "x", "b": [1, 2]}|b'\x00\x01colcrypt:'},
	'registered: Decimal, int, date, datetime, dict and bytes (the bytes that begin like an envelope included)');
is($got{'row 2'}, q{bob@example.com|Decimal('1.0')|-7|datetime.date(2000, 2, 29)|2026-12-01T12:30:00+00:00|{"a": 1.0}|b''},
	'registered: the second row');
is($got{'lookup email'}, '2', 'lookup by a text parameter');
is($got{'lookup salary'}, '2', 'lookup by a Decimal equal under numeric (1.00 = 1.0)');
is($got{'lookup score'}, '1', 'lookup by an int');
is($got{'lookup birth'}, '1', 'lookup by a date');
is($got{'lookup salary any'}, '1,2', 'lookup by a list of Decimals');
like($got{'bad int4'}, qr/^22P02 not echoed: invalid input syntax for type integer/,
	'a bad int4: 22P02 with int4\'s message, and the value is not in the message, detail or context');
is($node->safe_psql('postgres', q{SELECT string_agg((colcrypt.describe(salary)).keyring, ',') FROM people}), 'app,app',
	'the values are stored under the column\'s keyring');

$node->stop;
done_testing();
