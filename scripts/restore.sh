#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into Citypin's database (DATABASE_URL, or the
# embedded cluster), replacing what is there: `make restore FILE=backups/….dump`. Stop
# `make run`/`make serve` first. The database must exist (scripts/db.sh creates the embedded one).
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:?usage: scripts/restore.sh FILE}"
PGBIN="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -1)/bin"
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:$(cat .data/postgres/port)/${CITYPIN_DB_NAME:-citypin}}"
url="postgresql://${url#*://}"
"$PGBIN/pg_restore" --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname "$url" "$file"
echo "restore: $file restored"
