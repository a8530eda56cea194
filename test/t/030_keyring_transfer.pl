# Keyring transfer between two clusters with different master keys
# (docs/design/keyring-transfer.md): transfer_key on the target, export_keyring
# on the source, import_keyring on the target; a ciphertext-mode dump of the
# source restores on the target and reads; imported versions are decrypt-only
# until the target rotates into versions the source never makes; a re-export
# after a source rotation adds only the new version.  Refused: a tampered
# bundle, a bundle made for another database's transfer, a bundle used twice,
# a keyring id that collides with one of the target's, a role without
# colcrypt_admin.  Both sides are audited.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $source = colcrypt_node('source', conf => "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4");
$source->start;
my $target = colcrypt_node('target');
$target->start;

my $marker = 'LEAKMARK-TRANSFER-030';
my $schema = q{CREATE TABLE people (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'), salary colcrypt.encrypted_int8('pii'));
	CREATE INDEX people_email ON people (email);};
$source->safe_psql('postgres', qq{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('pii');
	$schema
	INSERT INTO people SELECT g, '$marker-' || g || '\@example.com', g * 1000 FROM generate_series(1, 100) g;
	SELECT colcrypt.rotate_key('pii');
	INSERT INTO people SELECT g, '$marker-' || g || '\@example.com', g * 1000 FROM generate_series(101, 150) g;
});
$target->safe_psql('postgres', 'CREATE EXTENSION colcrypt; CREATE DATABASE other');
$target->safe_psql('other', q{CREATE EXTENSION colcrypt; SELECT colcrypt.create_key('mine')});

my $fingerprint_sql = q{SELECT DISTINCT master_key_fingerprint FROM colcrypt.key_versions};
my $source_fp = $source->safe_psql('postgres', $fingerprint_sql);
my $target_fp = $target->safe_psql('other', $fingerprint_sql);
like($source_fp, qr/^[0-9a-f]{16}$/, 'the source has one master key');
isnt($source_fp, $target_fp, 'the two clusters have different master keys');

# The recipient text and the bundle, carried as text between the clusters.
sub new_recipient
{
	my ($db) = @_;
	return $target->safe_psql($db, 'SELECT colcrypt.transfer_key()');
}
sub export_for
{
	my ($recipient) = @_;
	return $source->safe_psql('postgres', "SELECT encode(colcrypt.export_keyring('pii', '$recipient'), 'hex')");
}
sub import_on
{
	my ($db, $bundle_hex) = @_;
	return psql_full($target, $db, "SELECT colcrypt.import_keyring(decode('$bundle_hex', 'hex'))");
}

my $recipient = new_recipient('postgres');
like($recipient, qr/^colcrypt-transfer:[A-Za-z0-9+\/]+=*$/, 'transfer_key returns a recipient text');
my $bundle = export_for($recipient);
like($bundle, qr/^43434b5401/, 'export_keyring returns a bundle of format 1 (magic CCKT)');
is($source->safe_psql('postgres', q{SELECT version_start || '..' || version_end FROM colcrypt.keyrings WHERE name = 'pii'}),
	'1..2145386496', 'the export reserved the top of the source\'s version range for the recipient');

# Refused, each with a clear error, and nothing changed.
my $tampered = $bundle;
my $at = int(length($tampered) / 2) & ~1;
substr($tampered, $at, 2) = sprintf('%02x', hex(substr($tampered, $at, 2)) ^ 0x01);
my ($ret, $out, $err) = import_on('postgres', $tampered);
isnt($ret, 0, 'a tampered bundle is refused');
like($err, qr/ERROR:  22023: keyring bundle for transfer [0-9a-f]{32} failed authentication\n.*DETAIL:  The bundle was altered/s,
	'the tampered bundle: "failed authentication", SQLSTATE 22023, with a detail');

my $other_recipient = new_recipient('other');
my $bundle_for_other = export_for($other_recipient);
($ret, $out, $err) = import_on('postgres', $bundle_for_other);
isnt($ret, 0, 'a bundle made for another database\'s transfer is refused');
like($err, qr/ERROR:  42704: keyring bundle was made for transfer [0-9a-f]{32}, which this database did not ask for\n.*HINT:  Run SELECT colcrypt.transfer_key\(\) on this database/s,
	'the bundle for another transfer: "did not ask for", with a hint');

($ret, $out, $err) = import_on('other', $bundle_for_other);
isnt($ret, 0, 'a keyring whose id is taken on the target is refused');
like($err, qr/ERROR:  42710: keyring id 1 of the bundle's keyring "pii" is taken by keyring "mine" on this database\n.*DETAIL:  Envelopes name their keyring by id/s,
	'the colliding id: named, SQLSTATE 42710, with a detail and a hint');
is($target->safe_psql('other', q{SELECT string_agg(name, ',') FROM colcrypt.keyrings}), 'mine',
	'the refused import changed nothing');

$target->safe_psql('postgres', 'CREATE ROLE clerk LOGIN');
($ret, $out, $err) = psql_full($target, 'postgres', "SET ROLE clerk; SELECT colcrypt.import_keyring(decode('$bundle', 'hex'))");
like($err, qr/permission denied for function import_keyring/, 'import_keyring needs colcrypt_admin');
($ret, $out, $err) = psql_full($source, 'postgres', "CREATE ROLE clerk; SET ROLE clerk; SELECT colcrypt.export_keyring('pii', '$recipient')");
like($err, qr/permission denied for function export_keyring/, 'export_keyring needs colcrypt_admin');
($ret, $out, $err) = psql_full($source, 'postgres', "SELECT colcrypt.export_keyring('pii', 'colcrypt-transfer:AAAA')");
like($err, qr/ERROR:  22023: recipient is not a colcrypt transfer key\n.*HINT:  Run SELECT colcrypt.transfer_key\(\)/s,
	'a recipient that is not one is refused');

# The import, after the refusals: the request was still open.
($ret, $out, $err) = import_on('postgres', $bundle);
is($ret, 0, 'import_keyring accepts the bundle made for its transfer') or diag($err);
is($out, 'pii', 'import_keyring returns the keyring name');
is($target->safe_psql('postgres', q{SELECT string_agg(purpose || ' ' || version || ' ' || state, ', ' ORDER BY purpose, version) FROM colcrypt.key_versions}),
	'data 1 decrypt_only, data 2 decrypt_only, index 1 active', 'imported data keys are decrypt-only, the blind-index key active');
my $target_pg_fp = $target->safe_psql('postgres', $fingerprint_sql);
isnt($target_pg_fp, $source_fp, 'the imported keys are rewrapped under the target\'s master key');
is($target->safe_psql('postgres', q{SELECT keyring_id || ' ' || version_start || '..' || version_end FROM colcrypt.keyrings}),
	'1 2145386496..2147483647', 'the imported keyring keeps its id and gets the reserved range');
is($source->safe_psql('postgres', q{SELECT keyring_uuid FROM colcrypt.keyrings}),
	$target->safe_psql('postgres', q{SELECT keyring_uuid FROM colcrypt.keyrings}), 'one identity (keyring_uuid) on both');
is($target->safe_psql('postgres', q{SELECT count(*) FROM colcrypt.transfer_requests WHERE used_at IS NOT NULL AND imported_keyring = 'pii'}),
	'1', 'the used request is marked used');
is($target->safe_psql('postgres', q{SET ROLE colcrypt_admin; SELECT count(*) FROM colcrypt.transfer_requests}), '1',
	'colcrypt_admin sees the requests');
($ret, $out, $err) = import_on('postgres', $bundle);
like($err, qr/ERROR:  55000: transfer [0-9a-f]{32} was already used\n.*DETAIL:  It imported keyring "pii"/s, 'a bundle is imported once');

# A ciphertext-mode dump of the source's table restores on the target and reads.
my $tmp = PostgreSQL::Test::Utils::tempdir();
{
	local $ENV{PGOPTIONS} = '-c colcrypt.output_mode=ciphertext';
	$source->command_ok([ 'pg_dump', '-Fp', '-t', 'people', '-f', "$tmp/people.sql", '-d', 'postgres' ],
		'ciphertext-mode pg_dump of the source table');
}
unlike(slurp_file("$tmp/people.sql"), qr/\Q$marker\E/, 'the dump holds no plaintext');
$target->command_ok([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-f', "$tmp/people.sql", '-d', 'postgres' ],
	'the dump restores on the target');
my $sum_sql = q{SELECT count(*) || ' ' || md5(string_agg(id || ':' || email::text || ':' || salary::int8, ',' ORDER BY id)) FROM people};
my $envelopes_sql = q{SET colcrypt.output_mode = ciphertext; SELECT md5(string_agg(id || ':' || email::text || ':' || salary::text, ',' ORDER BY id)) FROM people};
is($target->safe_psql('postgres', $sum_sql), $source->safe_psql('postgres', $sum_sql), 'the target reads every value as the source does');
is($target->safe_psql('postgres', $envelopes_sql), $source->safe_psql('postgres', $envelopes_sql), 'the envelopes are restored unchanged');
is($target->safe_psql('postgres', qq{SET enable_seqscan = off; SELECT id FROM people WHERE email = '$marker-120\@example.com'}), '120',
	'an index lookup on the target (blind-index terms are equal on both)');
is($target->safe_psql('postgres', qq{SELECT string_agg(id::text, ',' ORDER BY id) FROM people WHERE email IN ('$marker-7\@example.com', '$marker-140\@example.com')}),
	'7,140', 'an IN lookup on the target (search values of a keyring without an active version)');

# Decrypt-only until rotated locally, into versions the source never makes.
($ret, $out, $err) = psql_full($target, 'postgres', qq{INSERT INTO people VALUES (500, 'new\@example.com', 1)});
like($err, qr/keyring "pii" has no active key version/, 'the target does not encrypt under the source\'s versions');
is($target->safe_psql('postgres', q{SELECT colcrypt.rotate_key('pii')}), '2145386496', 'the target rotates into its own range');
$target->safe_psql('postgres', qq{INSERT INTO people VALUES (500, '$marker-target\@example.com', 1)});
is($target->safe_psql('postgres', q{SELECT email FROM people WHERE id = 500}), "$marker-target\@example.com", 'and reads what it wrote');
is($source->safe_psql('postgres', q{SELECT colcrypt.rotate_key('pii')}), '3', 'the source rotates below the reserved range');

# Re-export after a source rotation: only the new version is added.
$source->safe_psql('postgres', qq{INSERT INTO people VALUES (151, '$marker-v3\@example.com', 3)});
my $v3_envelope = $source->safe_psql('postgres', q{SET colcrypt.output_mode = ciphertext; SELECT email FROM people WHERE id = 151});
($ret, $out, $err) = psql_full($target, 'postgres', "SELECT '$v3_envelope'::colcrypt.encrypted_text('pii')::text");
like($err, qr/key version 3 of keyring "pii" does not exist/, 'a version made after the export is unknown until re-exported');
($ret, $out, $err) = import_on('postgres', export_for(new_recipient('postgres')));
is($ret, 0, 're-import after the source rotation') or diag($err);
is($target->safe_psql('postgres', q{SELECT string_agg(version || ' ' || state, ', ' ORDER BY version) FROM colcrypt.key_versions WHERE purpose = 'data'}),
	'1 decrypt_only, 2 decrypt_only, 3 decrypt_only, 2145386496 active', 'the re-import added version 3, decrypt-only, and kept the local active version');
is($target->safe_psql('postgres', q{SELECT version_start || '..' || version_end FROM colcrypt.keyrings}), '2145386496..2147483647',
	'the re-import keeps the target\'s range');
is($target->safe_psql('postgres', "SELECT '$v3_envelope'::colcrypt.encrypted_text('pii')::text"), "$marker-v3\@example.com",
	'a value the source wrote under version 3 reads on the target');

# A logical replication subscriber that holds the imported keyring stores
# the source's envelopes as they are and reads them (021 does this for two
# clusters with one master key; here the master keys differ).
my $feed = q{CREATE TABLE feed (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'))};
$source->safe_psql('postgres', "$feed; INSERT INTO feed VALUES (1, '$marker-feed-1\@example.com'); CREATE PUBLICATION pub_feed FOR TABLE feed");
$target->safe_psql('postgres', $feed);
my $connstr = $source->connstr . ' dbname=postgres';
$target->safe_psql('postgres', "CREATE SUBSCRIPTION sub_feed CONNECTION '$connstr' PUBLICATION pub_feed");
$target->wait_for_subscription_sync($source, 'sub_feed');
$source->safe_psql('postgres', "INSERT INTO feed VALUES (2, '$marker-feed-2\@example.com')");
$source->wait_for_catchup('sub_feed');
is($target->safe_psql('postgres', q{SELECT string_agg(id || ' ' || email::text, ', ' ORDER BY id) FROM feed}),
	"1 $marker-feed-1\@example.com, 2 $marker-feed-2\@example.com", 'a subscriber with the imported keyring reads the initial copy and streamed rows');
is($target->safe_psql('postgres', q{SET colcrypt.output_mode = ciphertext; SELECT md5(string_agg(email::text, ',' ORDER BY id)) FROM feed}),
	$source->safe_psql('postgres', q{SET colcrypt.output_mode = ciphertext; SELECT md5(string_agg(email::text, ',' ORDER BY id)) FROM feed}),
	'the subscriber stores the source\'s envelopes byte for byte');
$target->safe_psql('postgres', 'DROP SUBSCRIPTION sub_feed');

# A keyring whose blind-index key was rotated (and the rotation finished)
# before its export: the target binds the imported data version to the
# bundle's index key and orders by it, so a restored index serves lookups.
$source->safe_psql('postgres', q{
	SELECT colcrypt.create_key('rotated');
	CREATE TABLE r (id int PRIMARY KEY, v colcrypt.encrypted_text('rotated') UNIQUE);
	INSERT INTO r SELECT g, 'r' || g FROM generate_series(1, 200) g;
	SELECT colcrypt.rotate_index_key('rotated');});
$source->safe_psql('postgres', q{CALL colcrypt.reencrypt_now('r')});
$source->safe_psql('postgres', q{VACUUM r});
$source->safe_psql('postgres', q{SELECT colcrypt.upgrade_index_order('rotated')});
$source->safe_psql('postgres', q{ANALYZE r});
$source->safe_psql('postgres', q{SELECT colcrypt.retire_key('rotated', 1)});
my $r_recipient = new_recipient('postgres');
my $r_bundle = $source->safe_psql('postgres', "SELECT encode(colcrypt.export_keyring('rotated', '$r_recipient'), 'hex')");
($ret, $out, $err) = import_on('postgres', $r_bundle);
is($out, 'rotated', 'a keyring whose blind-index key was rotated exports and imports') or diag($err);
is($target->safe_psql('postgres', q{SELECT k.order_index_version || ': ' || string_agg(v.purpose || v.version || ' ' || v.state
		|| coalesce(' i' || v.index_version, ''), ', ' ORDER BY v.purpose, v.version)
		FROM colcrypt.keyrings k JOIN colcrypt.key_versions v USING (keyring_id) WHERE k.name = 'rotated' GROUP BY k.order_index_version}),
	'2: data2 decrypt_only i2, index2 active', 'the target orders by index key 2, to which data version 2 is bound');
{
	local $ENV{PGOPTIONS} = '-c colcrypt.output_mode=ciphertext';
	$source->command_ok([ 'pg_dump', '-Fp', '-t', 'r', '-f', "$tmp/r.sql", '-d', 'postgres' ],
		'ciphertext-mode pg_dump of its table');
}
$target->command_ok([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-f', "$tmp/r.sql", '-d', 'postgres' ],
	'the dump restores on the target, its UNIQUE index built there');
is($target->safe_psql('postgres', q{SET enable_seqscan = off; SET enable_bitmapscan = off;
		SELECT count(*) FROM generate_series(1, 200) g WHERE (SELECT id FROM r WHERE v = 'r' || g) = g}),
	'200', 'every value is found through the restored index on the target');
($ret, $out, $err) = psql_full($source, 'postgres', q{SELECT colcrypt.rotate_index_key('rotated')});
like($err, qr/cannot rotate the blind-index key of keyring "rotated": it is shared with another database/,
	'the source does not rotate the blind-index key of an exported keyring');

# Audited on both sides, never a key.
like($source->safe_psql('postgres', q{SELECT string_agg(operation || ': ' || detail, E'\n' ORDER BY event_id) FROM colcrypt.key_events WHERE operation = 'export_keyring'}),
	qr/^export_keyring: transfer [0-9a-f]{32}: data key versions 1, 2 and blind-index key version 1 sealed for the recipient; versions 2145386496 to 2147483646 reserved for it/m,
	'the source audits the export');
my $target_events = $target->safe_psql('postgres', q{SELECT string_agg(operation || ': ' || detail, E'\n' ORDER BY event_id) FROM colcrypt.key_events WHERE operation IN ('transfer_key', 'import_keyring')});
like($target_events, qr/^transfer_key: transfer [0-9a-f]{32}: a key pair for receiving a keyring, its private key wrapped by master key $target_pg_fp$/m,
	'the target audits the transfer request');
like($target_events, qr/^import_keyring: transfer [0-9a-f]{32} from master key $source_fp: data key versions 1, 2 added decrypt-only, blind-index key version 1/m,
	'the target audits the import with the source\'s fingerprint');
like($target_events, qr/^import_keyring: transfer [0-9a-f]{32} from master key $source_fp \(re-import\): data key versions 3 added/m,
	'the target audits the re-import');
(my $token_b64 = $recipient) =~ s/^colcrypt-transfer://;
unlike($target_events . slurp_file($target->logfile), qr/\Q$token_b64\E/, 'the recipient text (its token) is neither in the audit trail nor in the log');
unlike(slurp_file($target->logfile) . slurp_file($source->logfile), qr/\Q$marker\E/, 'no plaintext in either server log');

done_testing();
