#!/usr/bin/env bash
# The crypto core of an earlier commit next to the current tree, measured at
# the same time: core_bench of both, interleaved, so that the machine's
# drift between runs does not pass for a change.
#
#   bench/core_ab.sh <commit> [rounds]     (default 4 rounds)
#
# Writes bench/results/core_ab.csv (build,operation,bytes,rep,ns_per_op with
# build "before:<commit>" or "after:<commit>"), which bench/report.sh shows
# as the core's before and after.  The commit must have bench/core_bench.cpp.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BASE=${1:?usage: bench/core_ab.sh <commit> [rounds]}
ROUNDS=${2:-4}
OUT=${BENCH_OUT:-$REPO/bench/results}
BEFORE=$(git -C "$REPO" rev-parse --short "$BASE")
AFTER=$(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- src include bench/core_bench.cpp || echo '+')

TMP=$(mktemp -d /tmp/colcrypt-core-ab.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
git -C "$REPO" archive "$BASE" | tar -x -C "$TMP"
[ -f "$TMP/bench/core_bench.cpp" ] || { echo "core_ab: $BASE has no bench/core_bench.cpp" >&2; exit 1; }
cmake -S "$TMP" -B "$TMP/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLCRYPT_TESTS=OFF >/dev/null
cmake --build "$TMP/build" -j2 --target core_bench >/dev/null
cmake -S "$REPO" -B "$REPO/build/bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLCRYPT_TESTS=OFF >/dev/null
cmake --build "$REPO/build/bench" -j2 --target core_bench >/dev/null

mkdir -p "$OUT"
echo "build,operation,bytes,rep,ns_per_op" >"$OUT/core_ab.csv"
for round in $(seq "$ROUNDS"); do
    echo "core_ab: round $round/$ROUNDS"
    "$TMP/build/core_bench" 3 100 2>/dev/null | sed "s/^colcrypt,/before:$BEFORE,/" >>"$OUT/core_ab.csv"
    "$REPO/build/bench/core_bench" 3 100 2>/dev/null | sed "s/^colcrypt,/after:$AFTER,/" >>"$OUT/core_ab.csv"
done
echo "wrote $OUT/core_ab.csv"
