#!/usr/bin/env bash
# Backs up Citypin's database (DATABASE_URL, or the embedded cluster) with pg_dump in its custom
# format: `make backup` writes backups/citypin-<date>.dump (or the file named as the argument).
# Restore with scripts/restore.sh. Photos live in MEDIA_ROOT (media/): back that folder up too.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -1)/bin"
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:$(cat .data/postgres/port)/${CITYPIN_DB_NAME:-citypin}}"
url="postgresql://${url#*://}"  # libpq does not know Django's postgis:// scheme
out="${1:-backups/citypin-$(date +%Y%m%d-%H%M%S).dump}"
mkdir -p "$(dirname "$out")"
"$PGBIN/pg_dump" --format=custom --no-owner --no-privileges --file "$out" "$url"
echo "backup: $out ($(du -h "$out" | cut -f1))"
