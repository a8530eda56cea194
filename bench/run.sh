#!/usr/bin/env bash
# colcrypt benchmark (`make bench`).
#
# Measures, side by side in one run on one machine, plaintext `text`,
# colcrypt (with and without blind-index terms) and pgcrypto
# (pgp_sym_encrypt, encrypt_iv aes-cbc):
#   load     INSERT ... SELECT and COPY FROM of BENCH_ROWS rows
#   read     a full-table read that decrypts both string columns
#   floor    (with load and read) each colcrypt variant's crypto floor, in the
#            same repetitions: a plain table whose values are as long as that
#            variant's envelopes ("sized"), plus, per encrypted value, what
#            the same OpenSSL operations cost at the same sizes in a bare EVP
#            loop with reused contexts (bench/evp_floor.cpp, no colcrypt code)
#   lookup   equality lookups through a btree index, with pgbench
#   core     the crypto core alone (bench/core_bench.cpp) next to `openssl speed`
#   types    INSERT ... SELECT and a full read of an encrypted_int4 and an
#            encrypted_numeric column next to plain int4 and numeric
#   reencrypt  the re-encryption worker next to a single-statement rewrite,
#            and pgbench with and without the throttled worker
#            (bench/reencrypt.sh, results in reencrypt.md)
# then writes bench/results/: results.csv and core.csv (every repetition),
# plans.txt, machine.txt, README.md (medians, ratios, targets) and ratios.png.
#
# Settings (environment):
#   PG_CONFIG        the PostgreSQL installation to build against and run (pg_config)
#   BENCH_ROWS       rows per table (200000)
#   BENCH_REPS       repetitions of every load, read and core measurement;
#                    medians are reported (5)
#   BENCH_LOOKUP_REPS  repetitions of every pgbench lookup run (15): many
#                    short runs, interleaved, so that the machine's drift
#                    reaches every variant alike
#   BENCH_SECONDS    duration of each pgbench run (4)
#   BENCH_CLIENTS    pgbench clients (4)
#   BENCH_PARTS      which parts to run ("load read lookup core types reencrypt")
#   BENCH_VARIANTS   which load/read variants ("plain sized colcrypt sized_mixed
#                    colcrypt_mixed sized_noidx colcrypt_noidx pgp cbc narrow_plain
#                    narrow_sized narrow_colcrypt"); "sized*" are the plain
#                    tables of the crypto floors (below), "narrow_*" the
#                    single-column shape (id, email)
#   BENCH_OUT        where results go (bench/results)
#
# As root or as a user with sudo: installs gnuplot-nox if missing, builds and
# installs colcrypt into PG_CONFIG's installation, and runs a throwaway
# server (as "postgres" when started as root) that is stopped and removed
# when the script ends, whatever happens.
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
ROWS=${BENCH_ROWS:-200000}
REPS=${BENCH_REPS:-5}
LOOKUP_REPS=${BENCH_LOOKUP_REPS:-15}
RUN_SECONDS=${BENCH_SECONDS:-4}
CLIENTS=${BENCH_CLIENTS:-4}
PARTS=" ${BENCH_PARTS:-load read lookup core types reencrypt} "
VARIANTS=${BENCH_VARIANTS:-plain sized colcrypt sized_mixed colcrypt_mixed sized_noidx colcrypt_noidx pgp cbc narrow_plain narrow_sized narrow_colcrypt}
OUT=${BENCH_OUT:-$REPO/bench/results}
SIZES="16 64 1024"

fail() { printf 'bench: %s\n' "$*" >&2; exit 1; }
progress() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
has_part() { [[ $PARTS == *" $1 "* ]]; }

for n in ROWS REPS LOOKUP_REPS RUN_SECONDS CLIENTS; do
    [[ ${!n} =~ ^[1-9][0-9]*$ ]] || fail "$n must be a positive integer, not '${!n}'"
done
for v in $VARIANTS; do
    case $v in
    plain | colcrypt | colcrypt_mixed | colcrypt_noidx | pgp | cbc | sized | sized_mixed | sized_noidx) ;;
    narrow_plain | narrow_sized | narrow_colcrypt) ;;
    *) fail "unknown variant '$v'" ;;
    esac
done
[[ " $VARIANTS " == *" plain "* ]] || fail "BENCH_VARIANTS must include plain: ratios are to plaintext"

# --- prerequisites -------------------------------------------------------------
command -v "$PG_CONFIG" >/dev/null || [ -x "$PG_CONFIG" ] || fail "pg_config not found (set PG_CONFIG)"
BINDIR=$("$PG_CONFIG" --bindir)
[ -f "$("$PG_CONFIG" --sharedir)/extension/pgcrypto.control" ] ||
    fail "pgcrypto is not installed in $("$PG_CONFIG" --sharedir) (Debian: it comes with postgresql-15)"
[ -x "$BINDIR/pgbench" ] || fail "$BINDIR/pgbench not found"
if ! command -v gnuplot >/dev/null; then
    progress "installing gnuplot-nox (for the chart)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi

# --- build -----------------------------------------------------------------------
cd "$REPO"
progress "building and installing colcrypt into $("$PG_CONFIG" --pkglibdir)"
if ! build_output=$(make -s -j2 PG_CONFIG="$PG_CONFIG" 2>&1); then
    printf '%s\n' "$build_output"
    fail "build failed"
fi
as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
if has_part core || has_part load || has_part read; then
    progress "building bench/core_bench and bench/evp_floor (CMake, build/bench)"
    cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLCRYPT_TESTS=OFF >/dev/null
    cmake --build build/bench -j2 --target core_bench evp_floor >/dev/null
fi

# --- a throwaway server ----------------------------------------------------------
. "$REPO/scripts/lib/throwaway_cluster.sh"
DIR=''
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    remove_throwaway_cluster "$DIR" "$BINDIR"
    [ "$status" = 0 ] || printf 'bench: FAILED (exit status %d)\n' "$status" >&2
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DIR=$(cluster_scratch_dir bench) || fail "could not create a scratch directory"
PORT=$(free_port 5633) || fail "no free port between 5633 and 5732"

progress "starting a server in $DIR (port $PORT)"
as_cluster_user "$BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log"; fail "initdb failed"; }
# Everything is cached (the largest table is ~100 MB), no checkpoint or
# autovacuum fires during a measurement, and every query runs in one process
# (no parallel workers, no JIT), so the figures compare per-row work.
as_cluster_user tee -a "$DIR/data/postgresql.conf" >/dev/null <<EOF

# colcrypt benchmark
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'colcrypt'
shared_buffers = 1GB
max_wal_size = 8GB
checkpoint_timeout = 1h
autovacuum = off
max_parallel_workers_per_gather = 0
jit = off
EOF
as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null ||
    { cat "$DIR/server.log"; fail "the server did not start"; }

psql_bench() {
    as_cluster_user "$BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d "${DB:-bench}" "$@"
}
DB=postgres psql_bench -c "CREATE DATABASE bench"

# --- results files -----------------------------------------------------------------
mkdir -p "$OUT"
RESULTS=$OUT/results.csv
CORE=$OUT/core.csv
PLANS=$OUT/plans.txt
SCRIPTS=$OUT/lookup_scripts.txt
# Files of parts not run this time would belong to another run: dropped.
rm -f "$RESULTS" "$CORE" "$PLANS" "$SCRIPTS"
if has_part load || has_part read || has_part lookup || has_part types; then
    echo "part,measurement,variant,rep,value,unit" >"$RESULTS"
fi
if has_part core; then
    echo "source,operation,bytes,rep,ns_per_op" >"$CORE"
fi
record() {  # part measurement variant rep value unit
    local IFS=,
    echo "$*" >>"$RESULTS"
}

# Machine and software, for the report.
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores=$(nproc)"
    echo "memory=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    echo "postgresql=$(psql_bench -c 'SHOW server_version')"
    echo "openssl=$(openssl version)"
    echo "compiler=$(${CXX:-g++} --version | head -1)"
    echo "colcrypt=$(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- src include || echo ' (with uncommitted changes)')"
    echo "rows=$ROWS"
    echo "reps=$REPS"
    echo "lookup_reps=$LOOKUP_REPS"
    echo "pgbench=$CLIENTS clients, 2 threads, ${RUN_SECONDS} s per run"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

# --- schema and data -----------------------------------------------------------------
# pgcrypto's key and IV: AES-256 (32-byte key) in CBC with a fixed IV, as
# the other peers' benchmarks use it.
PW="'bench-password'"
KEY="'\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea"
IV="'\\xa0a1a2a3a4a5a6a7a8a9aaabacadaeaf'::bytea"

progress "creating $ROWS rows of (id bigint, email ~22 chars, note 200 chars)"
psql_bench >/dev/null <<SQL
CREATE EXTENSION colcrypt;
CREATE EXTENSION pgcrypto;
SELECT colcrypt.create_key('bench');
SET colcrypt.blind_index_bits = 0;
SELECT colcrypt.create_key('bench_noidx');
SET colcrypt.blind_index_bits = 128;
SELECT colcrypt.create_key('bench_wide');
RESET colcrypt.blind_index_bits;

-- The source rows, read by INSERT ... SELECT and written to a file for COPY.
CREATE TABLE bench_src (id bigint, email text, note text);
INSERT INTO bench_src
    SELECT g, 'user' || g || '@example.com', left(repeat(md5(g::text), 7), 200)
      FROM generate_series(1, $ROWS) g;
COPY bench_src TO '$DIR/rows.tsv';

CREATE TABLE bench_plain (id bigint, email text, note text);
CREATE TABLE bench_colcrypt (id bigint, email colcrypt.encrypted_text('bench'),
                             note colcrypt.encrypted_text('bench'));
CREATE TABLE bench_colcrypt_noidx (id bigint, email colcrypt.encrypted_text('bench_noidx'),
                                   note colcrypt.encrypted_text('bench_noidx'));
-- The usual schema: terms for the column that is looked up, none for the
-- one that is only stored and shown.
CREATE TABLE bench_colcrypt_mixed (id bigint, email colcrypt.encrypted_text('bench'),
                                   note colcrypt.encrypted_text('bench_noidx'));
-- Lookups only: 128-bit terms, which decide equality without decrypting.
CREATE TABLE bench_colcrypt_wide (id bigint, email colcrypt.encrypted_text('bench_wide'),
                                  note colcrypt.encrypted_text('bench_wide'));
-- Lookups only: the default keyring, with an index over the terms alone
-- (colcrypt.term(email)) instead of one over the envelopes.
CREATE TABLE bench_colcrypt_term (id bigint, email colcrypt.encrypted_text('bench'),
                                  note colcrypt.encrypted_text('bench'));
CREATE TABLE bench_pgp (id bigint, email bytea, note bytea);
CREATE TABLE bench_cbc (id bigint, email bytea, note bytea);

-- pgcrypto has no type that encrypts its input, so COPY of plaintext goes
-- through a BEFORE INSERT trigger (what pgcrypto users, and pgsodium's
-- generated triggers, do): the plaintext arrives in the bytea columns and
-- leaves them encrypted.  bench_plain_trigger measures a no-op trigger alone.
CREATE TABLE bench_pgp_copy (LIKE bench_pgp);
CREATE TABLE bench_cbc_copy (LIKE bench_cbc);
CREATE TABLE bench_plain_trigger (LIKE bench_plain);
CREATE FUNCTION bench_pgp_encrypt() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    NEW.email := pgp_sym_encrypt_bytea(NEW.email, $PW);
    NEW.note := pgp_sym_encrypt_bytea(NEW.note, $PW);
    RETURN NEW;
END \$\$;
CREATE FUNCTION bench_cbc_encrypt() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    NEW.email := encrypt_iv(NEW.email, $KEY, $IV, 'aes-cbc');
    NEW.note := encrypt_iv(NEW.note, $KEY, $IV, 'aes-cbc');
    RETURN NEW;
END \$\$;
CREATE FUNCTION bench_noop() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    RETURN NEW;
END \$\$;
CREATE TRIGGER encrypt BEFORE INSERT ON bench_pgp_copy FOR EACH ROW EXECUTE FUNCTION bench_pgp_encrypt();
CREATE TRIGGER encrypt BEFORE INSERT ON bench_cbc_copy FOR EACH ROW EXECUTE FUNCTION bench_cbc_encrypt();
CREATE TRIGGER noop BEFORE INSERT ON bench_plain_trigger FOR EACH ROW EXECUTE FUNCTION bench_noop();
VACUUM ANALYZE bench_src;

-- The type family (part "types"): one int4 and one numeric column.
CREATE TABLE bench_types_src (id bigint, i int4, n numeric);
INSERT INTO bench_types_src SELECT g, g, g * 1.25 FROM generate_series(1, $ROWS) g;
CREATE TABLE bench_types_plain (id bigint, i int4, n numeric);
CREATE TABLE bench_types_colcrypt (id bigint, i colcrypt.encrypted_int4('bench'),
                                   n colcrypt.encrypted_numeric('bench'));
VACUUM ANALYZE bench_types_src;
SQL

# --- the crypto floors' plain tables ----------------------------------------------
# Each colcrypt variant's floor is a plain-text table whose values are as
# long as that variant's envelopes (so heap and WAL grow as much), plus what
# its OpenSSL operations cost per value in a bare EVP loop (bench/evp_floor).
# The envelope's overhead (header, nonce, term, tag) is read off a value
# sealed under each keyring.
overhead() { psql_bench -c "SELECT (colcrypt.describe('x'::colcrypt.encrypted_text('$1'))).stored_bytes - 1"; }
OVER_IDX=$(overhead bench)
OVER_NOIDX=$(overhead bench_noidx)
# The AES-GCM associated data: the value-type byte and the envelope's prefix.
AAD_IDX=$((OVER_IDX - 16 + 1))
AAD_NOIDX=$((OVER_NOIDX - 16 + 1))
EMAIL_BYTES=$(psql_bench -c "SELECT round(avg(octet_length(email))) FROM bench_src")
NOTE_BYTES=$(psql_bench -c "SELECT round(avg(octet_length(note))) FROM bench_src")
progress "crypto floors: envelopes add $OVER_IDX bytes per value with terms, $OVER_NOIDX without;" \
    "values of $EMAIL_BYTES and $NOTE_BYTES bytes on average"
psql_bench >/dev/null <<SQL
CREATE TABLE bench_sized_src AS
    SELECT id, rpad(email, length(email) + $OVER_IDX, '#') AS email, rpad(note, length(note) + $OVER_IDX, '#') AS note
      FROM bench_src;
CREATE TABLE bench_sized_mixed_src AS
    SELECT id, rpad(email, length(email) + $OVER_IDX, '#') AS email, rpad(note, length(note) + $OVER_NOIDX, '#') AS note
      FROM bench_src;
CREATE TABLE bench_sized_noidx_src AS
    SELECT id, rpad(email, length(email) + $OVER_NOIDX, '#') AS email, rpad(note, length(note) + $OVER_NOIDX, '#') AS note
      FROM bench_src;
CREATE TABLE bench_narrow_sized_src AS SELECT id, email FROM bench_sized_src;
CREATE TABLE bench_sized (LIKE bench_plain);
CREATE TABLE bench_sized_mixed (LIKE bench_plain);
CREATE TABLE bench_sized_noidx (LIKE bench_plain);
-- The single-column shape: an id and one short encrypted value.
CREATE TABLE bench_narrow_plain (id bigint, email text);
CREATE TABLE bench_narrow_sized (id bigint, email text);
CREATE TABLE bench_narrow_colcrypt (id bigint, email colcrypt.encrypted_text('bench'));
COPY bench_sized_src TO '$DIR/rows_sized.tsv';
COPY bench_sized_mixed_src TO '$DIR/rows_sized_mixed.tsv';
COPY bench_sized_noidx_src TO '$DIR/rows_sized_noidx.tsv';
COPY bench_narrow_sized_src TO '$DIR/rows_narrow_sized.tsv';
COPY (SELECT id, email FROM bench_src) TO '$DIR/rows_narrow.tsv';
VACUUM ANALYZE bench_sized_src;
VACUUM ANALYZE bench_sized_mixed_src;
VACUUM ANALYZE bench_sized_noidx_src;
VACUUM ANALYZE bench_narrow_sized_src;
SQL

# Per variant: what INSERT ... SELECT selects, what COPY reads from where,
# what the read sums and what it must sum to.
insert_select() {
    case $1 in
    plain | colcrypt | colcrypt_mixed | colcrypt_noidx) echo "SELECT id, email, note FROM bench_src" ;;
    sized | sized_mixed | sized_noidx) echo "SELECT id, email, note FROM bench_${1}_src" ;;
    narrow_plain | narrow_colcrypt) echo "SELECT id, email FROM bench_src" ;;
    narrow_sized) echo "SELECT id, email FROM bench_narrow_sized_src" ;;
    pgp) echo "SELECT id, pgp_sym_encrypt(email, $PW), pgp_sym_encrypt(note, $PW) FROM bench_src" ;;
    cbc) echo "SELECT id, encrypt_iv(convert_to(email, 'UTF8'), $KEY, $IV, 'aes-cbc'),
                      encrypt_iv(convert_to(note, 'UTF8'), $KEY, $IV, 'aes-cbc') FROM bench_src" ;;
    esac
}
copy_table() {
    case $1 in
    pgp | cbc) echo "bench_${1}_copy" ;;
    *) echo "bench_$1" ;;
    esac
}
copy_from() {  # the columns and the file
    case $1 in
    sized | sized_mixed | sized_noidx | narrow_sized) echo "(id, email$([[ $1 == narrow_* ]] || echo ', note')) FROM '$DIR/rows_$1.tsv'" ;;
    narrow_plain | narrow_colcrypt) echo "(id, email) FROM '$DIR/rows_narrow.tsv'" ;;
    *) echo "(id, email, note) FROM '$DIR/rows.tsv'" ;;
    esac
}
read_sum() {
    case $1 in
    plain | sized | sized_mixed | sized_noidx) echo "SELECT sum(length(email)) + sum(length(note)) FROM bench_$1" ;;
    colcrypt | colcrypt_mixed | colcrypt_noidx) echo "SELECT sum(length(email::text)) + sum(length(note::text)) FROM bench_$1" ;;
    narrow_plain | narrow_sized) echo "SELECT sum(length(email)) FROM bench_$1" ;;
    narrow_colcrypt) echo "SELECT sum(length(email::text)) FROM bench_$1" ;;
    pgp) echo "SELECT sum(length(pgp_sym_decrypt(email, $PW))) + sum(length(pgp_sym_decrypt(note, $PW))) FROM bench_pgp" ;;
    cbc) echo "SELECT sum(length(convert_from(decrypt_iv(email, $KEY, $IV, 'aes-cbc'), 'UTF8')))
                    + sum(length(convert_from(decrypt_iv(note, $KEY, $IV, 'aes-cbc'), 'UTF8'))) FROM bench_cbc" ;;
    esac
}
# The scan without counting characters, for the read's floor (plain-text
# and sized tables only).
read_octets() {
    case $1 in
    plain | sized | sized_mixed | sized_noidx) echo "SELECT sum(octet_length(email)) + sum(octet_length(note)) FROM bench_$1" ;;
    narrow_plain | narrow_sized) echo "SELECT sum(octet_length(email)) FROM bench_$1" ;;
    esac
}
read_expected() {
    case $1 in
    sized | sized_mixed | sized_noidx) echo "SELECT sum(length(email)) + sum(length(note)) FROM bench_${1}_src" ;;
    narrow_sized) echo "SELECT sum(length(email)) FROM bench_narrow_sized_src" ;;
    narrow_*) echo "SELECT sum(length(email)) FROM bench_src" ;;
    *) echo "SELECT sum(length(email)) + sum(length(note)) FROM bench_src" ;;
    esac
}
# A colcrypt variant's floor: its sized plain table, and the OpenSSL
# operations per row at the values' sizes ("operation:bytes:aad bytes"),
# for loads and for the read.
floor_table() {
    case $1 in
    colcrypt) echo sized ;; colcrypt_mixed) echo sized_mixed ;; colcrypt_noidx) echo sized_noidx ;;
    narrow_colcrypt) echo narrow_sized ;;
    esac
}
floor_ops() {  # variant load|read
    local e=$EMAIL_BYTES n=$NOTE_BYTES
    case $1/$2 in
    colcrypt/load) echo "seal_term:$e:$AAD_IDX seal_term:$n:$AAD_IDX" ;;
    colcrypt_mixed/load) echo "seal_term:$e:$AAD_IDX seal:$n:$AAD_NOIDX" ;;
    colcrypt_noidx/load) echo "seal:$e:$AAD_NOIDX seal:$n:$AAD_NOIDX" ;;
    narrow_colcrypt/load) echo "seal_term:$e:$AAD_IDX" ;;
    colcrypt/read) echo "open:$e:$AAD_IDX open:$n:$AAD_IDX" ;;
    colcrypt_mixed/read) echo "open:$e:$AAD_IDX open:$n:$AAD_NOIDX" ;;
    colcrypt_noidx/read) echo "open:$e:$AAD_NOIDX open:$n:$AAD_NOIDX" ;;
    narrow_colcrypt/read) echo "open:$e:$AAD_IDX" ;;
    esac
}
declare -A EVP_NS=() LAST_MS=() INSERT_MS=() OCTETS_MS=()
# The EVP loop's cost of each operation the variants measured in this
# repetition need, measured now (so drift reaches the floor as it reaches
# the variants), recorded as part "floor".
measure_evp() {  # rep load|read
    local v spec op bytes aad
    EVP_NS=()
    for v in $VARIANTS; do
        for spec in $(floor_ops "$v" "$2"); do
            [ -z "${EVP_NS[$spec]:-}" ] || continue
            IFS=: read -r op bytes aad <<<"$spec"
            EVP_NS[$spec]=$(build/bench/evp_floor "$op" "$bytes" "$aad" 100) || fail "evp_floor $spec failed"
            record floor "evp_$op" "$bytes:$aad" "$1" "${EVP_NS[$spec]}" ns
        done
    done
}
# Record, for this repetition, each colcrypt variant's floor: its sized
# table's time (LAST_MS) plus the rows' EVP operations.  COPY's is
# composed instead: a COPY of the sized table would parse the padding too
# (about 1,500 instructions per value more than colcrypt parses, by
# bench/value_instructions.sh), so the floor is the plain-text COPY of the
# same shape plus what the envelopes' length adds to the heap and WAL,
# measured as INSERT ... SELECT of the sized table minus that of plain text
# in the same repetition.  The read's is composed the same way: the sized
# table's length() would count the padding's characters too (about 20
# instructions per byte), so the floor is the plain-text read plus what the
# longer values add to a scan, measured with octet_length(), which reads
# without counting: sized minus plain, same repetition.
record_floors() {  # part measurement rep load|read
    local v t spec ns ms table_ms p
    for v in $VARIANTS; do
        t=$(floor_table "$v")
        [ -n "$t" ] && [ -n "${LAST_MS[$t]:-}" ] || continue
        table_ms=${LAST_MS[$t]}
        if [ "$2" = copy ]; then
            p=plain; [[ $v == narrow_* ]] && p=narrow_plain
            [ -n "${LAST_MS[$p]:-}" ] && [ -n "${INSERT_MS[$3/$t]:-}" ] && [ -n "${INSERT_MS[$3/$p]:-}" ] || continue
            table_ms=$(awk -v c="${LAST_MS[$p]}" -v s="${INSERT_MS[$3/$t]}" -v i="${INSERT_MS[$3/$p]}" 'BEGIN { print c + s - i }')
        elif [ "$2" = full_read ]; then
            p=plain; [[ $v == narrow_* ]] && p=narrow_plain
            [ -n "${LAST_MS[$p]:-}" ] && [ -n "${OCTETS_MS[$t]:-}" ] && [ -n "${OCTETS_MS[$p]:-}" ] || continue
            table_ms=$(awk -v r="${LAST_MS[$p]}" -v s="${OCTETS_MS[$t]}" -v o="${OCTETS_MS[$p]}" 'BEGIN { print r + s - o }')
        fi
        ns=0
        for spec in $(floor_ops "$v" "$4"); do ns=$(awk -v a="$ns" -v b="${EVP_NS[$spec]}" 'BEGIN { print a + b }'); done
        ms=$(awk -v t="$table_ms" -v ns="$ns" -v rows="$ROWS" 'BEGIN { printf "%.3f", t + ns * rows / 1e6 }')
        record "$1" "$2" "floor_$v" "$3" "$ms" ms
    done
}
# Untimed, run first in each measuring session: the keyring's keys are then
# in the session's cache, as in any session that has used them once.
WARM_KEYS="SELECT length('warm'::colcrypt.encrypted_text('bench')::text), length('warm'::colcrypt.encrypted_text('bench_noidx')::text)"

# Run the untimed statements given first, then time the last one, all in one
# fresh session.  Prints "<milliseconds> <the last statement's output>";
# use it as r=$(timed ...) so that a failure stops the script.
timed() {
    local args=() out ms
    while [ $# -gt 1 ]; do args+=(-c "$1"); shift; done
    out=$(psql_bench "${args[@]}" -c '\timing on' -c "$1") || fail "statement failed: $1"
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -1)
    [ -n "$ms" ] || fail "no timing for: $1"
    echo "$ms $(grep -v '^Time: ' <<<"$out" | tail -1)"
}

# --- load ----------------------------------------------------------------------------
LOADED=''
if has_part load; then
    for rep in $(seq "$REPS"); do
        LAST_MS=()
        for v in $VARIANTS; do
            r=$(timed "TRUNCATE bench_$v" "CHECKPOINT" "$WARM_KEYS" "INSERT INTO bench_$v $(insert_select "$v")")
            read -r ms _ <<<"$r"
            record load insert_select "$v" "$rep" "$ms" ms
            LAST_MS[$v]=$ms INSERT_MS[$rep/$v]=$ms
            progress "INSERT ... SELECT  rep $rep/$REPS  $(printf '%-15s %10.1f ms' "$v" "$ms")"
        done
        measure_evp "$rep" load
        record_floors load insert_select "$rep" load
    done
    copy_variants=$VARIANTS
    [[ " $VARIANTS " == *" pgp "* || " $VARIANTS " == *" cbc "* ]] && copy_variants+=" plain_trigger"
    for rep in $(seq "$REPS"); do
        LAST_MS=()
        for v in $copy_variants; do
            t=$(copy_table "$v")
            r=$(timed "TRUNCATE $t" "CHECKPOINT" "$WARM_KEYS" "COPY $t $(copy_from "$v")")
            read -r ms _ <<<"$r"
            record load copy "$v" "$rep" "$ms" ms
            LAST_MS[$v]=$ms
            progress "COPY FROM          rep $rep/$REPS  $(printf '%-15s %10.1f ms' "$v" "$ms")"
        done
        measure_evp "$rep" load
        record_floors load copy "$rep" load
    done
    # bench_<variant> holds the last INSERT's rows (COPY wrote there too for
    # plain and colcrypt).
    LOADED=1
fi
if [ -z "$LOADED" ] && { has_part read || has_part lookup; }; then
    progress "loading the tables (untimed)"
    for v in $VARIANTS; do
        psql_bench -c "TRUNCATE bench_$v" -c "INSERT INTO bench_$v $(insert_select "$v")"
    done
fi
if has_part read || has_part lookup; then
    for v in $VARIANTS; do psql_bench -c "VACUUM ANALYZE bench_$v"; done
fi

# --- read ----------------------------------------------------------------------------
if has_part read; then
    for v in $VARIANTS; do  # warm the caches; every variant must find its sum
        r=$(timed "$WARM_KEYS" "$(read_sum "$v")")
        read -r ms sum <<<"$r"
        expected=$(psql_bench -c "$(read_expected "$v")")
        [ "$sum" = "$expected" ] || fail "read of $v gave $sum, expected $expected"
    done
    for rep in $(seq "$REPS"); do
        LAST_MS=()
        for v in $VARIANTS; do
            r=$(timed "$WARM_KEYS" "$(read_sum "$v")")
            read -r ms _ <<<"$r"
            record read full_read "$v" "$rep" "$ms" ms
            LAST_MS[$v]=$ms
            progress "full-table read    rep $rep/$REPS  $(printf '%-15s %10.1f ms' "$v" "$ms")"
        done
        OCTETS_MS=()
        for v in $VARIANTS; do
            q=$(read_octets "$v")
            [ -n "$q" ] || continue
            r=$(timed "$q")
            read -r ms _ <<<"$r"
            record read full_read_octets "$v" "$rep" "$ms" ms
            OCTETS_MS[$v]=$ms
        done
        measure_evp "$rep" read
        record_floors read full_read "$rep" read
    done
fi

# --- lookup --------------------------------------------------------------------------
# WHERE email = <an existing e-mail>, with the e-mail built from a random
# row number (pgbench variables are numbers).  "colcrypt_untyped" casts the
# operand to encrypted_text first, which is what an untyped bind parameter
# ($1 sent with no type, left for the server to infer) costs: it arrives as a transit
# value, sealed under a transit key on every execution, whose term under the
# column's keyring is then computed once.
# Prepared only: the simple protocol has no parameters (an untyped literal
# is sealed once, when the query is parsed, which this cast does not mimic).
# "colcrypt_wide" is the text-parameter lookup on a keyring with 128-bit
# terms, which are conclusive: no decryption confirms the match.
# "colcrypt_term" and "colcrypt_term_untyped" are the text and untyped
# lookups on the same data with an index over colcrypt.term(email) instead
# (docs/design/lookup-index.md).
if has_part lookup; then
    progress "loading bench_colcrypt_wide and bench_colcrypt_term (untimed); indexing email of bench_plain, bench_colcrypt, bench_colcrypt_wide, the terms of bench_colcrypt_term"
    psql_bench -c "TRUNCATE bench_colcrypt_wide" -c "INSERT INTO bench_colcrypt_wide SELECT * FROM bench_src" \
        -c "TRUNCATE bench_colcrypt_term" -c "INSERT INTO bench_colcrypt_term SELECT * FROM bench_src" \
        -c "CREATE INDEX IF NOT EXISTS bench_colcrypt_term_email ON bench_colcrypt_term (colcrypt.term(email))" \
        -c "VACUUM ANALYZE bench_colcrypt_term" \
        -c "CREATE INDEX IF NOT EXISTS bench_plain_email ON bench_plain (email)" \
        -c "CREATE INDEX IF NOT EXISTS bench_colcrypt_email ON bench_colcrypt (email)" \
        -c "CREATE INDEX IF NOT EXISTS bench_colcrypt_wide_email ON bench_colcrypt_wide (email)" \
        -c "VACUUM ANALYZE bench_plain" -c "VACUUM ANALYZE bench_colcrypt" -c "VACUUM ANALYZE bench_colcrypt_wide"
    lookup_operand() {
        case $1 in
        colcrypt_untyped | colcrypt_term_untyped) echo "('user' || $2 || '@example.com')::colcrypt.encrypted_text" ;;
        *) echo "'user' || $2 || '@example.com'" ;;
        esac
    }
    lookup_table() {
        case $1 in
        plain) echo bench_plain ;; colcrypt_wide) echo bench_colcrypt_wide ;;
        colcrypt_term | colcrypt_term_untyped) echo bench_colcrypt_term ;; *) echo bench_colcrypt ;;
        esac
    }
    lookup_variants="plain colcrypt colcrypt_wide colcrypt_untyped colcrypt_term colcrypt_term_untyped"
    : >"$PLANS"
    : >"$SCRIPTS"
    for v in $lookup_variants; do
        t=$(lookup_table "$v")
        as_cluster_user tee "$DIR/lookup_$v.sql" >/dev/null <<EOF
\\set n random(1, :rows)
SELECT id FROM $t WHERE email = $(lookup_operand "$v" :n);
EOF
        # What defines each lookup cell: the exact script and command.
        {
            echo "== $v: pgbench -n -M {prepared$([[ "$v" == *_untyped ]] || echo ',simple')} -c $CLIENTS -j 2 -T $RUN_SECONDS -D rows=$ROWS -f lookup_$v.sql"
            cat "$DIR/lookup_$v.sql"
            echo
        } >>"$SCRIPTS"
        # Each variant must find exactly the row it looks for, through the index.
        for n in 1 $((ROWS / 2)) "$ROWS"; do
            got=$(psql_bench -c "SELECT string_agg(id::text, ',') FROM $t WHERE email = $(lookup_operand "$v" "$n")")
            [ "$got" = "$n" ] || fail "lookup $v of row $n found '$got'"
        done
        {
            echo "== $v, custom plan (as in -M simple)"
            psql_bench -c "EXPLAIN (COSTS OFF) SELECT id FROM $t WHERE email = $(lookup_operand "$v" 42)"
            echo "== $v, generic plan (as in -M prepared)"
            psql_bench -c "PREPARE q(text) AS SELECT id FROM $t WHERE email = $(lookup_operand "$v" '$1')" \
                -c "SET plan_cache_mode = force_generic_plan" -c "EXPLAIN (COSTS OFF) EXECUTE q('42')"
            echo
        } >>"$PLANS"
    done
    [ "$(grep -c '^== ' "$PLANS")" = "$(grep -c 'Index Scan' "$PLANS")" ] ||
        fail "a lookup does not use its index (see $PLANS)"
    for rep in $(seq "$LOOKUP_REPS"); do
        # Every other repetition in reverse order, so that no variant always
        # runs first (or right after another's run).
        order=$lookup_variants
        [ $((rep % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$lookup_variants" | tac | tr '\n' ' ')
        for mode in prepared simple; do
            for v in $order; do
                [[ "$mode/$v" == simple/*_untyped ]] && continue
                tps=$(as_cluster_user "$BINDIR/pgbench" -n -M "$mode" -c "$CLIENTS" -j 2 -T "$RUN_SECONDS" \
                    -D rows="$ROWS" -f "$DIR/lookup_$v.sql" -h "$DIR" -p "$PORT" -U postgres bench 2>&1 |
                    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
                [ -n "$tps" ] || fail "pgbench gave no tps for $v ($mode)"
                record lookup "lookup_$mode" "$v" "$rep" "$tps" tps
                progress "$(printf "lookup (%s)%*s rep %d/%d  %-15s %8.0f tps" "$mode" $((9 - ${#mode})) "" "$rep" "$LOOKUP_REPS" "$v" "$tps")"
            done
        done
    done
fi

# --- types -----------------------------------------------------------------------------
# INSERT ... SELECT of one column, then a full read that decrypts it, for
# int4 and numeric, plain and encrypted (64-bit terms).
if has_part types; then
    for rep in $(seq "$REPS"); do
        for v in plain colcrypt; do
            for col in i:int4 n:numeric; do
                c=${col%%:*} type=${col#*:}
                r=$(timed "TRUNCATE bench_types_$v" "CHECKPOINT" "$WARM_KEYS" \
                    "INSERT INTO bench_types_$v (id, $c) SELECT id, $c FROM bench_types_src")
                read -r ms _ <<<"$r"
                record types "insert_$type" "$v" "$rep" "$ms" ms
                progress "$(printf "INSERT %-12s" "$type") rep $rep/$REPS  $(printf '%-15s %10.1f ms' "$v" "$ms")"
            done
        done
    done
    for v in plain colcrypt; do
        psql_bench -c "TRUNCATE bench_types_$v" -c "INSERT INTO bench_types_$v SELECT * FROM bench_types_src" \
            -c "VACUUM ANALYZE bench_types_$v"
    done
    for col in i:int4 n:numeric; do
        c=${col%%:*} type=${col#*:}
        expected=$(psql_bench -c "SELECT sum($c) FROM bench_types_src")
        for rep in $(seq "$REPS"); do
            for v in plain colcrypt; do
                r=$(timed "$WARM_KEYS" "SELECT sum($c::$type) FROM bench_types_$v")
                read -r ms sum <<<"$r"
                [ "$sum" = "$expected" ] || fail "read of $type from bench_types_$v gave $sum, expected $expected"
                record types "read_$type" "$v" "$rep" "$ms" ms
                progress "$(printf "full read %-9s" "$type") rep $rep/$REPS  $(printf '%-15s %10.1f ms' "$v" "$ms")"
            done
        done
    done
fi

# --- core ------------------------------------------------------------------------------
if has_part core; then
    progress "crypto core: bench/core_bench ($REPS repetitions of ~200 ms per operation and size)"
    build/bench/core_bench "$REPS" 200 >>"$CORE"
    # openssl speed, same sizes: encryption as a stream (-evp) and per
    # message with nonce, AAD and tag (-aead), HMAC-SHA256, SHA-256.
    # "+R:<count>:<name>:<seconds>" gives the time per operation.
    for rep in $(seq "$REPS"); do
        progress "openssl speed  rep $rep/$REPS"
        for size in $SIZES; do
            for spec in "aes-256-gcm:-evp aes-256-gcm" "aes-256-gcm-aead:-aead -evp aes-256-gcm" \
                "aes-256-gcm-aead-decrypt:-aead -decrypt -evp aes-256-gcm" \
                "hmac-sha256:-hmac sha256" "sha256:-evp sha256"; do
                name=${spec%%:*}
                ns=$(openssl speed -mr -seconds 1 -bytes "$size" ${spec#*:} 2>&1 |
                    awk -F: '/^\+R:/ { printf "%.1f", $4 * 1e9 / $2 }')
                [ -n "$ns" ] || fail "openssl speed ${spec#*:} gave no result"
                echo "openssl,$name,$size,$rep,$ns" >>"$CORE"
            done
        done
    done
fi

# --- re-encryption ------------------------------------------------------------------
# Its own throwaway server (the worker's settings change there), own report.
if has_part reencrypt; then
    progress "re-encryption: bench/reencrypt.sh ($OUT/reencrypt.md)"
    BENCH_ROWS=$ROWS BENCH_OUT=$OUT PG_CONFIG=$PG_CONFIG "$REPO/bench/reencrypt.sh"
fi

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
progress "writing $OUT/README.md and ratios.png"
"$REPO/bench/report.sh" "$OUT"
progress "done: $OUT/README.md"
