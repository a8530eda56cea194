#!/usr/bin/env bash
# The price of a blind-index key rotation (docs/design/reencryption.md,
# section 7), run by hand: bench/index_key_rotation.sh.  Not part of
# `make bench` (no target in the SPEC for it); it measures what the design
# page says it costs: a decryption per comparison with a value whose term is
# not under the order key, until the cut-over.
#
# On a throwaway server, one table of BENCH_ROWS rows with a UNIQUE
# encrypted column; pgbench lookups by literal (BENCH_SECONDS each, one
# client per core) in four states:
#   1. before the rotation (every term under the order key);
#   2. after rotate_index_key, half of the rows rewritten under the new
#      data version (half the index entries need a decryption to compare);
#   3. every row rewritten, before the cut-over (every entry does);
#   4. after VACUUM and the cut-over (upgrade_index_order).
# Also the time of each half's rewrite (one UPDATE statement, whose index
# insertions compare with old and new entries) and of the cut-over.
# Results: $BENCH_OUT/index_key_rotation.md.
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
ROWS=${BENCH_ROWS:-100000}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-2}
OUT=${BENCH_OUT:-$REPO/bench/results}
BINDIR=$("$PG_CONFIG" --bindir)

progress() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

. "$REPO/scripts/lib/throwaway_cluster.sh"
DIR=''
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    remove_throwaway_cluster "$DIR" "$BINDIR"
    exit "$status"
}
trap cleanup EXIT
DIR=$(cluster_scratch_dir bench-index-key)
cd "$DIR"  # the cluster user may not enter the caller's directory
PORT=$(free_port 5763)
as_cluster_user "$BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_cluster_user tee -a "$DIR/data/postgresql.conf" >/dev/null <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'colcrypt'
shared_buffers = 512MB
max_wal_size = 8GB
autovacuum = off
jit = off
colcrypt.reencrypt_on_rotate = off
EOF
as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
sql() { as_cluster_user "$BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres "$@"; }
# Milliseconds a statement takes (psql's \timing).
timed_ms() {
    as_cluster_user "$BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres \
        -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

progress "creating a table of $ROWS rows"
sql >/dev/null <<SQL
CREATE EXTENSION colcrypt;
SELECT colcrypt.create_key('bench');
CREATE TABLE t (id bigint PRIMARY KEY, email colcrypt.encrypted_text('bench') UNIQUE);
INSERT INTO t SELECT g, 'user' || g || '@example.com' FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE t;
SQL
as_cluster_user tee "$DIR/lookup.sql" >/dev/null <<EOF
\set id random(1, $ROWS)
SELECT id FROM t WHERE email = 'user:id@example.com';
EOF
lookup_tps() {
    as_cluster_user "$BINDIR/pgbench" -n -T "$SECONDS_PER_RUN" -c "$CLIENTS" -j "$CLIENTS" -f "$DIR/lookup.sql" \
        -h "$DIR" -p "$PORT" -U postgres postgres 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p'
}
half=$((ROWS / 2))
# Decryptions per lookup (colcrypt.stats), over 2000 lookups by text
# expression in one statement: exact where the lookups/s are noisy.
decryptions_per_lookup() {
    sql -c "SELECT colcrypt.stats_reset()" >/dev/null
    local found
    found=$(sql -c "SET enable_seqscan = off; SET enable_bitmapscan = off;
        SELECT count(*) FROM generate_series(1, 2000) g,
               LATERAL (SELECT id FROM t WHERE email = 'user' || (g * 37 % $ROWS + 1) || '@example.com') s")
    [ "$found" = 2000 ] || { echo "2000 lookups found $found rows" >&2; exit 1; }
    sql -c "SELECT round(decryptions / 2000.0, 1) FROM colcrypt.stats WHERE keyring = 'bench'"
}

progress "lookups before the rotation"
tps_before=$(lookup_tps)
dec_before=$(decryptions_per_lookup)
sql -c "SELECT colcrypt.rotate_index_key('bench')" >/dev/null
progress "rewriting the first half under the new index key"
ms_first_half=$(timed_ms "UPDATE t SET email = email::text WHERE id <= $half")
progress "lookups with half of the values under the new index key"
tps_half=$(lookup_tps)
dec_half=$(decryptions_per_lookup)
progress "rewriting the second half"
ms_second_half=$(timed_ms "UPDATE t SET email = email::text WHERE id > $half")
sql -c "VACUUM t" >/dev/null
progress "lookups with every value under the new index key, before the cut-over"
tps_all_new=$(lookup_tps)
dec_all_new=$(decryptions_per_lookup)
progress "the cut-over"
ms_cutover=$(timed_ms "SET client_min_messages = warning; SELECT colcrypt.upgrade_index_order('bench')")
progress "lookups after the cut-over"
tps_after=$(lookup_tps)
dec_after=$(decryptions_per_lookup)
found=$(sql -c "SELECT count(*) FROM t WHERE email = 'user' || ($half + 1) || '@example.com' OR email = 'user1@example.com'")
[ "$found" = 2 ] || { echo "lookups after the cut-over found $found rows, not 2" >&2; exit 1; }

mkdir -p "$OUT"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
    echo "# Blind-index key rotation: what the transition costs"
    echo
    echo "bench/index_key_rotation.sh, $(date -u +%Y-%m-%d), $ROWS rows, UNIQUE index on one encrypted_text column"
    echo "(64-bit terms), pgbench lookups by literal, $CLIENTS clients, $SECONDS_PER_RUN s each; $(nproc) cores."
    echo
    echo "| state | lookups/s | vs before | decryptions per lookup |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| before rotate_index_key | $tps_before | 1.00 | $dec_before |"
    echo "| half of the values under the new index key | $tps_half | $(ratio "$tps_half" "$tps_before") | $dec_half |"
    echo "| every value under the new index key, before the cut-over | $tps_all_new | $(ratio "$tps_all_new" "$tps_before") | $dec_all_new |"
    echo "| after the cut-over | $tps_after | $(ratio "$tps_after" "$tps_before") | $dec_after |"
    echo
    echo "| statement | ms |"
    echo "| --- | ---: |"
    echo "| UPDATE of the first half (index entries compared with old-key entries) | $ms_first_half |"
    echo "| UPDATE of the second half (with new-key entries: each needs a decryption) | $ms_second_half |"
    echo "| upgrade_index_order (the cut-over: REINDEX of the column's index) | $ms_cutover |"
    echo
    echo "Until the cut-over, a comparison with an index entry whose data version is"
    echo "bound to the new index key decrypts that entry (the transaction cache keeps"
    echo "the last few, so pivots of the upper levels are decrypted once per"
    echo "statement); the one decryption per lookup outside the transition confirms"
    echo "the match (64-bit terms are not conclusive).  Decryptions per lookup are"
    echo "counted over 2000 lookups in one statement (colcrypt.stats).  Lookups/s are"
    echo "one pgbench run per state, one after the other, on a shared machine: they"
    echo "vary by tens of percent from run to run; the decryption counts do not."
} >"$OUT/index_key_rotation.md"
cat "$OUT/index_key_rotation.md"
