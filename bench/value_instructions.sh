#!/usr/bin/env bash
# Instructions per row for INSERT ... SELECT, COPY FROM and a full read that
# decrypts, plain text, colcrypt and its crypto floor, counted by callgrind:
# the noise-free view of the loads and reads of `make bench` (run it on the
# same build; it does not install anything).
#
#   PG_CONFIG=... bench/value_instructions.sh [rows]
#
# Loads the benchmark's row shapes into a throwaway cluster, stops the
# server, and runs each statement in single-user mode (`postgres --single`,
# one transaction per statement) under valgrind --tool=callgrind.  A run
# with only the warm-up statements (keys unwrapped, a first small load or
# read) is subtracted, so the figure is per row, without start-up.
#
# The crypto floor of a colcrypt table, as in `make bench`: the instructions
# of its "sized" plain table (values as long as its envelopes; for COPY, the
# plain-text COPY plus INSERT ... SELECT's sized - plain difference, since a
# COPY of the sized table would parse the padding too; for the read, the
# plain-text read plus the sized - plain difference of a scan with
# octet_length, since length() would count the padding) plus those of
# bench/evp_floor (the same OpenSSL operations in a bare EVP loop, counted
# the same way: a run of 2n operations minus a run of n).  "above floor" is
# colcrypt minus its floor, per encrypted value: colcrypt's own code and
# the PostgreSQL work its type brings (the projection that evaluates the
# cast, the result's palloc).  Valgrind runs SHA-256 without the CPU's SHA extensions, so
# the HMAC's share is inflated, in the floor as in colcrypt.
#
# Last, a prepared INSERT ... VALUES with a text and with an untyped
# parameter (what drivers that send no types cost).
#
# With VALUE_EVENT=I1mr (first-level instruction-cache misses), D1m
# (first-level data-cache misses) or LLm (last-level misses), it counts
# that event of valgrind's cache simulation (--cache-sim=yes: a model of
# this CPU's caches, without prefetching) instead of instructions, per 100
# rows or operations: where time and instructions disagree, the misses
# show whether colcrypt's code and OpenSSL's evict PostgreSQL's.
#
# With VALUE_PROFILE_DIR set, the callgrind files of the full runs are
# kept there (callgrind_annotate them).  Needs valgrind and
# build/bench/evp_floor (cmake --build build/bench --target evp_floor); as
# root, runs the server as "postgres".
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
ROWS=${1:-20000}
WARM_ROWS=200
OPS=2000
BINDIR=$("$PG_CONFIG" --bindir)
EVP_FLOOR=$REPO/build/bench/evp_floor
PROFILE_DIR=${VALUE_PROFILE_DIR:-}
EVENT=${VALUE_EVENT:-Ir}
case $EVENT in
Ir) CACHE_SIM=() SCALE=1 ;;
I1mr | D1m | LLm) CACHE_SIM=(--cache-sim=yes) SCALE=100 ;;
*) echo "value_instructions: VALUE_EVENT is Ir, I1mr, D1m or LLm, not $EVENT" >&2; exit 1 ;;
esac
# What a figure counts: "instructions per row", "simulated I1mr misses per 100 rows".
unit() {  # thing
    if [ "$EVENT" = Ir ]; then echo "instructions per $1"; else echo "simulated $EVENT misses per 100 ${1}s"; fi
}
command -v valgrind >/dev/null || { echo "value_instructions: valgrind is not installed" >&2; exit 1; }
[ -x "$EVP_FLOOR" ] || { echo "value_instructions: build $EVP_FLOOR first" >&2; exit 1; }

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
[ -z "$PROFILE_DIR" ] || { mkdir -p "$PROFILE_DIR"; chmod 0777 "$PROFILE_DIR"; }

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
psql_() { as_cluster_user "$BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -U postgres -d postgres "$@"; }
psql_ -c "CREATE EXTENSION colcrypt" -c "SELECT colcrypt.create_key('bench')" \
    -c "SET colcrypt.blind_index_bits = 0" -c "SELECT colcrypt.create_key('bench_noidx')" >/dev/null
overhead() { psql_ -c "SELECT (colcrypt.describe('x'::colcrypt.encrypted_text('$1'))).stored_bytes - 1"; }
OVER_IDX=$(overhead bench)
OVER_NOIDX=$(overhead bench_noidx)
AAD_IDX=$((OVER_IDX - 16 + 1))
AAD_NOIDX=$((OVER_NOIDX - 16 + 1))
TOTAL=$((WARM_ROWS + ROWS))
psql_ >/dev/null <<SQL
CREATE TABLE src (id bigint, email text, note text);
INSERT INTO src SELECT g, 'user' || g || '@example.com', left(repeat(md5(g::text), 7), 200)
  FROM generate_series(1, $TOTAL) g;
CREATE TABLE src_sized AS SELECT id, rpad(email, length(email) + $OVER_IDX, '#') AS email,
    rpad(note, length(note) + $OVER_IDX, '#') AS note FROM src;
CREATE TABLE src_sized_noidx AS SELECT id, rpad(email, length(email) + $OVER_NOIDX, '#') AS email,
    rpad(note, length(note) + $OVER_NOIDX, '#') AS note FROM src;
CREATE TABLE t_plain (id bigint, email text, note text);
CREATE TABLE t_sized (LIKE t_plain);
CREATE TABLE t_sized_noidx (LIKE t_plain);
CREATE TABLE t_colcrypt (id bigint, email colcrypt.encrypted_text('bench'), note colcrypt.encrypted_text('bench'));
CREATE TABLE t_colcrypt_noidx (id bigint, email colcrypt.encrypted_text('bench_noidx'),
                               note colcrypt.encrypted_text('bench_noidx'));
CREATE TABLE t_narrow_plain (id bigint, email text);
CREATE TABLE t_narrow_sized (id bigint, email text);
CREATE TABLE t_narrow_colcrypt (id bigint, email colcrypt.encrypted_text('bench'));
-- The full read's tables, loaded once.
CREATE TABLE r_plain AS SELECT * FROM src WHERE id > $WARM_ROWS;
CREATE TABLE r_sized AS SELECT * FROM src_sized WHERE id > $WARM_ROWS;
CREATE TABLE r_sized_noidx AS SELECT * FROM src_sized_noidx WHERE id > $WARM_ROWS;
CREATE TABLE r_colcrypt (LIKE t_colcrypt);
INSERT INTO r_colcrypt SELECT * FROM r_plain;
CREATE TABLE r_colcrypt_noidx (LIKE t_colcrypt_noidx);
INSERT INTO r_colcrypt_noidx SELECT * FROM r_plain;
CREATE TABLE r_narrow_plain AS SELECT id, email FROM r_plain;
CREATE TABLE r_narrow_sized AS SELECT id, email FROM r_sized;
CREATE TABLE r_narrow_colcrypt (LIKE t_narrow_colcrypt);
INSERT INTO r_narrow_colcrypt SELECT id, email FROM r_plain;
SQL
for s in src src_sized src_sized_noidx; do
    psql_ -c "COPY (SELECT * FROM $s WHERE id <= $WARM_ROWS) TO '$DIR/warm_$s.tsv'" \
        -c "COPY (SELECT * FROM $s WHERE id > $WARM_ROWS) TO '$DIR/rows_$s.tsv'" \
        -c "COPY (SELECT id, email FROM $s WHERE id <= $WARM_ROWS) TO '$DIR/warm_narrow_$s.tsv'" \
        -c "COPY (SELECT id, email FROM $s WHERE id > $WARM_ROWS) TO '$DIR/rows_narrow_$s.tsv'"
done
psql_ -c "VACUUM ANALYZE" >/dev/null
E=$(psql_ -c "SELECT round(avg(octet_length(email))) FROM r_plain")
N=$(psql_ -c "SELECT round(avg(octet_length(note))) FROM r_plain")
as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null

# The event's total from callgrind's summary line, whose events are "Ir",
# or with the cache simulation "Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw".
collected() {
    awk -v ev="$EVENT" '/ Collected : / {
        if (ev == "Ir") print $4
        else if (ev == "I1mr") print $7
        else if (ev == "D1m") print $8 + $9
        else print $10 + $11 + $12
    }'
}
# The event callgrind collects for a script run in single-user mode (and,
# with a profile name, its callgrind file kept).
instructions() {  # script [profile name]
    local out=/dev/null
    [ -n "${2:-}" ] && [ -n "$PROFILE_DIR" ] && out=$PROFILE_DIR/$2.callgrind
    as_cluster_user valgrind --tool=callgrind "${CACHE_SIM[@]}" --callgrind-out-file="$out" \
        "$BINDIR/postgres" --single -D "$DIR/data" postgres <"$1" 2>&1 >/dev/null | collected
}
WARM="SELECT length('warm'::colcrypt.encrypted_text('bench')::text), length('warm'::colcrypt.encrypted_text('bench_noidx')::text);"

source_of() {
    case $1 in *sized_noidx) echo src_sized_noidx ;; *sized) echo src_sized ;; *) echo src ;; esac
}
columns_of() { case $1 in narrow_*) echo "id, email" ;; *) echo "id, email, note" ;; esac; }
read_of() {
    local c
    case $1 in *colcrypt*) c='::text' ;; *) c='' ;; esac
    case $1 in
    narrow_*) echo "SELECT sum(length(email$c)) FROM r_$1;" ;;
    *) echo "SELECT sum(length(email$c)) + sum(length(note$c)) FROM r_$1;" ;;
    esac
}
# statements MEASUREMENT VARIANT warm|all
statements() {
    local v=$2 s cols narrow=''
    s=$(source_of "$v"); cols=$(columns_of "$v")
    [[ $v == narrow_* ]] && narrow=narrow_
    echo "$WARM"
    case $1 in
    insert_select)
        echo "TRUNCATE t_$v;"
        echo "INSERT INTO t_$v SELECT $cols FROM $s WHERE id <= $WARM_ROWS;"
        [ "$3" = warm ] || echo "INSERT INTO t_$v SELECT $cols FROM $s WHERE id > $WARM_ROWS;" ;;
    copy)
        echo "TRUNCATE t_$v;"
        echo "COPY t_$v ($cols) FROM '$DIR/warm_$narrow$s.tsv';"
        [ "$3" = warm ] || echo "COPY t_$v ($cols) FROM '$DIR/rows_$narrow$s.tsv';" ;;
    full_read)
        read_of "$v"
        [ "$3" = warm ] || read_of "$v" ;;
    octets)  # a scan that does not count characters (the read's floor)
        read_of "$v" | sed 's/length(/octet_length(/g'
        [ "$3" = warm ] || read_of "$v" | sed 's/length(/octet_length(/g' ;;
    esac
}
declare -A PER_ROW=()
per_row() {  # measurement variant
    [ -z "${PER_ROW[$1/$2]:-}" ] || { echo "${PER_ROW[$1/$2]}"; return; }
    statements "$1" "$2" warm >"$DIR/warm.sql"
    statements "$1" "$2" all >"$DIR/all.sql"
    chmod 0644 "$DIR"/*.sql
    local profile=''
    profile="$1-$2"
    local total base
    total=$(instructions "$DIR/all.sql" "$profile")
    base=$(instructions "$DIR/warm.sql")
    echo $(((total - base) * SCALE / ROWS))
}
# The EVP loop's instructions (or misses) per operation.
evp() {  # operation bytes aad
    local one two
    one=$(valgrind --tool=callgrind "${CACHE_SIM[@]}" --callgrind-out-file=/dev/null \
        "$EVP_FLOOR" "$1" "$2" "$3" 0 "$OPS" 2>&1 | collected)
    two=$(valgrind --tool=callgrind "${CACHE_SIM[@]}" --callgrind-out-file=/dev/null \
        "$EVP_FLOOR" "$1" "$2" "$3" 0 $((2 * OPS)) 2>&1 | collected)
    echo $(((two - one) * SCALE / OPS))
}
SEAL_TERM_E=$(evp seal_term "$E" "$AAD_IDX"); SEAL_TERM_N=$(evp seal_term "$N" "$AAD_IDX")
SEAL_E=$(evp seal "$E" "$AAD_NOIDX"); SEAL_N=$(evp seal "$N" "$AAD_NOIDX")
OPEN_E=$(evp open "$E" "$AAD_IDX"); OPEN_N=$(evp open "$N" "$AAD_IDX")
OPEN_E0=$(evp open "$E" "$AAD_NOIDX"); OPEN_N0=$(evp open "$N" "$AAD_NOIDX")
echo "# bench/value_instructions.sh: callgrind, $ROWS rows, $(unit row) (per value for 'above floor')"
echo "# EVP loop, $(unit operation): seal_term $E B $SEAL_TERM_E, $N B $SEAL_TERM_N;" \
    "seal $E B $SEAL_E, $N B $SEAL_N; open $E B $OPEN_E, $N B $OPEN_N (without terms: $OPEN_E0, $OPEN_N0)"
printf '%-14s %-16s %9s %9s %9s %9s %12s\n' measurement variant plain sized floor colcrypt "above floor"
for m in insert_select copy full_read; do
    for v in colcrypt colcrypt_noidx narrow_colcrypt; do
        case $v in
        colcrypt) plain=plain sized=sized values=2 ;;
        colcrypt_noidx) plain=plain sized=sized_noidx values=2 ;;
        narrow_colcrypt) plain=narrow_plain sized=narrow_sized values=1 ;;
        esac
        case $m/$v in
        full_read/colcrypt) evp_ops=$((OPEN_E + OPEN_N)) ;;
        full_read/colcrypt_noidx) evp_ops=$((OPEN_E0 + OPEN_N0)) ;;
        full_read/narrow_colcrypt) evp_ops=$OPEN_E ;;
        */colcrypt) evp_ops=$((SEAL_TERM_E + SEAL_TERM_N)) ;;
        */colcrypt_noidx) evp_ops=$((SEAL_E + SEAL_N)) ;;
        */narrow_colcrypt) evp_ops=$SEAL_TERM_E ;;
        esac
        PER_ROW[$m/$plain]=${PER_ROW[$m/$plain]:-$(per_row "$m" "$plain")}
        PER_ROW[$m/$sized]=${PER_ROW[$m/$sized]:-$(per_row "$m" "$sized")}
        p=${PER_ROW[$m/$plain]} s=${PER_ROW[$m/$sized]}
        c=$(per_row "$m" "$v")
        f=$((s + evp_ops))
        # COPY's floor parses what colcrypt parses: the plain-text COPY plus
        # what the envelopes' length adds (INSERT ... SELECT, sized - plain).
        [ "$m" = copy ] && f=$((p + PER_ROW[insert_select/$sized] - PER_ROW[insert_select/$plain] + evp_ops))
        # The read's: the plain-text read plus what the longer values add to
        # a scan that does not count their characters (octet_length).
        if [ "$m" = full_read ]; then
            PER_ROW[octets/$plain]=${PER_ROW[octets/$plain]:-$(per_row octets "$plain")}
            PER_ROW[octets/$sized]=${PER_ROW[octets/$sized]:-$(per_row octets "$sized")}
            f=$((p + PER_ROW[octets/$sized] - PER_ROW[octets/$plain] + evp_ops))
        fi
        printf '%-14s %-16s %9d %9d %9d %9d %12d\n' "$m" "$v" "$p" "$s" "$f" "$c" $(((c - f) / values))
    done
done

# A prepared INSERT ... VALUES ($1, $2) of the single-column shape, once
# with $2 declared text and once untyped, as drivers that send no types
# bind it: an untyped value is sealed under a transit key at bind time
# (PostgreSQL calls the input function with typmod -1), then re-sealed
# under the column's keyring by the coercion.  Per execution.
params_statements() {  # table text|untyped first count
    local i
    echo "$WARM"
    if [ "$2" = untyped ]; then
        echo "PREPARE q AS INSERT INTO $1 VALUES (\$1, \$2);"
    else
        echo "PREPARE q(bigint, text) AS INSERT INTO $1 VALUES (\$1, \$2);"
    fi
    for ((i = $3; i < $3 + $4; i++)); do echo "EXECUTE q($i, 'user$i@example.com');"; done
}
echo "# prepared INSERT INTO <table> VALUES (\$1, \$2), $(unit execution) ($OPS executions)"
printf '%-14s %-16s %9s %9s\n' measurement variant text untyped
for v in narrow_plain narrow_colcrypt; do
    line=''
    for kind in text untyped; do
        params_statements "t_$v" "$kind" 1 "$WARM_ROWS" >"$DIR/warm.sql"
        params_statements "t_$v" "$kind" 1 $((WARM_ROWS + OPS)) >"$DIR/all.sql"
        chmod 0644 "$DIR"/*.sql
        total=$(instructions "$DIR/all.sql" "insert_params-$v-$kind")
        base=$(instructions "$DIR/warm.sql")
        line+=$(printf ' %9d' $(((total - base) * SCALE / OPS)))
    done
    printf '%-14s %-16s%s\n' insert_params "$v" "$line"
done
