# The table of nonce counters: colcrypt.max_key_versions slots over all
# databases; a full table refuses encryption under a new version with a
# clear error and a hint, and retiring versions frees their slots at
# commit, however many one transaction retires.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $slots = 80;
my $node = colcrypt_node('slots', conf => "colcrypt.max_key_versions = $slots\nmax_prepared_transactions = 2");
$node->start;
is($node->safe_psql('postgres', 'SHOW colcrypt.max_key_versions'), $slots, "colcrypt.max_key_versions = $slots");

$node->safe_psql('postgres', q{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('k');
	CREATE TABLE t (id serial, v colcrypt.encrypted_text('k'));
});
# One value under each of versions 1 to 80, then version 81 is active.
$node->safe_psql('postgres', qq{
	DO \$\$
	BEGIN
		FOR i IN 1 .. $slots LOOP
			INSERT INTO t (v) VALUES ('under version ' || i);
			PERFORM colcrypt.rotate_key('k');
		END LOOP;
	END
	\$\$;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM colcrypt._nonce_counters()'), $slots, 'every slot is taken');
my ($ret, $out, $err) = psql_full($node, 'postgres', q{INSERT INTO t (v) VALUES ('under version 81')});
isnt($ret, 0, 'a value under a version without a slot is refused');
like($err, qr/ERROR:  53400: colcrypt nonce counter table is full/, 'the table is full (SQLSTATE 53400)');
like($err, qr/DETAIL:  The server counts encryptions for at most $slots data-key versions at a time, over all databases \(colcrypt.max_key_versions\)/,
	'the detail names the limit and the setting');
like($err, qr/HINT:  Retire key versions .* or raise colcrypt.max_key_versions and restart the server/, 'the hint says what to do');

# Retire the 80 old versions in one transaction: every slot is freed.
$node->safe_psql('postgres', 'DELETE FROM t; VACUUM ANALYZE t;');
$node->safe_psql('postgres', qq{
	BEGIN;
	SELECT count(*) FROM (SELECT colcrypt.retire_key('k', g) FROM generate_series(1, $slots) g) s;
	COMMIT;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM colcrypt.keys WHERE state = 'retired'}), $slots,
	"$slots versions retired in one transaction");
is($node->safe_psql('postgres', 'SELECT count(*) FROM colcrypt._nonce_counters()'), '0', 'and all their slots freed');
# The counter file forgets them too (the launcher rewrites it), so a
# restart does not take their slots again.
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM colcrypt._nonce_counters()'), '0',
	'after a restart the retired versions hold no slot');
($ret, $out, $err) = psql_full($node, 'postgres', q{INSERT INTO t (v) VALUES ('under version 81') RETURNING v});
is($out, 'under version 81', 'encryption under the new version works again') or diag($err);

# A retirement rolled back with its savepoint keeps the counter; one in a
# transaction to be prepared is refused (the release could not follow the
# COMMIT PREPARED).
$node->safe_psql('postgres', q{
	SELECT colcrypt.rotate_key('k');
	UPDATE t SET v = v::text;
	VACUUM ANALYZE t;
});
$node->safe_psql('postgres', q{
	BEGIN;
	SAVEPOINT s;
	SELECT colcrypt.retire_key('k', 81);
	ROLLBACK TO SAVEPOINT s;
	COMMIT;
});
is($node->safe_psql('postgres', q{SELECT state FROM colcrypt.keys WHERE keyring = 'k' AND version = 81}),
	'decrypt_only', 'the rolled-back retirement left version 81 as it was');
is($node->safe_psql('postgres', 'SELECT string_agg(version::text, \',\' ORDER BY version) FROM colcrypt._nonce_counters()'),
	'81,82', 'and its counter (82 counts the rewrite)');
($ret, $out, $err) = psql_full($node, 'postgres', q{
	BEGIN;
	SELECT colcrypt.retire_key('k', 81);
	PREPARE TRANSACTION 'retire';
});
like($err, qr/ERROR:  0A000: cannot PREPARE a transaction that retired a key version/,
	'PREPARE TRANSACTION after retire_key is refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '0', 'nothing was prepared');
is($node->safe_psql('postgres', q{SELECT state FROM colcrypt.keys WHERE keyring = 'k' AND version = 81}),
	'decrypt_only', 'and version 81 is not retired');
$node->safe_psql('postgres', q{SELECT colcrypt.retire_key('k', 81)});
is($node->safe_psql('postgres', 'SELECT string_agg(version::text, \',\' ORDER BY version) FROM colcrypt._nonce_counters()'),
	'82', 'retired in a plain transaction, version 81 frees its counter');

# A counter file with more counters than slots: the server says so.
$node->stop;
$node->append_conf('postgresql.conf', 'colcrypt.max_key_versions = 32');
$node->start;
$node->safe_psql('postgres', q{
	DO $$ BEGIN
		FOR i IN 1 .. 20 LOOP
			INSERT INTO t (v) VALUES ('again ' || i);
			PERFORM colcrypt.rotate_key('k');
		END LOOP;
	END $$;
});
$node->stop;
$node->append_conf('postgresql.conf', 'colcrypt.max_key_versions = 16');
my $offset = log_size($node);
is($node->start(fail_ok => 1), 0, 'fewer slots than the counter file holds: the server does not start');
like(log_since($node, $offset), qr/colcrypt nonce counter file "pg_colcrypt\/nonce_counters" has 20 counters, more than colcrypt.max_key_versions \(16\)/,
	'the log says why');
like(log_since($node, $offset), qr/HINT:  Raise colcrypt.max_key_versions to at least 20/, 'and what to do');
$node->append_conf('postgresql.conf', 'colcrypt.max_key_versions = 32');
is($node->start(fail_ok => 1), 1, 'with enough slots it starts');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '21', 'every value is there');
$node->stop;
done_testing();
