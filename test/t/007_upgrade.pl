# Extension upgrades: a database created at 0.1.0 keeps working with the
# current library before it is updated, reads and rotates after
# ALTER EXTENSION colcrypt UPDATE, and ends up with exactly the member
# objects of a fresh CREATE EXTENSION (the shape of pg_stat_statements'
# oldextversions test).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $node = colcrypt_node('upgrade');
$node->start;

my $current = slurp_file(dirname_of_control() . '/colcrypt.control') =~ /default_version = '([^']+)'/ ? $1 : undef;
ok(defined $current, "the control file names the current version ($current)");

sub dirname_of_control
{
	my ($sharedir) = run_command([ 'pg_config', '--sharedir' ]);
	chomp $sharedir;
	return "$sharedir/extension";
}

sub q_old { return $node->safe_psql('old', $_[0]); }

my ($ret, $out, $err);

# --- A database at 0.1.0, used with today's library ----------------------------
$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE fresh;');
q_old(q{
	CREATE EXTENSION colcrypt VERSION '0.1.0';
	SELECT colcrypt.create_key('pii');
	SET colcrypt.blind_index_bits = 8;
	SELECT colcrypt.create_key('short');
	RESET colcrypt.blind_index_bits;
	CREATE TABLE people (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'),
	                     code colcrypt.encrypted_text('short'));
	INSERT INTO people SELECT g, 'user' || g || '@example.com', 'c' || (g % 50) FROM generate_series(1, 500) g;
	CREATE INDEX ON people (email);
	CREATE UNIQUE INDEX ON people (code, id);
	-- A column without a keyring, as 0.1.0's CREATE TABLE AS made them.
	SET check_function_bodies = off;
	CREATE TABLE loose (v colcrypt.encrypted_text);
	RESET check_function_bodies;
	-- 3000 distinct values in 256 terms: an index full of ties.
	CREATE TABLE tags (id int PRIMARY KEY, tag colcrypt.encrypted_text('short') UNIQUE, plain text);
	INSERT INTO tags SELECT g, 'tag-' || g, 'tag-' || g FROM generate_series(1, 3000) g;
	-- Arrays of the 8-bit keyring's values: a btree index sorts them by
	-- their elements' order, a GIN index sorts its keys (the elements) by it.
	CREATE TABLE tag_lists (id int PRIMARY KEY, codes colcrypt.encrypted_text('short')[]);
	INSERT INTO tag_lists SELECT g, ARRAY['c' || (g % 50), 'd' || (g % 37), 'e' || g] FROM generate_series(1, 1500) g;
	CREATE INDEX tag_lists_codes ON tag_lists (codes);
	CREATE INDEX tag_lists_gin ON tag_lists USING gin (codes);
	-- Re-encrypted after the update (a table of its own: the index-order
	-- checks below read people's indexes page by page).
	CREATE TABLE notes (id int PRIMARY KEY, body colcrypt.encrypted_text('pii'));
	INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 300) g;
	-- Its blind-index key is rotated after the update.
	SELECT colcrypt.create_key('legacy');
	CREATE TABLE accounts (id int PRIMARY KEY, login colcrypt.encrypted_text('legacy') UNIQUE, plain text);
	INSERT INTO accounts SELECT g, 'login-' || g, 'login-' || g FROM generate_series(1, 2000) g;
});
is(q_old(q{SELECT extversion FROM pg_extension WHERE extname = 'colcrypt'}), '0.1.0', 'installed at 0.1.0');
my $checksum_sql = q{SELECT md5(string_agg(id || ':' || email::text || ':' || code::text, ',' ORDER BY id)) FROM people};
my $before = q_old($checksum_sql);

# Today's library serves 0.1.0's SQL: reads, lookups, writes, key operations.
is(q_old(q{SELECT id FROM people WHERE email = 'user42@example.com'}), '42', '0.1.0 SQL: lookup through the index');
is(q_old(q{SELECT colcrypt.rotate_key('pii')}), '2', '0.1.0 SQL: rotate_key');
q_old(q{UPDATE people SET email = email::text WHERE id <= 10});
is(q_old(q{SELECT count(*) FROM people WHERE (colcrypt.describe(email)).key_version = 2}), '10',
	'0.1.0 SQL: values rewritten under version 2');
is(q_old(q{SELECT operation FROM colcrypt.key_events ORDER BY event_id DESC LIMIT 1}), 'rotate',
	'0.1.0 SQL: the rotation is audited under 0.1.0\'s CHECK constraint');
is(q_old($checksum_sql), $before, '0.1.0 SQL: every value reads as written');

# --- ALTER EXTENSION UPDATE -------------------------------------------------------
my ($update_ret, $update_out, $update_err) = psql_full($node, 'old', 'ALTER EXTENSION colcrypt UPDATE');
is($update_ret, 0, 'ALTER EXTENSION colcrypt UPDATE succeeds');
like($update_err, qr/WARNING:  01000: colcrypt: keyrings 'legacy' \(64-bit terms\), 'pii' \(64-bit terms\), 'short' \(8-bit terms\) keep index order 1/,
	'the update names the keyrings that keep index order 1');
like($update_err, qr/HINT:  Switch each with SELECT colcrypt.upgrade_index_order\(keyring\)/, 'and says how to switch them');
like($update_err, qr/WARNING:  01000: colcrypt: columns public.loose.v have no keyring/,
	'the update names the columns without a keyring');
is(q_old(q{SELECT extversion FROM pg_extension WHERE extname = 'colcrypt'}), $current, "updated to $current");
is(q_old($checksum_sql), $before, 'after the update: every value reads as written');
is(q_old(q{SELECT id FROM people WHERE email = 'user7@example.com'}), '7', 'after the update: lookup');
is(q_old(q{SELECT count(*) FROM people WHERE code = 'c7'}), '10', 'after the update: lookup on the 8-bit keyring');
is(q_old(q{SELECT colcrypt.rotate_key('pii')}), '3', 'after the update: rotate_key');
# Every data version 0.1.0 made is bound to index key 1, the only one it
# made; so is the one rotate_key just made; comparisons order by index key 1.
is(q_old(q{SELECT string_agg(k.name || ' ' || v.purpose || v.version || ' ' || coalesce(v.index_version::text, '-'), ', '
             ORDER BY k.name, v.purpose, v.version) FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)}),
	'legacy data1 1, legacy index1 -, pii data1 1, pii data2 1, pii data3 1, pii index1 -, short data1 1, short index1 -',
	'after the update: every data version is bound to index key 1 (index_version = 1)');
is(q_old(q{SELECT string_agg(name || ' ' || order_index_version, ', ' ORDER BY name) FROM colcrypt.keyrings}),
	'legacy 1, pii 1, short 1', 'after the update: every keyring orders by index key 1');
is(q_old(q{SELECT string_agg(DISTINCT index_key_version::text, ',') FROM colcrypt.coverage('people')}), '1',
	'after the update: coverage reports index key 1');
# New in 0.2.0: background re-encryption.
my $notes_sql = q{SELECT md5(string_agg(id || ':' || body::text, ',' ORDER BY id)) FROM notes};
my $notes_before = q_old($notes_sql);
my $job = q_old(q{SELECT colcrypt.reencrypt('notes')});
like($job, qr/^\d+$/, 'after the update: colcrypt.reencrypt() queues a job');
ok( $node->poll_query_until(
		'old', qq{SELECT bool_and(state IN ('waiting for vacuum', 'done')) FROM colcrypt.reencrypt_progress WHERE job = $job}),
	'after the update: the worker finishes the job');
is(q_old(q{SELECT count(*) FROM notes WHERE colcrypt._key_version(body) <> 3}), '0',
	'after the update: the worker moved every value written at 0.1.0 to version 3');
is(q_old($notes_sql), $notes_before, 'after the update: the re-encrypted values read as written');
q_old(q{INSERT INTO people VALUES (501, 'new@example.com', 'c1')});
is(q_old(q{SELECT (colcrypt.describe(email)).key_version FROM people WHERE id = 501}), '3',
	'after the update: new values under version 3');
is(q_old(q{SELECT string_agg(operation, ',' ORDER BY event_id) FROM colcrypt.key_events}),
	'create,create,create,rotate,rotate', 'after the update: the audit trail goes on under the new CHECK constraint');
# 0.1.0 let every role encrypt: the update grants that to PUBLIC on every
# keyring, so writers without any colcrypt grant keep working.
is(q_old(q{SELECT string_agg(k.name || ' ' || g.grantee::text || ' ' || g.granted_by, ', ' ORDER BY k.name)
             FROM colcrypt.encrypt_grants g JOIN colcrypt.keyrings k USING (keyring_id)}),
	'legacy - colcrypt 0.2.0 update, pii - colcrypt 0.2.0 update, short - colcrypt 0.2.0 update',
	'after the update: every keyring has an encrypt grant to PUBLIC');
q_old(q{CREATE ROLE plain_writer; CREATE TABLE written (v colcrypt.encrypted_text('pii'));
        GRANT INSERT, SELECT ON written TO plain_writer});
is(q_old(q{SET ROLE plain_writer; INSERT INTO written VALUES ('w@example.com'); RESET ROLE;
           SELECT count(*) FROM written WHERE v = 'w@example.com'}),
	'1', 'after the update: a role without colcrypt grants still writes');
q_old(q{SELECT colcrypt.revoke_encrypt('pii', 'public')});
($ret, $out, $err) = psql_full($node, 'old', q{SET ROLE plain_writer; INSERT INTO written VALUES ('x')});
like($err, qr/permission denied to encrypt under keyring "pii"/, 'until PUBLIC loses the grant');
q_old(q{SELECT colcrypt.grant_encrypt('pii', 'public')});
($ret, $out, $err) = psql_full($node, 'old',
	q{INSERT INTO colcrypt.key_events (session_user_name, current_user_name, operation) VALUES ('x', 'x', 'bogus')});
like($err, qr/violates check constraint "key_events_operation_check"/, 'an unknown operation is still refused');
like(q_old(q{SELECT budget || ' ' || hard_limit || ' ' || reservation_block FROM colcrypt._nonce_policy()}),
	qr/^2147483647 4278190080 100000$/, 'new in 0.2.0: colcrypt._nonce_policy()');

# --- Index order 2 for the upgraded keyrings ----------------------------------------
is(q_old(q{SELECT string_agg(name || ' ' || index_order, ', ' ORDER BY name) FROM colcrypt.keyrings}),
	'legacy 1, pii 1, short 1', 'upgraded keyrings with short terms keep index order 1');
my $index_checks = q{SELECT count(*) FROM (SELECT bt_index_check(i.indexrelid, true) FROM pg_index i
                      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
                      WHERE i.indrelid IN ('people'::regclass, 'tags'::regclass, 'tag_lists'::regclass)) s};
q_old('CREATE EXTENSION amcheck');
is(q_old($index_checks), '7', 'amcheck: the btree indexes built in order 1 are consistent with order 1');
my $lookups = q{SET enable_seqscan = off;
	SELECT count(*) FROM tags t JOIN generate_series(1, 3000, 7) g ON t.tag = 'tag-' || g};
is(q_old($lookups), '429', 'lookups on the 8-bit keyring in order 1');
# Every element of every list, looked up through the GIN index.
my $gin_lookups = q{SET enable_seqscan = off; SET enable_indexscan = off;
	SELECT count(*) FROM tag_lists t, generate_series(1, 1500, 11) g
	 WHERE t.codes @> ARRAY['e' || g]::colcrypt.encrypted_text('short')[]};
is(q_old($gin_lookups), '137', 'GIN lookups on the 8-bit keyring in order 1');
# Control: the order really differs, so an index in the other order is caught.
q_old(q{UPDATE colcrypt.keyrings SET index_order = 2 WHERE name = 'short'});
($ret, $out, $err) = psql_full($node, 'old', $index_checks);
# Which order check fails first depends on the random keys: the order of
# items within a page, or against the page's high key.
like($err, qr/(item order|high key) invariant violated/, 'control: read in order 2, the order-1 index is inconsistent');
q_old(q{UPDATE colcrypt.keyrings SET index_order = 1 WHERE name = 'short'});
($ret, $out, $err) = psql_full($node, 'old', q{SELECT colcrypt.upgrade_index_order('short')});
is($out, '4', 'upgrade_index_order rebuilt the four indexes with values of the 8-bit keyring');
like($err, qr/rebuilt index public\.tags_tag_key in index order 2/, 'naming each');
like($err, qr/rebuilt index public\.tag_lists_codes in index order 2/, 'the btree index on the arrays');
like($err, qr/rebuilt index public\.tag_lists_gin in index order 2/, 'and the GIN index');
is(q_old(q{SELECT index_order FROM colcrypt.keyrings WHERE name = 'short'}), '2', 'the keyring is in order 2');
is(q_old($index_checks), '7', 'amcheck: every btree index is consistent after the rebuild');
is(q_old($lookups), '429', 'lookups after the switch');
is(q_old($gin_lookups), '137', 'GIN lookups after the switch');
($ret, $out, $err) = psql_full($node, 'old', q{INSERT INTO tags VALUES (9999, 'tag-77', 'dup')});
like($err, qr/duplicate key value violates unique constraint "tags_tag_key"/, 'UNIQUE still holds');
is(q_old(q{SELECT count(*) FROM (SELECT t.id FROM tags t JOIN tags u ON t.tag = u.tag
                                 EXCEPT ALL SELECT id FROM tags) s}), '0', 'a self-join matches exactly the plaintexts');
is(q_old(q{SELECT colcrypt.upgrade_index_order('pii')}), '1', 'the 64-bit keyring switches too (its lookup index)');
is(q_old(q{SELECT string_agg(operation, ',' ORDER BY event_id) FROM colcrypt.key_events WHERE operation LIKE 'upgrade%'}),
	'upgrade_index_order,upgrade_index_order', 'each switch is audited');

# --- Blind-index key rotation (0.2.0) of a keyring made at 0.1.0 ----------------------
# 'legacy' is still in index order 1: one upgrade_index_order switches its
# order and its order key together.
my $accounts_sql = q{SET enable_seqscan = off; SET enable_bitmapscan = off;
	SELECT count(*) FROM accounts a WHERE (SELECT count(*) FROM accounts b WHERE b.login = a.plain) = 1};
is(q_old($accounts_sql), '2000', 'before rotate_index_key: every login is found by index');
($ret, $out, $err) = psql_full($node, 'old', q{SET colcrypt.reencrypt_on_rotate = off; SELECT colcrypt.rotate_index_key('legacy')});
is($out, '2', 'after the update: rotate_index_key makes index key 2') or diag($err);
q_old(q{INSERT INTO accounts SELECT g, 'login-' || g, 'login-' || g FROM generate_series(2001, 2500) g});
is(q_old($accounts_sql), '2500', 'during the transition: every login, old and new, is found by index');
($ret, $out, $err) = psql_full($node, 'old', q{INSERT INTO accounts VALUES (9999, 'login-7', 'dup')});
like($err, qr/duplicate key value violates unique constraint "accounts_login_key"/,
	'during the transition: UNIQUE refuses a new value equal to one under index key 1');
q_old(q{CALL colcrypt.reencrypt_now('accounts')});
# The cut-over once the worker's cleanup of the job is over, as the README says.
ok( $node->poll_query_until(
		'old', q{SELECT bool_and(state = 'done') FROM colcrypt.reencrypt_progress
		WHERE job = (SELECT max(job) FROM colcrypt.reencrypt_tasks WHERE relation = 'accounts'::regclass)}),
	'the re-encryption of accounts and its cleanup are done');
($ret, $out, $err) = psql_full($node, 'old', q{SELECT colcrypt.upgrade_index_order('legacy')});
is($out, '1', 'the cut-over rebuilds the keyring\'s index') or diag($err);
like($err, qr/rebuilt index public\.accounts_login_key in index order 2 under blind-index key 2/,
	'in index order 2 and under index key 2 at once');
is(q_old(q{SELECT index_order || ' ' || order_index_version FROM colcrypt.keyrings WHERE name = 'legacy'}), '2 2',
	'the keyring is in order 2 under index key 2');
is(q_old(q{SELECT bt_index_check('accounts_login_key', true)}), '', 'amcheck: the rebuilt index is consistent');
is(q_old($accounts_sql), '2500', 'after the cut-over: every login is found by index');
q_old(q{VACUUM accounts; ANALYZE accounts});
($ret, $out, $err) = psql_full($node, 'old', q{SELECT colcrypt.retire_key('legacy', 1)});
like($err, qr/blind-index key version 1 of keyring "legacy" destroyed/, 'retire_key of data version 1 destroys index key 1');
is(q_old(q{SELECT string_agg(purpose || version || ' ' || state, ', ' ORDER BY purpose, version) FROM colcrypt.key_versions
             WHERE keyring_id = (SELECT keyring_id FROM colcrypt.keyrings WHERE name = 'legacy')}),
	'data1 retired, data2 active, index1 retired, index2 active', 'only index key 2 is left');

# --- The type family (0.2.0) on keyrings made at 0.1.0 ------------------------------
# The 8-bit keyring kept 0.1.0's index order 1 until just now; 'short' ties
# by plaintext no more, so numeric values of equal terms are confirmed by
# numeric's own equality.
q_old(q{CREATE TABLE pay (id int PRIMARY KEY, salary colcrypt.encrypted_numeric('short'),
                          born colcrypt.encrypted_date('pii'), doc colcrypt.encrypted_jsonb('pii'));
        INSERT INTO pay SELECT g, (g % 50) * 1.50, date '1970-01-01' + g % 90, jsonb_build_object('n', g % 20)
          FROM generate_series(1, 500) g;
        CREATE INDEX ON pay (salary);
        CREATE INDEX ON pay (born);});
is(q_old(q{SELECT count(*) FROM pay WHERE salary = 3}), '10', 'after the update: encrypted_numeric lookup, 1.50 * 2 = 3');
is(q_old(q{SELECT count(*) FROM pay WHERE born = '1970-01-05'}), q_old(q{SELECT count(*) FROM generate_series(1, 500) g WHERE g % 90 = 4}),
	'after the update: encrypted_date lookup');
is(q_old(q{SELECT count(*) FROM pay WHERE doc = '{"n": 7.0}'}), '25', 'after the update: encrypted_jsonb equality');
is(q_old(q{SELECT sum(salary::numeric) FROM pay}), q_old(q{SELECT sum((g % 50) * 1.50) FROM generate_series(1, 500) g}),
	'after the update: the numeric values decrypt');

# --- Keyring transfer (0.2.0) of a keyring made at 0.1.0 ----------------------------
# The update gives every keyring its own identity and the whole version range;
# such a keyring exports to another database (here on the same server) and
# its 0.1.0 envelopes read there.
is(q_old(q{SELECT count(DISTINCT keyring_uuid) = count(*) AND min(version_start) = 1 AND max(version_end) = 2147483647
             FROM colcrypt.keyrings}), 't', 'after the update: every keyring has its own uuid and the whole version range');
$node->safe_psql('postgres', 'CREATE DATABASE xfer');
$node->safe_psql('xfer', 'CREATE EXTENSION colcrypt');
my $recipient = $node->safe_psql('xfer', 'SELECT colcrypt.transfer_key()');
my $bundle = q_old(qq{SELECT encode(colcrypt.export_keyring('pii', '$recipient'), 'hex')});
is($node->safe_psql('xfer', qq{SELECT colcrypt.import_keyring(decode('$bundle', 'hex'))}), 'pii',
	'after the update: a keyring made at 0.1.0 exports and imports');
my $old_envelope = q_old(q{SET colcrypt.output_mode = ciphertext; SELECT email FROM people WHERE id = 400});
is($node->safe_psql('xfer', qq{SELECT '$old_envelope'::colcrypt.encrypted_text('pii')::text}), 'user400@example.com',
	'a value written at 0.1.0 reads in the importing database');
is(q_old(q{SELECT colcrypt.rotate_key('pii')}), '4', 'the exporting database rotates below the range it reserved');
($ret, $out, $err) = psql_full($node, 'old', q{SELECT colcrypt.rotate_index_key('pii')});
like($err, qr/cannot rotate the blind-index key of keyring "pii": it is shared with another database/,
	'an exported keyring\'s blind-index key is not rotated');

# --- The same member objects as a fresh install -----------------------------------
$node->safe_psql('fresh', 'CREATE EXTENSION colcrypt');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'colcrypt'}), $current,
	"a fresh install is at $current");

# Every member object with its definition, in terms that do not depend on
# OIDs, one line each.
my $members_sql = q{
	WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'colcrypt'),
	members AS (
		SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
		 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
	SELECT string_agg(line, E'\n' ORDER BY line) FROM (
		SELECT pg_describe_object(classid, objid, objsubid) || ' :: ' || coalesce(CASE classid
			WHEN 'pg_proc'::regclass THEN
				(SELECT pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '')
				   FROM pg_proc p WHERE p.oid = objid AND p.prokind <> 'a')
			WHEN 'pg_class'::regclass THEN
				(SELECT c.relkind::text || ' acl=' || coalesce(c.relacl::text, '') || ' cols=' ||
				        coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ||
				                                    CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
				                                    coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), ''),
				                                    ', ' ORDER BY a.attnum)
				                    FROM pg_attribute a
				                    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
				                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') ||
				        ' constraints=' ||
				        coalesce((SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname)
				                    FROM pg_constraint WHERE conrelid = c.oid), '') ||
				        ' indexes=' ||
				        coalesce((SELECT string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY 1)
				                    FROM pg_index WHERE indrelid = c.oid), '') ||
				        CASE WHEN c.relkind = 'v' THEN ' view=' || pg_get_viewdef(c.oid) ELSE '' END
				   FROM pg_class c WHERE c.oid = objid)
			WHEN 'pg_type'::regclass THEN
				(SELECT t.typtype::text || ' ' || t.typinput::text || ' ' || t.typoutput::text || ' ' ||
				        t.typreceive::text || ' ' || t.typsend::text || ' ' || t.typmodin::text || ' ' ||
				        t.typmodout::text || ' ' || t.typstorage::text || ' ' || t.typcategory::text
				   FROM pg_type t WHERE t.oid = objid)
			WHEN 'pg_operator'::regclass THEN
				(SELECT o.oprcode::text || ' com=' || o.oprcom::regoperator::text || ' neg=' ||
				        o.oprnegate::regoperator::text || ' ' || o.oprrest::text || ' ' || o.oprjoin::text ||
				        ' merges=' || o.oprcanmerge || ' hashes=' || o.oprcanhash
				   FROM pg_operator o WHERE o.oid = objid)
			WHEN 'pg_opclass'::regclass THEN
				(SELECT 'default=' || c.opcdefault || ' family=' || f.opfname
				   FROM pg_opclass c JOIN pg_opfamily f ON f.oid = c.opcfamily WHERE c.oid = objid)
			WHEN 'pg_opfamily'::regclass THEN
				(SELECT 'ops=' || coalesce((SELECT string_agg(amopstrategy || ' ' || amopopr::regoperator::text, ', '
				                                              ORDER BY amopstrategy, amopopr::regoperator::text)
				                              FROM pg_amop WHERE amopfamily = objid), '') ||
				        ' procs=' || coalesce((SELECT string_agg(amproclefttype::regtype || ',' ||
				                                                 amprocrighttype::regtype || ' ' || amprocnum ||
				                                                 ' ' || amproc::regprocedure::text, ', '
				                                                 ORDER BY 1)
				                                 FROM pg_amproc WHERE amprocfamily = objid), ''))
			WHEN 'pg_cast'::regclass THEN
				(SELECT c.castfunc::regprocedure::text || ' ' || c.castcontext::text || ' ' || c.castmethod::text
				   FROM pg_cast c WHERE c.oid = objid)
			ELSE ''
		END, '') AS line
		  FROM members
		UNION ALL
		SELECT 'config tables: ' || string_agg(c::regclass::text, ', ' ORDER BY c::regclass::text)
		  FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'colcrypt'
		UNION ALL
		SELECT 'schema acl: ' || nspacl::text FROM pg_namespace WHERE nspname = 'colcrypt'
	) s};
my $fresh_members = $node->safe_psql('fresh', $members_sql);
my $upgraded_members = $node->safe_psql('old', $members_sql);
my $count = () = $fresh_members =~ /\n/g;
cmp_ok($count, '>', 80, "the comparison covers the extension's member objects (" . ($count + 1) . ' lines)');
like($fresh_members, qr/key_events_operation_check CHECK \(colcrypt\._is_key_event_operation\(operation\)\)/,
	'it includes constraint definitions');
is($upgraded_members, $fresh_members, 'the upgraded database has exactly the member objects of a fresh install');
# The comparison sees a difference when there is one.
q_old('ALTER FUNCTION colcrypt._nonce_policy() VOLATILE');
isnt($node->safe_psql('old', $members_sql), $fresh_members, 'control: a changed member object is told apart');

$node->stop;
done_testing();
