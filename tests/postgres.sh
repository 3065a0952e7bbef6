# Sourced by run-all.sh: installs PostgreSQL from Debian when missing, starts a throwaway
# cluster on a free loopback port, exports GRIDPATROL_TEST_PG (a superuser URL the tests create
# their own databases with) and stops the cluster when the calling shell exits.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
  printf '\n=== installing postgresql ===\n'
  apt-get install -y -qq postgresql >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  # The package may start its default cluster; the tests use their own, so stop that one.
  service postgresql stop >/dev/null 2>&1 || true
fi
pg_dir=$(mktemp -d /tmp/gridpatrol-pg.XXXXXX)
chown postgres "$pg_dir"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U gp >/dev/null
stop_postgres() {
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT
# Throwaway cluster: durability is traded for speed (fsync off), which no deployment should copy.
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w start \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" >/dev/null
export GRIDPATROL_TEST_PG="postgres://gp@127.0.0.1:$pg_port/postgres"
export GRIDPATROL_REQUIRE_PG=1
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"
