# Shared by scripts/demo.sh and test/run_all.sh (sourced): the Debian 12
# packages colcrypt needs, and installing the missing ones (apt, as root or
# through sudo).  Packages already installed are left alone, so a machine
# that has everything installs nothing and needs no network.

PG_MAJOR=15
# Building and installing the extension.
BUILD_PACKAGES=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libssl-dev g++ make cmake)
# Running every test suite as well: GoogleTest and JSON for the unit tests,
# IPC::Run for PostgreSQL::Test::Cluster, libpq for the client tests,
# clang and its runtimes for the fuzzer, psycopg2 and Django for the driver
# and ORM tests.
TEST_PACKAGES=("${BUILD_PACKAGES[@]}" libgtest-dev nlohmann-json3-dev libipc-run-perl libpq-dev
    clang libclang-rt-dev python3-psycopg2 python3-django)

run_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# missing_packages PKG...: the ones dpkg does not list as installed.
missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
    done
}

# ensure_packages PKG...: install what is missing; prints what it does.
ensure_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "all present: $*"
        return 0
    fi
    echo "installing: ${missing[*]}"
    run_as_root apt-get update -qq &&
        run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
