#!/usr/bin/env bash
# Starts the project's own PostgreSQL + PostGIS cluster in .data/postgres, unless DATABASE_URL
# points elsewhere; creates the database and the PostGIS extension. Idempotent.
#
# Layout: .data/postgres/ (owned by the postgres system user) holds cluster/, the socket and
# the log; .data/postgres/port records the TCP port, which config/settings.py reads.
# As root, initdb and postgres refuse to run, so both run as the postgres system user.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DATABASE_URL:-}" ]; then
  echo "db: DATABASE_URL is set; not starting the embedded PostGIS"
  exit 0
fi

PGBIN="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -1)/bin"
DBNAME="${CITYPIN_DB_NAME:-citypin}"
top="$(pwd)"
home=".data/postgres"

as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@");
  elif [ "$(id -un)" = postgres ]; then "$@";
  else sudo -u postgres "$@"; fi
}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
mkdir -p .data
if [ ! -e "$home" ]; then
  # The postgres user must be able to walk down to the cluster. A checkout under a private
  # home (mode 700) is not walkable: keep the cluster in /var/lib/postgresql and link it.
  if as_pg test -x "$top/.data" 2>/dev/null; then
    mkdir -p "$home"
  else
    real="/var/lib/postgresql/citypin-$(printf '%s' "$top" | sha1sum | cut -c1-10)"
    $SUDO mkdir -p "$real"
    ln -s "$real" "$home"
  fi
  $SUDO chown postgres:postgres "$home/"
fi
run="$(readlink -f "$home")"  # the real folder: postgres may not walk through a private home

if [ ! -f "$run/port" ]; then
  # First free TCP port from 54329 up, so two checkouts on one machine do not collide.
  port=54329
  while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port" | as_pg tee "$run/port" >/dev/null
fi
port="$(cat "$run/port")"

if [ ! -f "$run/cluster/PG_VERSION" ]; then
  as_pg "$PGBIN/initdb" -D "$run/cluster" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  cat <<CONF | as_pg tee -a "$run/cluster/postgresql.conf" >/dev/null
# Citypin embedded cluster. Durable: fsync, synchronous_commit and full_page_writes keep their
# defaults (on). Only the test database turns synchronous_commit off (tests/conftest.py).
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$run'
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_connections = 50
# Streaming replicas (read scale-out; the tests make one with pg_basebackup -R).
wal_level = replica
max_wal_senders = 10
CONF
fi

# Clusters made before durability was the default had these three off: turn them back on.
if grep -Eq '^(fsync|synchronous_commit|full_page_writes) = off' "$run/cluster/postgresql.conf"; then
  as_pg sed -i -E 's/^(fsync|synchronous_commit|full_page_writes) = off/#&  (turned on again: durable)/' \
    "$run/cluster/postgresql.conf"
  reload=1
fi

if ! as_pg "$PGBIN/pg_ctl" -D "$run/cluster" status >/dev/null 2>&1; then
  as_pg "$PGBIN/pg_ctl" -D "$run/cluster" -l "$run/postgres.log" -w -t 60 start >/dev/null
elif [ "$(stat -c %Z "$PGBIN/postgres")" -gt "$(sed -n 3p "$run/cluster/postmaster.pid")" ]; then
  # The server binary was installed after this server started (an unattended minor upgrade,
  # say): the old process would fail loading the new libraries (plpgsql.so: undefined symbol).
  echo "db: PostgreSQL was upgraded since the cluster started; restarting it"
  as_pg "$PGBIN/pg_ctl" -D "$run/cluster" -l "$run/postgres.log" -m fast -w -t 60 restart >/dev/null
elif [ -n "${reload:-}" ]; then
  as_pg "$PGBIN/pg_ctl" -D "$run/cluster" reload >/dev/null
fi

psql_pg() { PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

# Streaming replicas need WAL kept for replication, WAL senders, and a replication line in
# pg_hba.conf. PostgreSQL's defaults have all three; a cluster changed since gets them back: the
# pg_hba line by a reload, the two settings by one restart (only then: others may be using it).
if ! as_pg grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$run/cluster/pg_hba.conf"; then
  echo "host    replication     all             127.0.0.1/32            trust" | as_pg tee -a "$run/cluster/pg_hba.conf" >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$run/cluster" reload >/dev/null
fi
if [ "$(psql_pg -d postgres -c "select current_setting('wal_level') <> 'minimal'
                                   and current_setting('max_wal_senders')::int >= 4")" != t ]; then
  echo "db: turning on WAL for streaming replicas (wal_level, max_wal_senders); restarting once"
  psql_pg -d postgres -c "alter system set wal_level = replica" -c "alter system set max_wal_senders = 10"
  as_pg "$PGBIN/pg_ctl" -D "$run/cluster" -l "$run/postgres.log" -m fast -w -t 60 restart >/dev/null
fi
if [ "$(psql_pg -d postgres -c "select 1 from pg_database where datname = '$DBNAME'")" != 1 ]; then
  psql_pg -d postgres -c "create database \"$DBNAME\""
fi
psql_pg -d "$DBNAME" -c "create extension if not exists postgis" >/dev/null
# Durable whatever a tool may have set on the database itself (only test databases give it up).
psql_pg -d postgres -c "alter database \"$DBNAME\" reset synchronous_commit" >/dev/null
echo "db: PostGIS on 127.0.0.1:$port, database $DBNAME"
