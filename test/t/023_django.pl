# A Django application (Debian's python3-django) on colcrypt's encrypted
# types: fields whose database type is an encrypted type with a keyring,
# the table made by the schema editor as a migration would, and the ORM's
# ordinary work, values read back as Decimal, int, date and dict
# (test/client/django_app.py).
use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $python = '/usr/bin/python3';
if (system($python, '-c', 'import django, psycopg2') != 0) {
	plan skip_all => 'Django or psycopg2 is not installed (python3-django, python3-psycopg2)';
}

my $node = colcrypt_node('django');
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION colcrypt; SELECT colcrypt.create_key('hr');});
my $user = $node->safe_psql('postgres', 'SELECT current_user');
my ($out, $err) = run_command([ $python, dirname(__FILE__) . '/../client/django_app.py', $node->host, $node->port,
	'postgres', $user ]);
is($err, '', 'the application reports no error');
my %got = map { /^(.+?) -> (.*)$/ ? ($1 => $2) : () } split /\n/, $out;
is($got{'column type'}, q{colcrypt.encrypted_numeric('hr')}, 'the schema editor made an encrypted column with its keyring');
is($got{'get'}, q{Decimal('91000.50') 3 datetime.date(1990, 1, 2) {'team': 'core', 'langs': ['c', 'sql']}},
	'get() by an encrypted column, values back as Decimal, int, date and dict');
is($got{'filter salary'}, 'bob@example.com,carol@example.com', 'filter by a Decimal, equal under numeric');
is($got{'filter level in'}, 'alice@example.com', 'filter with __in');
is($got{'filter birth'}, '1', 'filter by a date');
is($got{'exclude'}, '2', 'exclude');
is($got{'update'}, q{Decimal('75000.25') 4}, 'update()');
is($got{'sum over a cast'}, '238000.75', 'an aggregate over a cast to the plaintext type');
is($got{'group by level'}, '[(2, 2), (3, 1)]', 'GROUP BY an encrypted column');
is($got{'unique'}, 'refused 23505', 'unique=True holds');
is($got{'unique without the decrypt grant'}, 'refused 23505',
	'a role without the decrypt grant gets the same IntegrityError (23505), not 42501');
is($got{'delete'}, '2', 'delete()');
is($got{'stored under'}, 'hr', 'the values are stored under the keyring');
my $stored = $node->safe_psql('postgres', q{SET colcrypt.output_mode = ciphertext; SELECT email, salary, profile FROM employee});
like($stored, qr/\A(colcrypt:[A-Za-z0-9+\/=]+\|colcrypt:[A-Za-z0-9+\/=]+\|colcrypt:[A-Za-z0-9+\/=]+\n?){2}\z/,
	'what is stored is envelopes');

$node->stop;
done_testing();
