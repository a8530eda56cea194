# Shared by scripts/demo.sh and the bench scripts (sourced): who a throwaway
# cluster runs as, a scratch directory it owns, a free port, and its removal.

# initdb and pg_ctl refuse to run as root: the cluster belongs to "postgres"
# then, otherwise to the calling user.
if [ "$(id -u)" = 0 ]; then
    CLUSTER_USER=postgres
    as_cluster_user() { runuser -u postgres -- "$@"; }
else
    CLUSTER_USER=$(id -un)
    as_cluster_user() { "$@"; }
fi

# A new directory /tmp/colcrypt-$1.XXXXXX owned by the cluster user.
cluster_scratch_dir() {
    local dir
    dir=$(mktemp -d "/tmp/colcrypt-$1.XXXXXX") || return 1
    chmod 0755 "$dir"
    if [ "$(id -u)" = 0 ]; then chown "$CLUSTER_USER" "$dir"; fi
    echo "$dir"
}

# The first of the 100 ports from $1 on with no server on it (Unix socket or
# TCP); fails when there is none.
free_port() {
    local port=$1
    while [ -e "/tmp/.s.PGSQL.$port" ] || [ -e "/var/run/postgresql/.s.PGSQL.$port" ] ||
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
        [ "$port" -lt $(($1 + 100)) ] || return 1
    done
    echo "$port"
}

# Stop the cluster in $1/data, if it runs (fast, else immediate), and remove
# $1; $2 is the PostgreSQL bin directory.  Nothing when $1 is empty.
remove_throwaway_cluster() {
    local dir=$1 bindir=$2
    [ -n "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_cluster_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
            as_cluster_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
