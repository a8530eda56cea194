#!/usr/bin/env bash
# The re-encryption benchmark (part "reencrypt" of `make bench`; run alone
# with bench/reencrypt.sh).  docs/design/reencryption.md.
#
# On a throwaway server, two identical tables of BENCH_ROWS rows with two
# encrypted columns (email with a lookup index, note of 200 characters):
#   1. after rotate_key, one table is rewritten by a single statement
#      UPDATE t SET email = email::text::colcrypt.encrypted_text('bench'),
#                   note = note::text::colcrypt.encrypted_text('bench')
#      and the other by the worker with no throttle (naptime 0); rows/s of
#      each (the worker's from its job's start and finish);
#   2. pgbench (lookups by email and updates of another column, on a third
#      copy) for BENCH_SECONDS with no job running, then for as long with
#      the worker running at its default throttle; the TPS of each, and the
#      worker's rows/s meanwhile; then the same pair with
#      BENCH_REENCRYPT_SPARE_CLIENTS (1) clients, which leave the machine CPU
#      to spare (4 clients saturate these 2 cores: whatever CPU the worker
#      takes, pgbench loses).
# BENCH_REENCRYPT_NAPTIME, BENCH_REENCRYPT_CPU and BENCH_REENCRYPT_BATCH set
# another throttle for step 2 than the defaults (step 1 always runs naptime
# 0, cpu_percent 100, batch 1000).  Each job is waited for until done, its
# cleanup (VACUUM, REINDEX CONCURRENTLY) included, so that no cleanup runs
# during the next measurement.
# BENCH_REENCRYPT_REPS rounds (5), each measuring everything once, in turn;
# the report gives medians.
# Targets (SPEC, issue 12): the unthrottled worker at least 70% of the
# statement's rate; TPS at most 10% lower with the worker; the throttled
# worker at least 20% of its unthrottled rate.  Results: $BENCH_OUT/reencrypt.md.
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
ROWS=${BENCH_ROWS:-200000}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-4}
SPARE_CLIENTS=${BENCH_REENCRYPT_SPARE_CLIENTS:-1}
OUT=${BENCH_OUT:-$REPO/bench/results}
REPS=${BENCH_REENCRYPT_REPS:-5}
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
DIR=$(cluster_scratch_dir bench-reencrypt)
PORT=$(free_port 5733)
as_cluster_user "$BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_cluster_user tee -a "$DIR/data/postgresql.conf" >/dev/null <<EOF
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
colcrypt.reencrypt_on_rotate = off
EOF
as_cluster_user "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
sql() { as_cluster_user "$BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres "$@"; }

progress "creating three tables of $ROWS rows"
sql >/dev/null <<SQL
CREATE EXTENSION colcrypt;
SELECT colcrypt.create_key('bench');
CREATE TABLE src (id bigint, email text, note text);
INSERT INTO src SELECT g, 'user' || g || '@example.com', left(repeat(md5(g::text), 7), 200) FROM generate_series(1, $ROWS) g;
CREATE TABLE by_update (id bigint PRIMARY KEY, email colcrypt.encrypted_text('bench'), note colcrypt.encrypted_text('bench'), n int DEFAULT 0);
CREATE TABLE by_worker (LIKE by_update INCLUDING ALL);
CREATE TABLE by_pgbench (LIKE by_update INCLUDING ALL);
INSERT INTO by_update (id, email, note) SELECT * FROM src;
INSERT INTO by_worker (id, email, note) SELECT * FROM src;
INSERT INTO by_pgbench (id, email, note) SELECT * FROM src;
CREATE INDEX ON by_update (email);
CREATE INDEX ON by_worker (email);
CREATE INDEX ON by_pgbench (email);
VACUUM ANALYZE;
CHECKPOINT;
SQL

cat >"$DIR/mix.sql" <<EOF
\\set id random(1, $ROWS)
SELECT id FROM by_pgbench WHERE email = 'user' || :id || '@example.com';
UPDATE by_pgbench SET n = n + 1 WHERE id = :id;
EOF
chmod 0644 "$DIR/mix.sql"
pgbench_tps() {  # [clients]
    local clients=${1:-$CLIENTS}
    as_cluster_user "$BINDIR/pgbench" -n -T "$SECONDS_PER_RUN" -c "$clients" -j "$(( clients < 2 ? clients : 2 ))" -f "$DIR/mix.sql" \
        -h "$DIR" -p "$PORT" -U postgres postgres 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
set_throttle() {  # naptime cpu_percent batch, as the server takes them
    sql -c "ALTER SYSTEM SET colcrypt.reencrypt_naptime = '$1'" -c "ALTER SYSTEM SET colcrypt.reencrypt_cpu_percent = $2" \
        -c "ALTER SYSTEM SET colcrypt.reencrypt_batch_size = $3" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
}
# The throttle of step 2: the defaults, or BENCH_REENCRYPT_NAPTIME / _BATCH.
NAPTIME=${BENCH_REENCRYPT_NAPTIME:-$(sql -c "SHOW colcrypt.reencrypt_naptime")}
CPU=${BENCH_REENCRYPT_CPU:-$(sql -c "SHOW colcrypt.reencrypt_cpu_percent")}
BATCH=${BENCH_REENCRYPT_BATCH:-$(sql -c "SHOW colcrypt.reencrypt_batch_size")}
throttle=$([ -n "${BENCH_REENCRYPT_NAPTIME:-}${BENCH_REENCRYPT_CPU:-}${BENCH_REENCRYPT_BATCH:-}" ] && echo "set by BENCH_REENCRYPT_*" || echo "the defaults")

wait_for_job() {
    until [ "$(sql -c "SELECT bool_and(state = 'done') FROM colcrypt.reencrypt_progress WHERE job = $1")" = t ]; do
        sleep 0.2
    done
}

# Each round measures every quantity once, in the same order, so that the
# machine's drift reaches them alike; the report gives the medians.
: >"$DIR/rounds"
for round in $(seq 1 "$REPS"); do
    # --- 1. the statement and the unthrottled worker -------------------------
    sql -c "SELECT colcrypt.rotate_key('bench')" >/dev/null
    active=$(sql -c "SELECT version FROM colcrypt.keys WHERE keyring = 'bench' AND state = 'active'")
    progress "round $round/$REPS: single-statement UPDATE of both columns"
    update_s=$(sql <<'SQL'
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
UPDATE by_update SET email = email::text::colcrypt.encrypted_text('bench'), note = note::text::colcrypt.encrypted_text('bench');
SELECT round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 3);
SQL
)
    sql -c "VACUUM by_update" -c "CHECKPOINT" >/dev/null
    progress "round $round/$REPS: the worker, no throttle (naptime 0, cpu_percent 100, batch 1000)"
    set_throttle 0 100 1000
    job=$(sql -c "SELECT colcrypt.reencrypt('by_worker')")
    wait_for_job "$job"
    worker_s=$(sql -c "SELECT round(extract(epoch FROM finished - started)::numeric, 3) FROM colcrypt.reencrypt_progress WHERE job = $job LIMIT 1")
    left=$(sql -c "SELECT count(*) FROM by_worker WHERE colcrypt._key_version(email) <> $active OR colcrypt._key_version(note) <> $active")
    [ "$left" = 0 ] || { echo "bench: the worker left $left rows"; exit 1; }
    sql -c "VACUUM by_worker" -c "CHECKPOINT" >/dev/null

    # --- 2. pgbench with and without the throttled worker --------------------
    # Prints "TPS without a job, TPS with the throttled worker, the worker's
    # rows/s meanwhile" for pgbench with $1 clients.
    pgbench_pair() {
        local clients=$1 alone with job before after
        set_throttle "$NAPTIME" "$CPU" "$BATCH"
        progress "round $round/$REPS: pgbench, $clients clients, without a job (${SECONDS_PER_RUN} s)" >&2
        alone=$(pgbench_tps "$clients")
        job=$(sql -c "SELECT colcrypt.reencrypt('by_pgbench')")
        sleep 1
        before=$(sql -c "SELECT rows_done || ' ' || extract(epoch FROM clock_timestamp()) FROM colcrypt.reencrypt_progress WHERE job = $job LIMIT 1")
        progress "round $round/$REPS: pgbench, $clients clients, with the worker at naptime $NAPTIME, cpu_percent $CPU, batch $BATCH (${SECONDS_PER_RUN} s)" >&2
        with=$(pgbench_tps "$clients")
        after=$(sql -c "SELECT rows_done || ' ' || extract(epoch FROM clock_timestamp()) FROM colcrypt.reencrypt_progress WHERE job = $job LIMIT 1")
        # The job finishes unthrottled, so that the next measurement starts
        # from a table under one version.
        set_throttle 0 100 1000
        wait_for_job "$job"
        sql -c "VACUUM by_pgbench" -c "CHECKPOINT" >/dev/null
        sql -c "SELECT colcrypt.rotate_key('bench')" >/dev/null
        awk -v t0="$alone" -v t1="$with" -v b="$before" -v a="$after" \
            'BEGIN { split(b, x, " "); split(a, y, " "); printf "%s %s %.0f\n", t0, t1, (y[1] - x[1]) / (y[2] - x[2]) }'
    }
    saturated=$(pgbench_pair "$CLIENTS")
    spare=$(pgbench_pair "$SPARE_CLIENTS")
    echo "$update_s $worker_s $saturated $spare" >>"$DIR/rounds"
done
sql -c "ALTER SYSTEM RESET colcrypt.reencrypt_naptime" -c "ALTER SYSTEM RESET colcrypt.reencrypt_cpu_percent" \
    -c "ALTER SYSTEM RESET colcrypt.reencrypt_batch_size" \
    -c "SELECT pg_reload_conf()" >/dev/null

# Medians of the rounds; the ratios are the medians of each round's own.
median_of() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column() { awk -v c="$1" '{ print $c }' "$DIR/rounds"; }
update_s=$(column 1 | median_of); worker_s=$(column 2 | median_of)
tps_alone=$(column 3 | median_of); tps_worker=$(column 4 | median_of); throttled_rate=$(column 5 | median_of)
spare_alone=$(column 6 | median_of); spare_worker=$(column 7 | median_of); spare_rate=$(column 8 | median_of)
# Per round: worker / statement (rows/s), TPS with / without, throttled /
# unthrottled rate; then the last two with spare CPU.
awk -v r="$ROWS" '{ printf "%.2f %.2f %.2f %.2f %.2f\n", ($1 / $2), ($4 / $3), ($5 / (r / $2)), ($7 / $6), ($8 / (r / $2)) }' "$DIR/rounds" >"$DIR/ratios"
ratio_median() { awk -v c="$1" '{ print $c }' "$DIR/ratios" | median_of | awk '{ printf "%.2f", $1 }'; }
ratio_list() { awk -v c="$1" '{ printf "%s%s", (NR > 1 ? ", " : ""), $c }' "$DIR/ratios"; }
update_rate=$(awk -v r="$ROWS" -v s="$update_s" 'BEGIN { printf "%.0f", r / s }')
worker_rate=$(awk -v r="$ROWS" -v s="$worker_s" 'BEGIN { printf "%.0f", r / s }')
mkdir -p "$OUT"
cat >"$OUT/reencrypt.md" <<EOF
# Re-encryption benchmark

$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1),
PostgreSQL $(sql -c 'SHOW server_version'), colcrypt $(git -C "$REPO" rev-parse --short HEAD).
$ROWS rows, two encrypted columns (email with a btree index, a 200-character note); bench/reencrypt.sh.
Medians of $REPS rounds, each measuring everything once in this order; a ratio is the median of the
rounds' own ratios (each round's in brackets).

| measurement | value | target |
| --- | --- | --- |
| single-statement UPDATE of both columns | $update_s s, $update_rate rows/s | |
| worker, no throttle (naptime 0, cpu_percent 100, batch 1000) | $worker_s s, $worker_rate rows/s | |
| worker / statement | $(ratio_median 1) ($(ratio_list 1)) | >= 0.70 |
| pgbench TPS, no job ($CLIENTS clients, ${SECONDS_PER_RUN} s, lookup by email + update of another column) | $tps_alone | |
| pgbench TPS, worker at naptime $NAPTIME, cpu_percent $CPU, batch $BATCH ($throttle) | $tps_worker | |
| TPS with / without the worker | $(ratio_median 2) ($(ratio_list 2)) | >= 0.90 |
| worker rate during that pgbench run | $throttled_rate rows/s | |
| throttled / unthrottled worker rate | $(ratio_median 3) ($(ratio_list 3)) | >= 0.20 |
| with CPU to spare: pgbench TPS, no job ($SPARE_CLIENTS client(s)) | $spare_alone | |
| with CPU to spare: pgbench TPS, worker at the same throttle | $spare_worker | |
| with CPU to spare: TPS with / without the worker | $(ratio_median 4) ($(ratio_list 4)) | >= 0.90 |
| with CPU to spare: worker rate during that pgbench run | $spare_rate rows/s | |
| with CPU to spare: throttled / unthrottled worker rate | $(ratio_median 5) ($(ratio_list 5)) | >= 0.20 |
EOF
cat "$OUT/reencrypt.md"
