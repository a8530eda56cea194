#!/usr/bin/env bash
# The log-leak check: after every suite has run, no server log may hold a
# plaintext the tests sent through bind parameters or COPY, the paths where
# the value never is in a query text (markers LEAKMARK-BIND-* and
# LEAKMARK-COPY-*), nor a resource leak PostgreSQL warns about.  A positive control proves the grep sees what it must:
# one statement puts LEAKMARK-CONTROL-LITERAL in a literal that fails to
# parse as an integer, and PostgreSQL logs it with the error.
#
#   test/log_leak/check.sh WORKDIR
# Prints one line per check ("ok: ..." or "FAILED: ..."), exit status 0 if
# all hold.
set -uo pipefail
work=${1:?work directory}

# Server logs only: pg_regress's postmaster logs and the TAP nodes' logs,
# not the TAP scripts' own regress_log_* (which hold query results).
mapfile -t logs < <(find "$work" \( -path '*/log/postmaster.log' -o -path '*/tmp_check/log/*.log' \) \
    ! -name 'regress_log_*' -type f 2>/dev/null | sort)
failures=0
report() {  # ok|FAILED message
    echo "$1: $2"
    [ "$1" = ok ] || failures=$((failures + 1))
}

if [ "${#logs[@]}" = 0 ]; then
    report FAILED "no server logs found under $work"
    exit 1
fi
report ok "${#logs[@]} server logs to read"
for marker in LEAKMARK-BIND- LEAKMARK-COPY-; do
    hits=$(grep -l -- "$marker" "${logs[@]}")
    if [ -z "$hits" ]; then
        report ok "no server log holds a $marker* plaintext"
    else
        report FAILED "$marker* plaintext in: $(tr '\n' ' ' <<<"$hits")"
        grep -h -- "$marker" "${logs[@]}" | head -5
    fi
done
# Resource leaks PostgreSQL reports at transaction end (a snapshot left
# active, a buffer pin, a relcache or catcache reference, a hash or HMAC
# context): each is a bug in the code that ran, whichever test it was.
leaks=$(grep -hE 'WARNING: +.*(leak|still active|still in use)' "${logs[@]}" | head -5)
if [ -z "$leaks" ]; then
    report ok "no server log reports a leaked resource"
else
    report FAILED "leaked resources reported:"
    echo "$leaks"
fi
if grep -q -- 'LEAKMARK-CONTROL-LITERAL' "${logs[@]}"; then
    report ok "control: the literal marker is found where PostgreSQL logs it"
else
    report FAILED "control: the literal marker was not found, so the check cannot see plaintext"
fi
# The markers were really sent and stored in this run (else "not found"
# proves nothing): the outputs of the tests that send them show them read
# back.
sent() {  # file pattern what
    if grep -qsE -- "$2" "$1"; then
        report ok "sent and read back in this run: $3"
    else
        report FAILED "no evidence in $1 that $3 ran"
    fi
}
sent "$work/adversarial/results/attack_log_leak.out" 'LEAKMARK-COPY-ADVERSARIAL-1' 'COPY FROM stdin (attack_log_leak)'
sent "$work/tap-003_binary_copy.log" '^ok [0-9]+ - plaintext COPY rows read back' 'COPY FROM a file (003)'
sent "$work/tap-006_binary_parameters.log" '^ok [0-9]+ - a row inserted with binary parameters is found' \
    'binary bind parameters (006)'
sent "$work/regress/results/type_family.out" '^CONTEXT:  COPY family, line 1 \(input not shown' \
    'COPY of bad LEAKMARK-COPY-013 input into the type family (type_family)'
sent "$work/tap-011_binary_types.log" '^ok [0-9]+ - int4: bad text input refused with the base type' \
    'binary and refused text bind parameters of the type family (011)'
[ "$failures" = 0 ]
