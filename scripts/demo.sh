#!/usr/bin/env bash
# colcrypt guided demo (`make demo`).
#
# On a Debian 12 machine, as root or as a user with sudo:
#   1. installs what is missing (PostgreSQL 15 and the build tools),
#   2. builds and installs the extension,
#   3. starts a throwaway PostgreSQL server in a temporary directory, with
#      colcrypt preloaded and a freshly generated master key,
#   4. walks through encrypting columns and shows what is (not) on disk.
# The server is stopped and the directory removed when the script ends,
# whether it succeeds, fails or is interrupted.  Exit status non-zero if any
# step fails.
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/scripts/lib/packages.sh"

if [ -t 1 ]; then
    BOLD=$'\e[1m'; DIM=$'\e[2m'; GREEN=$'\e[32m'; RED=$'\e[31m'; RESET=$'\e[0m'
else
    BOLD=''; DIM=''; GREEN=''; RED=''; RESET=''
fi

STEP=0
heading() { STEP=$((STEP + 1)); printf '\n%s== %d. %s ==%s\n' "$BOLD" "$STEP" "$1" "$RESET"; }
explain() { printf '%s\n' "$@" | fold -s -w 78 | sed 's/^/   /'; }
note() { printf '%s-> %s%s\n' "$GREEN" "$*" "$RESET"; }
fail() { printf '%sdemo failed: %s%s\n' "$RED" "$*" "$RESET" >&2; exit 1; }


# --- cleanup, also on error and interrupt --------------------------------------
DEMO_DIR=''
SERVER_STARTED=0
cleanup() {
    local status=$?
    trap - EXIT INT TERM ERR
    if [ "$SERVER_STARTED" = 1 ] && [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
        printf '\n%sstopping the demo server%s\n' "$DIM" "$RESET"
        as_cluster_user "$BINDIR/pg_ctl" -D "$DEMO_DIR/data" -m fast -w stop >/dev/null 2>&1 ||
            as_cluster_user "$BINDIR/pg_ctl" -D "$DEMO_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$DEMO_DIR" ] && [ -d "$DEMO_DIR" ]; then
        rm -rf "$DEMO_DIR"
        printf '%sremoved %s%s\n' "$DIM" "$DEMO_DIR" "$RESET"
    fi
    if [ "$status" = 0 ]; then
        printf '\n%sdemo finished successfully%s\n' "$GREEN" "$RESET"
    else
        printf '\n%sdemo FAILED (exit status %d)%s\n' "$RED" "$status" "$RESET" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'printf "%serror at line %d: %s%s\n" "$RED" "$LINENO" "$BASH_COMMAND" "$RESET" >&2' ERR

# ==============================================================================
heading "Prerequisites"
explain "PostgreSQL $PG_MAJOR with its server headers, OpenSSL headers and a C++ toolchain.  Only missing packages are installed."
ensure_packages "${BUILD_PACKAGES[@]}" | sed "s/^/   /" || fail "could not install the packages"

PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
[ -x "$PG_CONFIG" ] || fail "$PG_CONFIG not found"
BINDIR=$("$PG_CONFIG" --bindir)

# ==============================================================================
heading "Build and install colcrypt"
explain "make builds colcrypt.so with PGXS; make install copies it and the extension SQL into the PostgreSQL $PG_MAJOR directories."
cd "$REPO"
if ! build_output=$(make -s -j2 PG_CONFIG="$PG_CONFIG" 2>&1); then
    printf '%s\n' "$build_output"
    fail "build failed"
fi
run_as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
note "installed $("$PG_CONFIG" --pkglibdir)/colcrypt.so"

# ==============================================================================
heading "A throwaway server"
. "$REPO/scripts/lib/throwaway_cluster.sh"
DEMO_DIR=$(cluster_scratch_dir demo) || fail "could not create a scratch directory"
DATA="$DEMO_DIR/data"
LOG="$DEMO_DIR/server.log"

PORT=$(free_port 5433) || fail "no free port between 5433 and 5532"

explain "Data directory $DATA (owner: $CLUSTER_USER), port $PORT, Unix socket in $DEMO_DIR, no TCP." \
    "colcrypt is in shared_preload_libraries: the postmaster loads the master key once at start.  No key is configured, so colcrypt generates one next to the data directory."
as_cluster_user "$BINDIR/initdb" -D "$DATA" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >"$DEMO_DIR/initdb.log" 2>&1 ||
    { cat "$DEMO_DIR/initdb.log"; fail "initdb failed"; }
as_cluster_user tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# colcrypt demo
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DEMO_DIR'
shared_preload_libraries = 'colcrypt'
EOF
SERVER_STARTED=1
as_cluster_user "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w start >/dev/null ||
    { cat "$LOG"; fail "the server did not start"; }
note "server running (pid $(head -1 "$DATA/postmaster.pid"))"
echo "   server log:"
grep 'colcrypt:' "$LOG" | sed 's/^[^]]*] /     /'
KEY_FILE="$DEMO_DIR/colcrypt_data.key"
echo "   key file: $(ls -l "$KEY_FILE" | awk '{print $1, $3}') $KEY_FILE"

# Run SQL (from stdin) in database "demo", echoing each statement first.
sql() {
    if ! as_cluster_user "$BINDIR/psql" -X -q -e -v ON_ERROR_STOP=1 -P footer=off \
        -h "$DEMO_DIR" -p "$PORT" -U postgres -d "${1:-demo}" -f - 2>&1 |
        sed -e 's/^\(CREATE\|INSERT\|SELECT\|SET\|ALTER\|CHECKPOINT\)\b/sql> \1/'; then
        fail "SQL step failed"
    fi
}
# One value, no decoration.
sql_value() {
    as_cluster_user "$BINDIR/psql" -X -A -t -v ON_ERROR_STOP=1 \
        -h "$DEMO_DIR" -p "$PORT" -U postgres -d demo -c "$1"
}
sql postgres <<<"CREATE DATABASE demo;"

# ==============================================================================
heading "Create the extension and a keyring"
explain "A keyring holds a data key and a blind-index key, both stored wrapped (encrypted) by the master key.  The wrapped keys are rows in colcrypt.key_versions; the master key itself never enters the database."
sql <<'SQL'
CREATE EXTENSION colcrypt;
SELECT colcrypt.create_key('pii');
SQL

# ==============================================================================
heading "A table with encrypted columns"
explain "The keyring is the type modifier: email and ssn are encrypted under 'pii'.  Applications insert and read plain text."
sql <<'SQL'
CREATE TABLE users (
    id    int PRIMARY KEY,
    name  text,
    email colcrypt.encrypted_text('pii'),
    ssn   colcrypt.encrypted_text('pii')
);
INSERT INTO users VALUES
    (1, 'Alice', 'alice@example.com', '078-05-1120'),
    (2, 'Bob',   'bob@example.org',   '219-09-9999'),
    (3, 'Zoë',   'zoe@example.net',   NULL);
SELECT * FROM users ORDER BY id;
SQL

# ==============================================================================
heading "What is stored: describe()"
explain "describe() reads a value's header without decrypting it: keyring, key version, blind-index bits, size on disk, format and algorithm."
sql <<'SQL'
SELECT id, d.* FROM users, colcrypt.describe(email) d ORDER BY id;
SQL

# ==============================================================================
heading "Ciphertext output mode"
explain "With colcrypt.output_mode = ciphertext the same query returns each value's authenticated envelope.  This is the mode for dumps and replication roles: the input accepts envelopes back and verifies them."
sql <<'SQL'
SET colcrypt.output_mode = ciphertext;
SELECT id, name, email, ssn FROM users ORDER BY id;
SQL

# ==============================================================================
heading "On disk: no plaintext in the heap file"
explain "Next to users, users_plain holds the same e-mail addresses in an ordinary text column.  After a CHECKPOINT both heap files are on disk; we look for the address in each."
sql <<'SQL'
CREATE TABLE users_plain (id int PRIMARY KEY, name text, email text);
INSERT INTO users_plain SELECT id, name, email::text FROM users;
CHECKPOINT;
SQL
heap_enc="$DATA/$(sql_value "SELECT pg_relation_filepath('users')")"
heap_plain="$DATA/$(sql_value "SELECT pg_relation_filepath('users_plain')")"
count_in() { as_cluster_user grep -c -a -F "$1" "$2" || true; }
excerpt() {  # the last bytes of the page, where PostgreSQL puts the first tuples
    if command -v xxd >/dev/null; then
        as_cluster_user tail -c "$2" "$1" | xxd | head -n 12
    else
        as_cluster_user tail -c "$2" "$1" | od -A d -c | head -n 12
    fi
}
enc_hits=$(count_in 'alice@example.com' "$heap_enc")
plain_hits=$(count_in 'alice@example.com' "$heap_plain")
echo "   grep -c 'alice@example.com' $heap_enc   -> $enc_hits"
echo "   grep -c 'alice@example.com' $heap_plain -> $plain_hits"
echo
echo "   encrypted table, end of the page:"
excerpt "$heap_enc" 160 | sed 's/^/     /'
echo
echo "   plain table, end of the page:"
excerpt "$heap_plain" 96 | sed 's/^/     /'
[ "$enc_hits" = 0 ] || fail "the encrypted heap file contains the plaintext"
[ "$plain_hits" -gt 0 ] || fail "the plain heap file should contain the plaintext"
note "the plaintext is only in the plain table's file"

# ==============================================================================
heading "Encrypt an existing column"
explain "ALTER TABLE ... TYPE rewrites the table: every value of users_plain.email is encrypted under 'pii'.  Queries keep working unchanged."
sql <<'SQL'
ALTER TABLE users_plain
    ALTER COLUMN email TYPE colcrypt.encrypted_text('pii')
    USING email::colcrypt.encrypted_text('pii');
SELECT * FROM users_plain ORDER BY id;
SELECT id, d.keyring, d.stored_bytes FROM users_plain, colcrypt.describe(email) d ORDER BY id;
CHECKPOINT;
SQL
heap_plain="$DATA/$(sql_value "SELECT pg_relation_filepath('users_plain')")"
plain_hits=$(count_in 'alice@example.com' "$heap_plain")
echo "   grep -c 'alice@example.com' $heap_plain (rewritten) -> $plain_hits"
[ "$plain_hits" = 0 ] || fail "the rewritten heap file still contains the plaintext"

# ==============================================================================
heading "The keys"
explain "colcrypt.keys lists keyrings and data-key versions with the fingerprint of the master key that wraps them (never key material).  It matches the fingerprint in the server log."
sql <<'SQL'
SELECT keyring, version, state, master_key_fingerprint, index_term_bits FROM colcrypt.keys;
SQL
fp=$(sql_value "SELECT master_key_fingerprint FROM colcrypt.keys WHERE keyring = 'pii'")
grep -q "fingerprint $fp" "$LOG" || fail "fingerprint $fp not in the server log"
note "server log: $(grep -o 'master key loaded from .*' "$LOG" | tail -1)"
