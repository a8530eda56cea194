# Stored formats are forever: what colcrypt 0.1.0 wrote (test/fixtures/v1:
# its key-table rows, envelopes of every keyring shape, a transit value and
# its nonce counter file, under a test master key) is read by this version:
# the counters resume from the file, every envelope is accepted as it is,
# decrypts to its plaintext and is found by its 0.1.0 blind-index term.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $fixture = File::Spec->rel2abs(dirname(__FILE__) . '/../fixtures/v1');
my $tmp = PostgreSQL::Test::Utils::tempdir('fixture');
my $key = write_key_file("$tmp/master.key", slurp_file("$fixture/master.key"));

my $node = colcrypt_node('fixture');
set_key_conf($node, master_key_file => $key);
make_path($node->data_dir . '/pg_colcrypt');
copy("$fixture/nonce_counters", $node->data_dir . '/pg_colcrypt/nonce_counters') or die "copy: $!";
$node->start;

# --- The counter file ----------------------------------------------------------
# Format 1: "CCNC", format, entries, unused; then (database, keyring, version,
# unused, reserved) per entry; then a CRC-32C.  In the writer's byte order.
my $file = slurp_binary("$fixture/nonce_counters");
my ($magic, $format, $entries) = unpack('a4 L L', $file);
is("$magic $format", 'CCNC 1', 'the fixture counter file is format 1');
ok($node->log_contains(qr/colcrypt: loaded $entries nonce counters/), "the server loaded its $entries counters");
my $postgres_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'postgres'});

$node->safe_psql('postgres', qq{
	CREATE EXTENSION colcrypt;
	COPY colcrypt.keyrings (keyring_id, name, type_modifier, index_term_bits, case_insensitive, created_at, created_by)
	  FROM '$fixture/keyrings.copy';
	COPY colcrypt.key_versions (keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint, created_at)
	  FROM '$fixture/key_versions.copy';
});
my %reserved;
for my $i (0 .. $entries - 1)
{
	my ($database, $keyring, $version, undef, $count) = unpack('L L L L Q', substr($file, 16 + 24 * $i, 24));
	is($database, $postgres_oid, "counter $i belongs to database postgres");
	$reserved{"$keyring|$version"} = $count;
}
my %counted = map { my ($k, $v, $n) = split /\|/; ("$k|$v" => $n) } split /\n/,
  $node->safe_psql('postgres', q{SELECT keyring_id, version, encryptions FROM colcrypt._nonce_counters()});
is_deeply(\%counted, \%reserved, 'every count resumes at the reservation the 0.1.0 file holds');

# --- The envelopes -------------------------------------------------------------
my @rows = map { [ split /\|/, $_, -1 ] } grep { /\S/ } split /\n/, slurp_file("$fixture/envelopes.txt");
is(scalar(@rows), 10, 'ten fixture values');
my %keyrings = map { $_->[1] => 1 } grep { $_->[1] ne 'transit' } @rows;
for my $keyring (sort keys %keyrings)
{
	$node->safe_psql('postgres', qq{
		SELECT colcrypt.grant_decrypt('$keyring', current_user::regrole);
		CREATE TABLE t_$keyring (id int PRIMARY KEY, v colcrypt.encrypted_text('$keyring'));
	});
}
for my $row (@rows)
{
	my ($id, $keyring, $version, $envelope, $hex) = @$row;
	if ($keyring eq 'transit')
	{
		is( $node->safe_psql('postgres',
				"SELECT encode(convert_to('$envelope'::colcrypt.encrypted_text::text, 'UTF8'), 'hex')"),
			$hex, "value $id, a transit value: decrypts with a key derived from the master key");
		next;
	}
	$node->safe_psql('postgres', "INSERT INTO t_$keyring VALUES ($id, '$envelope')");
	is( $node->safe_psql('postgres',
			"SET colcrypt.output_mode = ciphertext; SELECT v FROM t_$keyring WHERE id = $id"),
		$envelope, "value $id ($keyring, version $version): the 0.1.0 envelope is stored as it is");
	is( $node->safe_psql('postgres', "SELECT encode(convert_to(v::text, 'UTF8'), 'hex') FROM t_$keyring WHERE id = $id"),
		$hex, "value $id ($keyring, version $version): decrypts to its plaintext");
}

# Lookups compute today's term and find the 0.1.0 ones, for every term shape.
# (The 5.5 kB value goes first: a btree entry holds at most 2.7 kB.)
$node->safe_psql('postgres', 'DELETE FROM t_pii WHERE id = 4');
my %lookups = (
	pii => [ 'alice@example.com', '1' ],
	emails => [ 'alice@EXAMPLE.com', '5' ],    # case-insensitive keyring
	noterm => [ '123-45-6789', '6' ],
	short => [ 'eight', '7' ],
	wide => [ 'wide term', '8' ],
);
for my $keyring (sort keys %lookups)
{
	my ($value, $id) = @{ $lookups{$keyring} };
	is($node->safe_psql('postgres', "SELECT id FROM t_$keyring WHERE v = '$value'"), $id,
		"$keyring: a lookup finds the 0.1.0 value by its term");
	$node->safe_psql('postgres', "CREATE INDEX ON t_$keyring (v)");
	is( $node->safe_psql('postgres',
			"SET enable_seqscan = off; SELECT id FROM t_$keyring WHERE v = '$value'::text"),
		$id, "$keyring: and through an index built on them");
}
is($node->safe_psql('postgres', q{SELECT id FROM t_pii WHERE v = 'written under version 2'}), '9',
	'a value of the rotated version 2 is found too');

$node->stop;
done_testing();
