# shellcheck shell=bash
# Debian's PostgreSQL on a loopback port with its own data directory.
# Source this file, then:
#   pg_start DIR PORT   initdb DIR/data (once), start on 127.0.0.1:PORT, wait until it accepts connections.
#                       Exports PG_URL=postgresql://postgres@127.0.0.1:PORT/postgres (trust auth, loopback only).
#   pg_stop DIR         stop the server started in DIR (fast shutdown, by its pid file).
# Runs as root by switching to the `postgres` user (initdb refuses root); as any
# other user it runs as that user. Installs `postgresql` with apt if it is missing.

pg_bindir() {
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [[ -z "$dir" ]]; then
        echo "postgres.sh: no PostgreSQL under /usr/lib/postgresql; installing Debian's postgresql" >&2
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends postgresql >&2
        dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
    fi
    [[ -n "$dir" ]] || { echo "postgres.sh: PostgreSQL binaries not found after install" >&2; return 1; }
    echo "$dir"
}

# Run a PostgreSQL binary as the owner of the data directory.
_pg_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local dir=${1:?usage: pg_start DIR PORT} port=${2:?usage: pg_start DIR PORT}
    local bin
    bin=$(pg_bindir) || return 1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        chown postgres: "$dir"
        # The postgres user must be able to reach DIR (mktemp dirs are 0700 root):
        # open only the ancestors it cannot already traverse.
        local parent=$dir
        while [[ "$parent" != / ]]; do
            parent=$(dirname "$parent")
            runuser -u postgres -- test -x "$parent" || chmod o+x "$parent"
        done
    fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        _pg_as_owner "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { echo "postgres.sh: initdb failed, see $dir/initdb.log:" >&2; tail -n 20 "$dir/initdb.log" >&2; return 1; }
    fi
    # Socket in DIR (not /var/run/postgresql, which may not exist); TCP on loopback only.
    _pg_as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" start >/dev/null \
        || { echo "postgres.sh: postgres did not start on port $port, see $dir/postgres.log:" >&2; tail -n 20 "$dir/postgres.log" >&2; return 1; }
    local i
    for i in $(seq 1 60); do
        "$bin/pg_isready" --host=127.0.0.1 --port="$port" --quiet && break
        sleep 0.5
    done
    "$bin/pg_isready" --host=127.0.0.1 --port="$port" --quiet \
        || { echo "postgres.sh: postgres on 127.0.0.1:$port is not accepting connections" >&2; return 1; }
    export PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

pg_stop() {
    local dir=${1:?usage: pg_stop DIR}
    local bin
    [[ -f "$dir/data/postmaster.pid" ]] || return 0
    bin=$(pg_bindir) || return 1
    _pg_as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=60 stop >/dev/null
}
