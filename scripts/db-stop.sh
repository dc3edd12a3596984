#!/usr/bin/env bash
# Stops the embedded PostGIS cluster if it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
run="$(pwd)/.data/postgres"
[ -f "$run/cluster/PG_VERSION" ] || exit 0
PGBIN="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -1)/bin"
if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$run/cluster" -m fast stop || true
else sudo -u postgres "$PGBIN/pg_ctl" -D "$run/cluster" -m fast stop || true; fi
