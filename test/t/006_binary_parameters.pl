# Prepared statements through libpq with binary parameters, custom and then
# generic plans, against an indexed encrypted column (test/client/binary_params.c).
use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $client_source = dirname(__FILE__) . '/../client/binary_params.c';
my $client = PostgreSQL::Test::Utils::tempdir() . '/binary_params';
my ($includedir) = run_command([ 'pg_config', '--includedir' ]);
chomp $includedir;
command_ok([ 'cc', '-std=c99', '-Wall', '-o', $client, $client_source, "-I$includedir", '-lpq' ],
	'the libpq client builds');

my $node = PostgreSQL::Test::Cluster->new('binary');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'colcrypt'");
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	CREATE TABLE people (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'));
	INSERT INTO people SELECT g, 'user' || (g % 1000) || '@example.com' FROM generate_series(1, 3000) g;
	CREATE INDEX ON people (email);
	ANALYZE people;
});

my ($out, $err) = run_command([ $client, $node->connstr('postgres') ]);
is($err, '', 'the client reports no error');
my %results = map { /^(\S+ \S+) -> ?(.*)$/ ? ($1 => $2) : () } split /\n/, $out;

for my $statement (qw(by_text by_inferred)) {
	for my $i (1 .. 8) {
		my $n = $i * 11;
		is($results{"$statement user$n\@example.com"}, join(',', $n, $n + 1000, $n + 2000),
			"$statement: execution $i finds its three rows");
	}
	is($results{"$statement nobody\@example.com"}, '', "$statement: no row for an absent value");
	like($out, qr/^$statement plans: custom=5 generic=4$/m, "$statement: the plan turned generic");
}
is($results{'by_text LEAKMARK-BIND-006-1@example.com'}, '5001', 'a row inserted with binary parameters is found');
is($results{'email 11'}, 'user11@example.com', 'binary result of an encrypted column: plaintext');
is($results{'email 5002'}, 'LEAKMARK-BIND-006-2@example.com', 'binary result of a binary-inserted value');
my ($invalid) = $out =~ /^invalid utf8 -> (.*)$/m;
like($invalid, qr/^22021 invalid byte sequence for encoding "UTF8" in a binary value of colcrypt\.encrypted_text \| /,
	'a binary parameter that is not UTF-8 is refused with 22021');
unlike($invalid, qr/0x|\xe6/i, 'the refusal does not quote the bytes');

# The generic plan still uses the index.
my $plan = $node->safe_psql('postgres', q{
	PREPARE p(text) AS SELECT id FROM people WHERE email = $1;
	SET plan_cache_mode = force_generic_plan;
	EXPLAIN (COSTS OFF) EXECUTE p('user11@example.com');
});
like($plan, qr/(Index Scan using|Bitmap Index Scan on) people_email_idx/, 'generic plan: the index is used');

# The same lookups by a role that may not encrypt under the keyring: they
# seal nothing under it (docs/design/encrypt-privilege.md).
$node->safe_psql('postgres', q{
	SELECT colcrypt.revoke_encrypt('pii', 'public');
	CREATE ROLE searcher LOGIN;
	GRANT SELECT ON people TO searcher;
});
my $encryptions_sql = q{SELECT sum(encryptions) FROM colcrypt.keys WHERE keyring = 'pii'};
my $encryptions = $node->safe_psql('postgres', $encryptions_sql);
($out, $err) = run_command([ $client, $node->connstr('postgres') . ' user=searcher', 'lookups' ]);
is($err, '', 'lookups without the encrypt grant: no error');
my %searched = map { /^(\S+ \S+) -> ?(.*)$/ ? ($1 => $2) : () } split /\n/, $out;
for my $statement (qw(by_text by_inferred)) {
	is($searched{"$statement user88\@example.com"}, '88,1088,2088', "$statement without the encrypt grant: rows found");
	like($out, qr/^$statement plans: custom=5 generic=4$/m, "$statement without the encrypt grant: generic plan too");
}
is($node->safe_psql('postgres', $encryptions_sql), $encryptions, 'the lookups encrypted nothing under the keyring');

# Stored values were encrypted under the column's keyring.
is($node->safe_psql('postgres',
	q{SELECT DISTINCT (colcrypt.describe(email)).keyring FROM people WHERE id >= 5000}), 'pii',
	'binary-inserted values are under keyring pii');

$node->stop;
done_testing();
