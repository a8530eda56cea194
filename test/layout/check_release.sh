#!/usr/bin/env bash
# The release rules (docs/releasing.md), checked on the tree:
#   - released SQL scripts are frozen: sql/released.sha256 lists them;
#   - the version lives in colcrypt.control; META.json says the same;
#   - an update path leads from every released version to the default one.
# Prints one line per check and exits non-zero if any fails.
set -uo pipefail
cd "$(dirname "$0")/../.."

failures=0
check() {  # description, then a command that succeeds when it holds
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok: $what"
    else
        echo "FAILED: $what"
        failures=$((failures + 1))
    fi
}

version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" colcrypt.control)
check "colcrypt.control names a version ($version)" test -n "$version"
check "released SQL scripts are unchanged (sql/released.sha256)" sha256sum --check --strict sql/released.sha256
# META.json's own version and that of the extension it provides.
meta_versions=$(perl -MJSON::PP -e 'local $/; my $m = decode_json(<STDIN>);
    print join("\n", $m->{version}, map { $_->{version} } values %{ $m->{provides} }), "\n"' <META.json | sort -u)
check "META.json says version $version" test "$meta_versions" = "$version"

# Walk the update chain from each released version.
reaches_default() {
    local from=$1 next
    while [ "$from" != "$version" ]; do
        next=$(ls sql/colcrypt--"$from"--*.sql 2>/dev/null | sed -n "s|sql/colcrypt--$from--\(.*\)\.sql|\1|p" | head -1)
        [ -n "$next" ] || return 1
        from=$next
    done
}
for released in $(sed -n 's|.*sql/colcrypt--\([0-9.]*\)\.sql$|\1|p' sql/released.sha256); do
    check "an update path leads from $released to $version" reaches_default "$released"
done
[ "$failures" = 0 ]
