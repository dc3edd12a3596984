#!/usr/bin/env bash
# Stops the embedded PostGIS cluster if it runs; with --delete, deletes it too (the cluster may
# live outside the checkout, linked from .data/postgres, and belongs to the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
home=".data/postgres"
[ -e "$home" ] || exit 0
run="$(readlink -f "$home")"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if [ -f "$run/cluster/PG_VERSION" ]; then
  PGBIN="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -1)/bin"
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$run/cluster" -m fast stop) || true
  else sudo -u postgres "$PGBIN/pg_ctl" -D "$run/cluster" -m fast stop || true; fi
fi
if [ "${1:-}" = --delete ]; then
  $SUDO rm -rf "$run"
  rm -rf "$home"
  echo "db: deleted $run"
fi
