#!/usr/bin/env bash
# Every colcrypt test suite, in one command (`make check`):
#   0. layout    the include layers and the release rules (test/layout)
#   1. unit      C++ core, GoogleTest under CTest (no PostgreSQL)
#      fuzz      the envelope parser under libFuzzer for COLCRYPT_FUZZ_SECONDS
#                (60 by default; 0 skips it, counted as skipped)
#   2. regress   pg_regress on a throwaway cluster with colcrypt preloaded
#      adversarial  pg_regress again: the standing adversarial suite,
#                test/adversarial (one attack per file)
#   3. isolation pg_isolation_regress: test/isolation/specs, expected outputs
#                in test/isolation/expected, same throwaway cluster setup
#   4. tap       PostgreSQL::Test::Cluster scripts in test/t
#   5. sanitize  the core's unit tests built with AddressSanitizer and
#                UndefinedBehaviorSanitizer; the extension built with
#                UndefinedBehaviorSanitizer under pg_regress and the
#                adversarial suite (COLCRYPT_SANITIZE=0 skips it)
#   6. log-leak  every server log of the run (debug1, log_statement = none)
#                holds none of the plaintext markers the tests sent through
#                bind parameters and COPY (test/log_leak/check.sh)
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

# Each section's header; the previous one's time goes into the summary.
section_name=""
section_start=$SECONDS
section_times=()
section() {
    [ -n "$section_name" ] && section_times+=("$(printf '%-34s %4ds' "$section_name" $((SECONDS - section_start)))")
    section_name=$1
    section_start=$SECONDS
    printf '\n==> %s\n' "$1"
}
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
# The number of tests a pg_regress schedule names (a line may name several).
scheduled_tests() {
    sed -n 's/^test: *//p' "$1" | wc -w
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
release_status=$?
cat "$layout_log"
layout_bad=$(grep -c '^FAILED' "$layout_log")
[ "$layers_status" = 0 ] || layout_bad=$((layout_bad + 1))
# A check that died before it said what failed is a failure too.
[ "$release_status" != 0 ] && [ "$layout_bad" = 0 ] && layout_bad=1
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
    # CTest counts a skipped (GTEST_SKIP) or disabled test among the passed
    # ones; it lists them under "The following tests did not run".
    unit_skipped=$(grep -cE '^ *[0-9]+ - .* \((Skipped|Disabled)\)$' "$unit_log")
    # The Wycheproof tests report what they ran and skipped (and why).
    grep -h '^wycheproof ' build/cmake/Testing/Temporary/LastTest.log 2>/dev/null | sort -u
    if [ -n "$line" ]; then
        record unit $((total - bad - unit_skipped)) "$bad" "$unit_skipped"
    else
        record unit 0 1
    fi
else
    cat "$unit_log"
    echo "unit tests: build failed"
    record unit 0 1
fi
rm -f "$unit_log"

# --- 1b. fuzz -----------------------------------------------------------------
section "fuzzing (libFuzzer, clang)"
fuzz_seconds=${COLCRYPT_FUZZ_SECONDS:-60}
fuzz_log=$(mktemp)
if [ "$fuzz_seconds" = 0 ]; then
    echo "skipped: COLCRYPT_FUZZ_SECONDS=0"
    record fuzz 0 0 1
elif CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLCRYPT_FUZZ=ON \
        -DCOLCRYPT_TESTS=OFF >"$fuzz_log" 2>&1 &&
    cmake --build build/fuzz -j2 --target fuzz_envelope >>"$fuzz_log" 2>&1; then
    fuzz_corpus=$(mktemp -d)
    cp test/fuzz/corpus/* "$fuzz_corpus/"
    if build/fuzz/fuzz_envelope -max_total_time="$fuzz_seconds" -print_final_stats=1 \
        -artifact_prefix=build/fuzz/ "$fuzz_corpus" >>"$fuzz_log" 2>&1; then
        grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$fuzz_log" | tail -2
        record fuzz 1 0
    else
        tail -40 "$fuzz_log"
        echo "fuzz_envelope found a failure (artifacts in build/fuzz/)"
        record fuzz 0 1
    fi
    rm -rf "$fuzz_corpus"
else
    cat "$fuzz_log"
    echo "could not build the fuzz target"
    record fuzz 0 1
fi
rm -f "$fuzz_log"

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
record_pg_regress regress "$regress_log" "$(scheduled_tests test/regress/schedule)" "$WORK/regress/regression.diffs"

# --- 2b. adversarial ------------------------------------------------------------
section "adversarial suite"
adversarial_log="$WORK/adversarial.log"
as_test_user "$PGXS_SRC/test/regress/pg_regress" \
    --temp-instance="$WORK/adversarial/tmp_check" --inputdir="$WORK/test/adversarial" \
    --outputdir="$WORK/adversarial" --bindir="$BINDIR" --temp-config="$WORK/test/regress/regress.conf" \
    --schedule="$WORK/test/adversarial/schedule" 2>&1 | tee "$adversarial_log"
record_pg_regress adversarial "$adversarial_log" "$(scheduled_tests test/adversarial/schedule)" \
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
else
    echo "no isolation specs found in test/isolation/specs"
    record isolation 0 1
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
        TEMP_CONFIG="$WORK/test/log_leak/tap.conf" \
        prove -v "$script") >"$log" 2>&1
    status=$?
    ok=$(grep -E '^ok [0-9]+' "$log" | grep -vc '# skip')
    skip=$(grep -cE '^ok [0-9]+.*# skip' "$log")
    # A script that skips itself whole ("1..0 # SKIP reason") is one skip.
    grep -qiE '^1\.\.0 # skip' "$log" && skip=$((skip + 1)) && grep -iE '^1\.\.0 # skip' "$log"
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
if [ $((tap_ok + tap_bad + tap_skip)) = 0 ]; then
    echo "no TAP results: test/t holds no script, or none reported"
    tap_bad=1
fi
record tap "$tap_ok" "$tap_bad" "$tap_skip"

# --- 5. sanitizers ---------------------------------------------------------------
# The extension's PostgreSQL layer runs under UndefinedBehaviorSanitizer:
# AddressSanitizer needs its runtime preloaded into postgres, and with
# Debian's server binary (gcc's libasan or clang's runtime alike) the first
# glibc-internal rwlock taken waits forever: bindtextdomain's before main();
# with the gettext functions stubbed out by a second preloaded library,
# setlocale's in initdb next.  So AddressSanitizer covers the core (unit
# tests here, and the fuzzer above).  The sanitized library goes into a private copy of the
# server installation (PostgreSQL finds its libraries relative to its
# binary), so the installed colcrypt stays as it is.
section "sanitizers"
if [ "${COLCRYPT_SANITIZE:-1}" = 0 ]; then
    echo "skipped: COLCRYPT_SANITIZE=0"
    record sanitize 0 0 1
else
    san_ok=0; san_bad=0
    san_log="$WORK/sanitize-core.log"
    if cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLCRYPT_SANITIZE=ON >"$san_log" 2>&1 &&
        cmake --build build/sanitize -j2 --target colcrypt_unit_tests >>"$san_log" 2>&1 &&
        (cd build/sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure >>"$san_log" 2>&1); then
        echo "core unit tests under ASan and UBSan: $(grep -E 'tests passed' "$san_log" | tail -1)"
        san_ok=$((san_ok + 1))
    else
        tail -40 "$san_log"
        echo "core unit tests failed under the sanitizers"
        san_bad=$((san_bad + 1))
    fi

    san_src="$WORK/ubsan-src"; san_pg="$WORK/ubsan-pg"; san_reports="$WORK/ubsan-reports"
    mkdir -p "$san_src" "$san_pg/usr/lib/postgresql" "$san_pg/usr/share/postgresql" "$san_reports"
    cp -r Makefile colcrypt.control src include sql "$san_src/"
    mkdir -p "$san_src/build" && cp build/cxxflags "$san_src/build/"
    find "$san_src" -name '*.o' -delete
    pkglibdir=$("$PG_CONFIG" --pkglibdir); sharedir=$("$PG_CONFIG" --sharedir)
    cp -a "$(dirname "$BINDIR")" "$san_pg/usr/lib/postgresql/" && cp -a "$sharedir" "$san_pg/usr/share/postgresql/"
    san_bindir="$san_pg/usr/lib/postgresql/$(basename "$(dirname "$BINDIR")")/bin"
    if (cd "$san_src" && make -s -j2 PG_CONFIG="$PG_CONFIG" \
            PG_CXXFLAGS="$(cat build/cxxflags) -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
            SHLIB_LINK="-lcrypto -lstdc++ -fsanitize=undefined" >"$WORK/ubsan-build.log" 2>&1) &&
        [ -x "$san_bindir/postgres" ] &&
        # grep -c reads all of nm's output: grep -q would stop early and
        # nm's SIGPIPE fail the pipeline under pipefail.
        { [ "$(nm -D "$san_src/colcrypt.so" | grep -c __ubsan_handle_)" -gt 0 ] ||
            { echo "colcrypt.so is not instrumented: no UndefinedBehaviorSanitizer handler in it" >>"$WORK/ubsan-build.log"; false; }; }; then
        cp "$san_src/colcrypt.so" "$("$san_bindir/pg_config" --pkglibdir)/"
        cp "$san_src"/sql/colcrypt--*.sql "$san_src/colcrypt.control" "$("$san_bindir/pg_config" --sharedir)/extension/"
        [ "$(id -u)" = 0 ] && chown -R "$RUN_USER" "$san_reports"
        for suite in regress adversarial; do
            as_test_user env UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san_reports/ubsan" \
                "$PGXS_SRC/test/regress/pg_regress" \
                --temp-instance="$WORK/ubsan-$suite/tmp_check" --inputdir="$WORK/test/$suite" \
                --outputdir="$WORK/ubsan-$suite" --bindir="$san_bindir" --temp-config="$WORK/test/regress/regress.conf" \
                --schedule="$WORK/test/$suite/schedule" >"$WORK/ubsan-$suite.log" 2>&1
            if grep -q 'tests passed' "$WORK/ubsan-$suite.log"; then
                echo "$suite under UBSan: $(grep -E 'tests passed' "$WORK/ubsan-$suite.log")"
                san_ok=$((san_ok + 1))
            else
                tail -20 "$WORK/ubsan-$suite.log"
                [ -f "$WORK/ubsan-$suite/regression.diffs" ] && head -60 "$WORK/ubsan-$suite/regression.diffs"
                san_bad=$((san_bad + 1))
            fi
        done
        reports=$(ls "$san_reports" 2>/dev/null | wc -l)
        if [ "$reports" = 0 ]; then
            echo "no UndefinedBehaviorSanitizer reports"
            san_ok=$((san_ok + 1))
        else
            cat "$san_reports"/* | head -60
            san_bad=$((san_bad + 1))
        fi
    else
        tail -30 "$WORK/ubsan-build.log"
        echo "could not build the extension with UBSan"
        san_bad=$((san_bad + 1))
    fi
    record sanitize "$san_ok" "$san_bad"
fi

# --- 6. log leak ---------------------------------------------------------------
# Every server log of the run above (log_min_messages = debug1,
# log_statement = none) is searched for the plaintext markers tests sent
# through bind parameters and COPY.
section "log-leak check"
leak_log="$WORK/log-leak.log"
test/log_leak/check.sh "$WORK" >"$leak_log" 2>&1 </dev/null
leak_status=$?
cat "$leak_log"
leak_bad=$(grep -c '^FAILED:' "$leak_log")
[ "$leak_status" != 0 ] && [ "$leak_bad" = 0 ] && leak_bad=1
record log-leak "$(grep -c '^ok:' "$leak_log")" "$leak_bad"

section "summary"
printf '%s\n' "${section_times[@]}"
printf '%s\n' "${suite_summaries[@]}"
if [ "$failed" = 0 ]; then rm -rf "$WORK"; else echo "test output kept in $WORK"; fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
