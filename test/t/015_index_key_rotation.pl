# Blind-index key rotation under load (docs/design/reencryption.md,
# section 7): rotate_index_key while pgbench looks rows up (by literal, by
# text expression, by IN list) and inserts new values and duplicates of
# stored ones; the worker re-encrypts to the new data version and index key
# by itself; the DBA vacuums and cuts over with upgrade_index_order while
# pgbench still runs, then retires the old data version, which destroys the
# old index key.  Every lookup is checked against a plaintext copy of the
# column inside pgbench's own transactions (a wrong or missing row is
# recorded in a table), EXPLAIN shows index scans before, during (values
# under both index keys) and after, UNIQUE admits no duplicate, GROUP BY,
# DISTINCT and joins agree with the plaintext copy, and amcheck passes.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $rows = 10_000;
# Slow enough that pgbench and the checks below meet values under both
# index keys: about 100 batches, 100 ms apart.
my $node = colcrypt_node('index_key_rotation', reencrypt => 1,
	conf => "colcrypt.reencrypt_naptime = '100ms'\ncolcrypt.reencrypt_batch_size = 100");
$node->start;

sub run_sql { return $node->safe_psql('postgres', $_[0]); }

run_sql(q{
	CREATE EXTENSION colcrypt;
	CREATE EXTENSION amcheck;
	SELECT colcrypt.create_key('pii');
	CREATE SEQUENCE t_id START 1000001;
	CREATE TABLE t (id int PRIMARY KEY DEFAULT nextval('t_id'), email colcrypt.encrypted_text('pii') UNIQUE,
	                plain text NOT NULL, city colcrypt.encrypted_text('pii'), city_plain text);
	CREATE INDEX t_city ON t (city);
	CREATE TABLE orders (email colcrypt.encrypted_text('pii'), plain text NOT NULL);
	CREATE INDEX orders_email ON orders (email);
	CREATE TABLE misses (id int, what text, at timestamptz DEFAULT clock_timestamp());
	-- No index: the cut-over does not wait for a transaction that reads it.
	CREATE TABLE unindexed (v colcrypt.encrypted_text('pii'));
	INSERT INTO unindexed SELECT 'u' || g FROM generate_series(1, 100) g;
});
run_sql(qq{INSERT INTO t (id, email, plain, city, city_plain)
	SELECT g, 'user' || g || '\@example.com', 'user' || g || '\@example.com', 'city-' || (g % 97), 'city-' || (g % 97)
	  FROM generate_series(1, $rows) g;
	INSERT INTO orders SELECT 'user' || (g % 1000 + 1) || '\@example.com', 'user' || (g % 1000 + 1) || '\@example.com'
	  FROM generate_series(1, 3000) g;
	ANALYZE t, orders});
# The same values behind an index over their terms (docs/design/lookup-index.md):
# lookups through it search for both index keys' terms during the transition.
run_sql(q{CREATE TABLE tt (id int PRIMARY KEY, email colcrypt.encrypted_text('pii'), plain text NOT NULL);
	INSERT INTO tt SELECT id, email, plain FROM t;
	CREATE INDEX tt_term ON tt (colcrypt.term(email));
	ANALYZE tt});

# Checks made before, during and after the transition.
my $lookup = q{EXPLAIN (COSTS OFF) SELECT id FROM t WHERE email = 'user4242@example.com'};
sub check_everything
{
	my ($when) = @_;
	like(run_sql($lookup), qr/Index Scan using t_email_key/, "$when: a lookup is an index scan");
	like(run_sql(q{EXPLAIN (COSTS OFF) SELECT id FROM t WHERE email = 'user' || 42 || '@example.com'}),
		qr/Index Scan using t_email_key/, "$when: a lookup by a text expression is an index scan");
	is(run_sql(q{SET enable_seqscan = off; SET enable_bitmapscan = off;
		SELECT count(*) FROM t a WHERE (SELECT count(*) FROM t b WHERE b.email = a.plain) <> 1}),
		'0', "$when: every stored plaintext finds exactly one row by index");
	is(run_sql(q{SELECT count(*) = count(DISTINCT plain) FROM t}), 't', "$when: no duplicate was admitted");
	is(run_sql(q{SELECT (SELECT count(*) FROM (SELECT city FROM t GROUP BY city) g) || ' '
		|| (SELECT count(DISTINCT city) FROM t) || ' ' || (SELECT count(DISTINCT city_plain) FROM t)}),
		'98 98 98', "$when: GROUP BY and DISTINCT agree with the plaintext copy");
	is(run_sql(q{SELECT (SELECT count(*) FROM orders o JOIN t ON t.email = o.email)
		= (SELECT count(*) FROM orders o JOIN t ON t.plain = o.plain)}),
		't', "$when: a join agrees with the plaintext copy");
	like(run_sql(q{EXPLAIN (COSTS OFF) SELECT id FROM tt WHERE email = 'user4242@example.com'}),
		qr/Index Scan (?:using|on) tt_term/, "$when: a lookup goes through the index over terms");
	is(run_sql(q{SET enable_seqscan = off;
		SELECT count(*) FROM tt a WHERE (SELECT count(*) FROM tt b WHERE b.email = a.plain) <> 1}),
		'0', "$when: every stored plaintext finds exactly one row through the index over terms");
	is(run_sql(q{SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid IN ('t'::regclass, 'orders'::regclass, 'tt'::regclass)) s}),
		'6', "$when: bt_index_check passes on every index");
}

# The new rows of the writer have city 'new', so GROUP BY counts 97 + 1.
run_sql(q{INSERT INTO t (email, plain, city, city_plain) VALUES ('first@example.com', 'first@example.com', 'new', 'new')});
check_everything('before the rotation');

# pgbench: lookups checked against the plaintext copy, new values, and
# duplicates of stored values that UNIQUE must refuse (ON CONFLICT DO
# NOTHING: an admitted one would be a row with city_plain 'dup').
my $dir = PostgreSQL::Test::Utils::tempdir;
write_file("$dir/lookup.sql", qq{\\set id random(1, $rows)
INSERT INTO misses SELECT :id, 'literal' WHERE (SELECT string_agg(id::text, ',') FROM t WHERE email = 'user:id\@example.com') IS DISTINCT FROM ':id';
INSERT INTO misses SELECT :id, 'text' WHERE (SELECT string_agg(id::text, ',') FROM t WHERE email = 'user' || :id || '\@example.com') IS DISTINCT FROM ':id';
INSERT INTO misses SELECT :id, 'in list' WHERE (SELECT string_agg(id::text, ',') FROM t WHERE email IN ('user:id\@example.com', 'nobody\@example.com')) IS DISTINCT FROM ':id';
});
write_file("$dir/write.sql", qq{\\set id random(1, $rows)
\\set n random(1, 1000000000)
INSERT INTO t (email, plain, city, city_plain) VALUES ('user:id\@example.com', 'dup', 'dup', 'dup') ON CONFLICT (email) DO NOTHING;
INSERT INTO t (email, plain, city, city_plain) VALUES ('new:n\@example.com', 'new:n\@example.com', 'new', 'new') ON CONFLICT (email) DO NOTHING;
});
# Prepared statements, planned before the rotation (one search term each)
# and run through it: the rotation makes every session plan them again.
write_file("$dir/lookup_term.sql", qq{\\set id random(1, $rows)
INSERT INTO misses SELECT :id, 'term index' WHERE (SELECT string_agg(id::text, ',') FROM tt WHERE email = 'user' || :id || '\@example.com') IS DISTINCT FROM :id::text;
});
my ($term_out, $term_err) = ('', '');
my $term_bench = IPC::Run::start(
	[
		'pgbench', '-n', '-M', 'prepared', '-T', '30', '-c', '2', '-j', '1', '-f', "$dir/lookup_term.sql",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$term_out, '2>', \$term_err);
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[
		'pgbench', '-n', '-T', '30', '-c', '3', '-j', '2', '-f', "$dir/lookup.sql\@4", '-f', "$dir/write.sql\@1",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$bench_out, '2>', \$bench_err);
sleep 1;

# --- the rotation ------------------------------------------------------------
my ($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.rotate_index_key('pii')});
is($ret, 0, 'rotate_index_key succeeds while pgbench runs') or diag($err);
is($out, '2', 'it returns the new index key version');
like($err, qr/re-encryption job (\d+) queued for the values of keyring "pii"/, 'it queues the re-encryption job');
my ($job) = $err =~ /re-encryption job (\d+) queued/;
is(run_sql(q{SELECT string_agg(purpose || version || ' ' || state || coalesce(' i' || index_version, ''), ', '
	ORDER BY purpose, version) FROM colcrypt.key_versions}),
	'data1 decrypt_only i1, data2 active i2, index1 decrypt_only, index2 active',
	'data version 2 is bound to index key 2, both active');

ok( $node->poll_query_until(
		'postgres', qq{SELECT bool_and(rows_done > 1000 AND rows_left > 1000) FROM colcrypt.reencrypt_progress WHERE job = $job AND "table" = 'public.t'}),
	'the worker is half-way');
like(run_sql(q{SELECT string_agg(DISTINCT data_key_version || ':' || index_key_version, ',') FROM colcrypt.coverage('t') WHERE "values" > 0}),
	qr/^1:1,2:2$/, 'coverage: values under both data versions, bound to index keys 1 and 2');
check_everything('during the transition');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.upgrade_index_order('pii')});
like($err, qr/cannot cut keyring "pii" over to blind-index key 2: \d+ values still carry terms of index key 1/,
	'the cut-over is refused while values carry terms of the old key');

ok( $node->poll_query_until(
		'postgres', qq{SELECT bool_and(state = 'done') FROM colcrypt.reencrypt_progress WHERE job = $job}),
	'the worker finishes the job by itself');
is(run_sql(q{SELECT string_agg(DISTINCT data_key_version || ':' || index_key_version, ',') FROM colcrypt.coverage() WHERE "values" > 0}),
	'2:2', 'coverage: every live value under data version 2 and index key 2');

# --- the cut-over, while pgbench still runs ------------------------------------
run_sql(q{VACUUM t, orders, tt});
# A transaction that looked a value up before the cut-over looks it up
# again after: the search values of the first lookup (_bind's results for
# the same text array, cached for the transaction) carry terms of the old
# order key, and must not be reused.
my $reader = $node->background_psql('postgres');
is($reader->query_safe(q{BEGIN; SELECT count(*) FROM unindexed WHERE v = ANY ('{u5,u6}'::text[])}), '2',
	'a lookup in a transaction open across the cut-over, before it');
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.upgrade_index_order('pii')});
is($ret, 0, 'upgrade_index_order cuts over') or diag($err);
is($reader->query_safe(q{SELECT count(*) FROM unindexed WHERE v = ANY ('{u5,u6}'::text[])}), '2',
	'the same lookup in the same transaction, after it, finds the row');
$reader->query_safe('COMMIT');
$reader->quit;
is($out, '3', 'it rebuilds the three indexes of the keyring\'s columns');
is(run_sql(q{SELECT order_index_version FROM colcrypt.keyrings WHERE name = 'pii'}), '2', 'the order key is index key 2');
my $bench_running = $bench->pumpable ? 1 : 0;
ok($bench_running, 'pgbench was still running at the cut-over');
check_everything('after the cut-over');

$bench->finish;
$term_bench->finish;
note($bench_out);
note($term_out);
like($term_out, qr/^number of failed transactions: 0 /m, 'pgbench through the index over terms saw no error')
  or diag($term_err);
like($bench_out, qr/^number of failed transactions: 0 /m, 'pgbench saw no error') or diag($bench_err);
like($bench_out, qr/number of transactions actually processed: (\d+)/, 'pgbench ran transactions');
is(run_sql(q{SELECT count(*) FROM misses}), '0', 'no lookup in pgbench found a wrong row or missed one')
  or diag(run_sql(q{SELECT string_agg(id || ' ' || what || ' ' || at, E'\n') FROM misses}));
is(run_sql(q{SELECT count(*) FROM t WHERE city_plain = 'dup'}), '0', 'UNIQUE admitted no duplicate of a stored value');
cmp_ok(run_sql(q{SELECT count(*) FROM t WHERE city_plain = 'new'}), '>', 1, 'pgbench inserted new values');
is(run_sql(q{SELECT count(*) FROM t WHERE email::text IS DISTINCT FROM plain}), '0', 'every value reads as its plaintext copy');

# --- retire the old data version: the old index key goes with it ---------------
run_sql(q{VACUUM t, orders; ANALYZE t, orders});
($ret, $out, $err) = psql_full($node, 'postgres', q{SELECT colcrypt.retire_key('pii', 1)});
is($ret, 0, 'retire_key of data version 1 succeeds') or diag($err);
like($err, qr/blind-index key version 1 of keyring "pii" destroyed/, 'it destroys index key 1');
is(run_sql(q{SELECT string_agg(purpose || version || ' ' || state || ' ' || (wrapped_key IS NULL), ', ' ORDER BY purpose, version)
	FROM colcrypt.key_versions}),
	'data1 retired true, data2 active false, index1 retired true, index2 active false',
	'index key 1 is gone with data version 1');
check_everything('after retire_key');
like(run_sql($lookup), qr/Index Scan/, 'lookups still use the index');

done_testing();
