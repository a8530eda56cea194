#!/usr/bin/env bash
# Every colcrypt test suite, in one command (`make check`):
#   0. layout    the include layers and the release rules (test/layout)
#   1. unit      C++ core, GoogleTest under CTest (no PostgreSQL)
#   2. regress   pg_regress on a throwaway cluster with colcrypt preloaded
#      adversarial  pg_regress again: the standing adversarial suite,
#                test/adversarial (one attack per file)
#   3. isolation pg_isolation_regress: test/isolation/specs, expected outputs
#                in test/isolation/expected, same throwaway cluster setup
#   4. tap       PostgreSQL::Test::Cluster scripts in test/t
# Ends with one line "N passed, N failed" over all suites and exits non-zero
# if anything failed.  Missing Debian packages are installed first (apt, as
# root or through sudo), so a fresh clone on a fresh machine needs nothing
# else.  PostgreSQL refuses to run as root, so when started as root the
# server-side suites run as the "postgres" user from a scratch copy of the
# test files; the extension is installed first (root, or sudo).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib/packages.sh
if ! ensure_packages "${TEST_PACKAGES[@]}"; then
    echo "could not install the packages the tests need"
    echo "0 passed, 1 failed"
    exit 1
fi
# Every throwaway cluster is UTF-8 with byte-order collation, whatever the
# caller's locale: the tests hold multibyte text and sort it.
export LC_ALL=C.UTF-8
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
BINDIR=$("$PG_CONFIG" --bindir)
PGXS_SRC=$(dirname "$("$PG_CONFIG" --pgxs)")/..
RUN_USER=${COLCRYPT_TEST_USER:-postgres}

passed=0
failed=0
skipped=0
suite_summaries=()

section() { printf '\n==> %s\n' "$1"; }
record() {  # suite passed failed [skipped]
    passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + ${4:-0}))
    suite_summaries+=("$(printf '%-8s %4d passed, %d failed, %d skipped' "$1" "$2" "$3" "${4:-0}")")
}
# record_pg_regress SUITE LOG EXPECTED DIFFS: count the "... ok" and
# "... FAILED" lines of a pg_regress or pg_isolation_regress log; tests that
# never reported (a crash, a missing file) count as failed.  On failure,
# show the diffs.
record_pg_regress() {
    local ok bad
    ok=$(grep -cE '^(test| ) *[a-z_0-9-]+ +\.\.\. ok' "$2")
    bad=$(grep -cE '\.\.\. FAILED' "$2")
    [ $((ok + bad)) -lt "$3" ] && bad=$(($3 - ok))
    record "$1" "$ok" "$bad"
    if [ "$bad" -gt 0 ] && [ -f "$4" ]; then
        section "$1: regression.diffs"
        cat "$4"
    fi
}
as_test_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$RUN_USER" -- env PATH="$BINDIR:$PATH" "$@"
    else
        env PATH="$BINDIR:$PATH" "$@"
    fi
}

# --- 0. layout ---------------------------------------------------------------
section "layout and release checks"
layout_log=$(mktemp)
perl test/layout/check_layers.pl >"$layout_log" 2>&1
layers_status=$?
test/layout/check_release.sh >>"$layout_log" 2>&1
cat "$layout_log"
layout_bad=$(grep -c '^FAILED' "$layout_log")
[ "$layers_status" = 0 ] || layout_bad=$((layout_bad + 1))
record layout $(( $(grep -c '^ok:' "$layout_log") + (layers_status == 0 ? 1 : 0) )) "$layout_bad"
rm -f "$layout_log"

# --- 1. unit -----------------------------------------------------------------
section "unit tests (CTest)"
unit_log=$(mktemp)
if cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$unit_log" 2>&1 &&
    cmake --build build/cmake -j2 >>"$unit_log" 2>&1; then
    (cd build/cmake && ctest --output-on-failure 2>&1) | tee "$unit_log"
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$unit_log" | tail -1)
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
    # The Wycheproof tests report what they ran and skipped (and why).
    grep -h '^wycheproof ' build/cmake/Testing/Temporary/LastTest.log 2>/dev/null | sort -u
    if [ -n "$line" ]; then record unit $((total - bad)) "$bad"; else record unit 0 1; fi
else
    cat "$unit_log"
    echo "unit tests: build failed"
    record unit 0 1
fi

# --- build and install the extension ------------------------------------------
section "build and install colcrypt"
if ! { make -s -j2 PG_CONFIG="$PG_CONFIG" 2>&1 | grep -v "overriding recipe\|ignoring old recipe"; [ "${PIPESTATUS[0]}" = 0 ]; } ||
    ! run_as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1; then
    echo "could not build or install the extension"
    record build 0 1
    printf '\n%s\n' "${suite_summaries[@]}"
    echo "$passed passed, $failed failed"
    exit 1
fi
echo "installed into $("$PG_CONFIG" --pkglibdir)"

# Scratch copy of the test material, owned by the user who runs the server.
WORK=$(mktemp -d /tmp/colcrypt-check.XXXXXX)
cp -r test "$WORK/"
[ "$(id -u)" = 0 ] && chown -R "$RUN_USER" "$WORK"

# --- 2. pg_regress -----------------------------------------------------------
section "pg_regress"
regress_log="$WORK/regress.log"
as_test_user "$PGXS_SRC/test/regress/pg_regress" \
    --temp-instance="$WORK/regress/tmp_check" --inputdir="$WORK/test/regress" --outputdir="$WORK/regress" \
    --bindir="$BINDIR" --temp-config="$WORK/test/regress/regress.conf" \
    --schedule="$WORK/test/regress/schedule" 2>&1 | tee "$regress_log"
record_pg_regress regress "$regress_log" "$(grep -c '^test:' test/regress/schedule)" "$WORK/regress/regression.diffs"

# --- 2b. adversarial ------------------------------------------------------------
section "adversarial suite"
adversarial_log="$WORK/adversarial.log"
as_test_user "$PGXS_SRC/test/regress/pg_regress" \
    --temp-instance="$WORK/adversarial/tmp_check" --inputdir="$WORK/test/adversarial" \
    --outputdir="$WORK/adversarial" --bindir="$BINDIR" --temp-config="$WORK/test/regress/regress.conf" \
    --schedule="$WORK/test/adversarial/schedule" 2>&1 | tee "$adversarial_log"
record_pg_regress adversarial "$adversarial_log" "$(grep -c '^test:' test/adversarial/schedule)" \
    "$WORK/adversarial/regression.diffs"

# --- 3. isolation ------------------------------------------------------------
section "isolation tests"
iso_specs=$(cd test/isolation/specs 2>/dev/null && ls *.spec 2>/dev/null | sed 's/\.spec$//')
if [ -n "$iso_specs" ]; then
    iso_log="$WORK/isolation.log"
    as_test_user "$PGXS_SRC/test/isolation/pg_isolation_regress" \
        --temp-instance="$WORK/isolation/tmp_check" --inputdir="$WORK/test/isolation" \
        --outputdir="$WORK/isolation" --bindir="$BINDIR" --temp-config="$WORK/test/regress/regress.conf" \
        $iso_specs 2>&1 | tee "$iso_log"
    record_pg_regress isolation "$iso_log" "$(wc -w <<<"$iso_specs")" "$WORK/isolation/regression.diffs"
fi

# --- 4. TAP ------------------------------------------------------------------
section "TAP tests"
tap_ok=0; tap_bad=0; tap_skip=0
for script in "$WORK"/test/t/*.pl; do
    [ -e "$script" ] || continue
    name=$(basename "$script" .pl)
    log="$WORK/tap-$name.log"
    # PostgreSQL::Test::Utils makes $TESTDIR/tmp_check, not $TESTDIR itself.
    as_test_user mkdir -p "$WORK/tap/$name"
    (cd "$WORK/test" && as_test_user env PERL5LIB="$PGXS_SRC/test/perl:$WORK/test/t" \
        TESTDIR="$WORK/tap/$name" PG_REGRESS="$PGXS_SRC/test/regress/pg_regress" \
        COLCRYPT_LIBDIR="$("$PG_CONFIG" --pkglibdir)" \
        prove -v "$script") >"$log" 2>&1
    status=$?
    ok=$(grep -E '^ok [0-9]+' "$log" | grep -vc '# skip')
    skip=$(grep -cE '^ok [0-9]+.*# skip' "$log")
    bad=$(grep -cE '^not ok [0-9]+' "$log")
    # A script that died without a failing assertion is still a failure.
    [ "$status" != 0 ] && [ "$bad" = 0 ] && bad=1
    printf '%-40s %3d ok, %d failed, %d skipped\n' "$name" "$ok" "$bad" "$skip"
    if [ "$bad" -gt 0 ]; then
        cat "$log"
        for f in "$WORK/tap/$name"/tmp_check/log/*; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
        done
    fi
    tap_ok=$((tap_ok + ok)); tap_bad=$((tap_bad + bad)); tap_skip=$((tap_skip + skip))
done
record tap "$tap_ok" "$tap_bad" "$tap_skip"

section "summary"
printf '%s\n' "${suite_summaries[@]}"
if [ "$failed" = 0 ]; then rm -rf "$WORK"; else echo "test output kept in $WORK"; fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
