#!/usr/bin/env bash
# Instructions per equality lookup, plain text vs colcrypt, counted by
# callgrind: a noise-free complement to the pgbench figures of `make bench`
# (run it on the same build; it does not install anything).
#
#   PG_CONFIG=... bench/lookup_instructions.sh [rows] [lookups]
#
# Loads the benchmark's table shape into a throwaway cluster, indexes email
# in bench_plain, bench_colcrypt (64-bit terms, the default) and bench_wide
# (128-bit terms, conclusive: no confirming decryption), and bench_term
# (64-bit terms, an index over colcrypt.term(email) instead of one over the
# envelopes: docs/design/lookup-index.md), stops the server, and runs the lookups
# in single-user mode (`postgres --single`, one transaction per statement)
# under valgrind --tool=callgrind: -M prepared's shape (PREPARE once, then
# EXECUTE with a generic plan), the same with a parameter whose type the
# server infers ("untyped": what drivers that send no types cost), and
# -M simple's (a new query text each time).
# A run with only the warm-up statements is subtracted, so the figure is
# per lookup, without start-up.  Crypto counts are inflated: valgrind runs
# SHA-256 without the CPU's SHA extensions.  Needs valgrind; as root, runs
# the server as "postgres".
#
# LOOKUP_MODES and LOOKUP_TABLES (space-separated) narrow the run to some
# of the modes and tables.  With LOOKUP_PROFILE_DIR set, the callgrind file of each full run is kept
# there as MODE-TABLE.callgrind (callgrind_annotate --inclusive=yes them).
set -Eeuo pipefail

PG_CONFIG=${PG_CONFIG:-pg_config}
ROWS=${1:-200000}
LOOKUPS=${2:-2000}
WARMUP=200
BINDIR=$("$PG_CONFIG" --bindir)
PROFILE_DIR=${LOOKUP_PROFILE_DIR:-}
command -v valgrind >/dev/null || { echo "lookup_instructions: valgrind is not installed" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
    as_cluster_user() { runuser -u postgres -- "$@"; }
else
    as_cluster_user() { "$@"; }
fi
DIR=$(mktemp -d /tmp/colcrypt-callgrind.XXXXXX)
chmod 0755 "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
cleanup() {
    [ -f "$DIR/data/postmaster.pid" ] && as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$DIR"
}
trap cleanup EXIT

as_cluster_user "$BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_cluster_user tee -a "$DIR/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'colcrypt'
autovacuum = off
max_parallel_workers_per_gather = 0
jit = off
EOF
as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
as_cluster_user "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -U postgres -d postgres >/dev/null <<SQL
CREATE EXTENSION colcrypt;
SELECT colcrypt.create_key('bench');
SET colcrypt.blind_index_bits = 128;
SELECT colcrypt.create_key('bench_wide');
RESET colcrypt.blind_index_bits;
CREATE TABLE bench_plain (id bigint, email text, note text);
INSERT INTO bench_plain
    SELECT g, 'user' || g || '@example.com', left(repeat(md5(g::text), 7), 200) FROM generate_series(1, $ROWS) g;
CREATE TABLE bench_colcrypt (id bigint, email colcrypt.encrypted_text('bench'), note colcrypt.encrypted_text('bench'));
INSERT INTO bench_colcrypt SELECT * FROM bench_plain;
CREATE TABLE bench_wide (id bigint, email colcrypt.encrypted_text('bench_wide'), note colcrypt.encrypted_text('bench_wide'));
INSERT INTO bench_wide SELECT * FROM bench_plain;
CREATE TABLE bench_term (id bigint, email colcrypt.encrypted_text('bench'), note colcrypt.encrypted_text('bench'));
INSERT INTO bench_term SELECT * FROM bench_plain;
CREATE INDEX ON bench_term (colcrypt.term(email));
CREATE INDEX ON bench_plain (email);
CREATE INDEX ON bench_colcrypt (email);
CREATE INDEX ON bench_wide (email);
VACUUM ANALYZE bench_plain;
VACUUM ANALYZE bench_colcrypt;
VACUUM ANALYZE bench_wide;
VACUUM ANALYZE bench_term;
SQL
as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null

# statements TABLE MODE FIRST COUNT: lookups of spread-out rows
statements() {
    local i n
    for ((i = $3; i < $3 + $4; i++)); do
        n=$(((i * 104729) % ROWS + 1))
        if [ "$2" = prepared ]; then
            echo "EXECUTE q('$n');"
        elif [ "$2" = untyped ]; then
            echo "EXECUTE q('user$n@example.com');"
        else
            echo "SELECT id FROM $1 WHERE email = 'user' || $n || '@example.com';"
        fi
    done
}
[ -z "$PROFILE_DIR" ] || { mkdir -p "$PROFILE_DIR"; chmod 0777 "$PROFILE_DIR"; }
# Instructions callgrind collects for a script run in single-user mode; with
# a second argument and LOOKUP_PROFILE_DIR, the profile is kept under that name.
instructions() {
    local out=/dev/null
    [ -n "${2:-}" ] && [ -n "$PROFILE_DIR" ] && out=$PROFILE_DIR/$2.callgrind
    as_cluster_user valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$BINDIR/postgres" --single -D "$DIR/data" postgres <"$1" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for mode in ${LOOKUP_MODES:-prepared untyped simple}; do
    for table in ${LOOKUP_TABLES:-bench_plain bench_colcrypt bench_wide bench_term}; do
        {
            echo "SET plan_cache_mode = force_generic_plan;"
            if [ "$mode" = untyped ]; then
                # $1's type is left to the server: text for the plain
                # table, encrypted_text (a transit value) for the others.
                echo "PREPARE q AS SELECT id FROM $table WHERE email = \$1;"
            else
                echo "PREPARE q(text) AS SELECT id FROM $table WHERE email = 'user' || \$1 || '@example.com';"
            fi
            statements "$table" "$mode" 1 "$WARMUP"
        } >"$DIR/warmup.sql"
        { cat "$DIR/warmup.sql"; statements "$table" "$mode" $((WARMUP + 1)) "$LOOKUPS"; } >"$DIR/lookups.sql"
        chmod 0644 "$DIR"/*.sql
        total=$(instructions "$DIR/lookups.sql" "$mode-$table")
        base=$(instructions "$DIR/warmup.sql")
        printf '%-9s %-15s %8d instructions per lookup\n' "$mode" "$table" $(((total - base) / LOOKUPS))
    done
done
