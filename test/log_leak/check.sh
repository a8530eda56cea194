#!/usr/bin/env bash
# The log-leak check: after every suite has run, no server log may hold a
# plaintext the tests sent through bind parameters or COPY, the paths where
# the value never is in a query text (markers LEAKMARK-BIND-* and
# LEAKMARK-COPY-*).  A positive control proves the grep sees what it must:
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

if [ "${#logs[@]}" -gt 0 ]; then
    report ok "${#logs[@]} server logs to read"
else
    report FAILED "no server logs found under $work"
fi
for marker in LEAKMARK-BIND- LEAKMARK-COPY-; do
    hits=$(grep -l -- "$marker" "${logs[@]}" 2>/dev/null)
    if [ -z "$hits" ]; then
        report ok "no server log holds a $marker* plaintext"
    else
        report FAILED "$marker* plaintext in: $(tr '\n' ' ' <<<"$hits")"
        grep -h -- "$marker" "${logs[@]}" | head -5
    fi
done
if grep -q -- 'LEAKMARK-CONTROL-LITERAL' "${logs[@]}" 2>/dev/null; then
    report ok "control: the literal marker is found where PostgreSQL logs it"
else
    report FAILED "control: the literal marker was not found, so the check cannot see plaintext"
fi
# The markers were really sent (else "not found" proves nothing): the
# tests that send them assert they read back; here, that they ran at all.
for sent in LEAKMARK-BIND- LEAKMARK-COPY-; do
    if grep -rqs -- "$sent" "$work"/test/t "$work"/test/client "$work"/test/adversarial/sql; then
        report ok "some test sends $sent* values"
    else
        report FAILED "no test sends $sent* values"
    fi
done
[ "$failures" = 0 ]
