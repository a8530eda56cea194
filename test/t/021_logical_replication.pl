# Logical replication of tables with encrypted columns: what the publisher
# sends is the envelope, whatever the decoding role may decrypt, so no
# plaintext is in the stream and the subscription's role needs no decrypt
# grant.  Text and binary subscriptions, the initial table copy (a COPY in
# the walsender, not logical decoding) and streamed changes; the subscriber,
# holding the same keyrings, stores the envelopes byte for byte and reads
# plaintext.  test_decoding and pgoutput through the SQL slot functions show
# the stream itself.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $publisher = colcrypt_node('publisher', conf => "wal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10");
$publisher->start;
my $key_file = default_key_file($publisher);
my $subscriber = colcrypt_node('subscriber');
set_key_conf($subscriber, master_key_file => $key_file);
$subscriber->start;

my $marker = 'LEAKMARK-LOGICAL-021';
my $schema = q{
	CREATE TABLE people_text (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'), salary colcrypt.encrypted_numeric('pii'), note text);
	CREATE TABLE people_binary (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'), salary colcrypt.encrypted_numeric('pii'), note text);
};
$publisher->safe_psql('postgres', qq{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	$schema
	INSERT INTO people_text SELECT g, '$marker-initial-' || g, g * 1000, 'n' || g FROM generate_series(1, 200) g;
	INSERT INTO people_binary SELECT * FROM people_text;
	CREATE PUBLICATION pub_text FOR TABLE people_text;
	CREATE PUBLICATION pub_binary FOR TABLE people_binary;
	-- Replicates without any colcrypt grant.
	CREATE ROLE replicator LOGIN REPLICATION;
	GRANT SELECT ON people_text, people_binary TO replicator;
});

# The subscriber holds the same keyrings under the same master key (the rows
# of colcrypt's key tables, copied as they are; between clusters with
# different master keys a keyring transfer does this).
my $tmp = PostgreSQL::Test::Utils::tempdir();
for my $table (qw(keyrings key_versions decrypt_grants encrypt_grants)) {
	$publisher->safe_psql('postgres', "COPY colcrypt.$table TO '$tmp/$table.copy'");
}
$subscriber->safe_psql('postgres', 'CREATE EXTENSION colcrypt');
for my $table (qw(keyrings key_versions decrypt_grants encrypt_grants)) {
	$subscriber->safe_psql('postgres', "COPY colcrypt.$table FROM '$tmp/$table.copy'");
}
$subscriber->safe_psql('postgres', $schema);

my $connstr = $publisher->connstr . ' dbname=postgres user=replicator';
$subscriber->safe_psql('postgres', qq{
	CREATE SUBSCRIPTION sub_text CONNECTION '$connstr' PUBLICATION pub_text;
	CREATE SUBSCRIPTION sub_binary CONNECTION '$connstr' PUBLICATION pub_binary WITH (binary = true);
});
$subscriber->wait_for_subscription_sync($publisher, 'sub_text');
$subscriber->wait_for_subscription_sync($publisher, 'sub_binary');

my $sum_sql = q{SELECT count(*) || ' ' || md5(string_agg(id || ':' || email::text || ':' || salary::numeric || ':' || note, ',' ORDER BY id)) FROM %s};
my $envelopes_sql = q{SET colcrypt.output_mode = ciphertext; SELECT md5(string_agg(id || ':' || email::text || ':' || salary::text, ',' ORDER BY id)) FROM %s};
for my $table (qw(people_text people_binary)) {
	is($subscriber->safe_psql('postgres', sprintf($sum_sql, $table)), $publisher->safe_psql('postgres', sprintf($sum_sql, $table)),
		"$table: the initial copy reads as on the publisher");
	is($subscriber->safe_psql('postgres', sprintf($envelopes_sql, $table)),
		$publisher->safe_psql('postgres', sprintf($envelopes_sql, $table)),
		"$table: the subscriber stores the publisher's envelopes byte for byte");
}

# Streamed changes: inserts, updates of the encrypted and of other columns, deletes.
for my $table (qw(people_text people_binary)) {
	$publisher->safe_psql('postgres', qq{
		INSERT INTO $table SELECT g, '$marker-stream-' || g, g, 'new' FROM generate_series(201, 300) g;
		UPDATE $table SET email = '$marker-updated-' || id WHERE id % 10 = 0;
		UPDATE $table SET note = 'touched' WHERE id % 7 = 0;
		DELETE FROM $table WHERE id % 13 = 0;
	});
}
$publisher->wait_for_catchup('sub_text');
$publisher->wait_for_catchup('sub_binary');
for my $table (qw(people_text people_binary)) {
	is($subscriber->safe_psql('postgres', sprintf($sum_sql, $table)), $publisher->safe_psql('postgres', sprintf($sum_sql, $table)),
		"$table: streamed changes read as on the publisher");
	is($subscriber->safe_psql('postgres', sprintf($envelopes_sql, $table)),
		$publisher->safe_psql('postgres', sprintf($envelopes_sql, $table)),
		"$table: streamed envelopes stored byte for byte");
	is($subscriber->safe_psql('postgres', "SELECT id FROM $table WHERE email = '$marker-updated-20'"), '20',
		"$table: lookups on the subscriber");
}
my $errors = () = slurp_file($subscriber->logfile) =~ /ERROR:/g;
is($errors, 0, 'the subscriber logged no error (no "permission denied to decrypt" stopped replication)');

# The stream itself, read through the SQL slot functions by roles that may
# and may not decrypt: envelopes only.
$publisher->safe_psql('postgres', q{
	SELECT pg_create_logical_replication_slot('probe_test_decoding', 'test_decoding');
	SELECT pg_create_logical_replication_slot('probe_pgoutput', 'pgoutput');
	GRANT EXECUTE ON FUNCTION pg_logical_slot_peek_changes, pg_logical_slot_peek_binary_changes TO replicator;
});
$publisher->safe_psql('postgres', qq{INSERT INTO people_text VALUES (1000, '$marker-probe', 42, 'probe')});
for my $role ('postgres', 'replicator') {
	my $as = $role eq 'postgres' ? 'the keyring creator (decrypt grant)' : 'a role without any grant';
	my $decoded = $publisher->safe_psql('postgres', qq{SET ROLE $role;
		SELECT string_agg(data, E'\\n') FROM pg_logical_slot_peek_changes('probe_test_decoding', NULL, NULL)});
	like($decoded, qr/email\[colcrypt\.encrypted_text\]:'colcrypt:[A-Za-z0-9+\/=]+'/, "test_decoding as $as: the envelope");
	unlike($decoded, qr/\Q$marker\E-probe/, "test_decoding as $as: no plaintext");
	unlike($decoded, qr/\b42\b/, "test_decoding as $as: no plaintext numeric");
	for my $binary ('false', 'true') {
		my $stream = $publisher->safe_psql('postgres', qq{SET ROLE $role;
			SELECT encode(string_agg(data, ''::bytea), 'escape') FROM pg_logical_slot_peek_binary_changes('probe_pgoutput', NULL, NULL,
				'proto_version', '1', 'publication_names', 'pub_text', 'binary', '$binary')});
		like($stream, qr/colcrypt:/, "pgoutput (binary $binary) as $as: envelopes");
		unlike($stream, qr/\Q$marker\E/, "pgoutput (binary $binary) as $as: no plaintext");
	}
}
$publisher->safe_psql('postgres', q{
	SELECT pg_drop_replication_slot('probe_test_decoding');
	SELECT pg_drop_replication_slot('probe_pgoutput');
});

ok(!$publisher->log_contains('terminated by signal'), 'no backend crashed on the publisher');
ok(!$subscriber->log_contains('terminated by signal'), 'no backend crashed on the subscriber');
$subscriber->stop;
$publisher->stop;
done_testing();
