#!/usr/bin/env bash
# Installs what Citypin needs and is missing: Debian packages (PostgreSQL, the matching PostGIS,
# GDAL, chromium for the browser tests), the Python virtualenv with the project, and the
# front-end packages from the npm registry. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_pkgs=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

if [ -z "$(pg_major)" ]; then need_pkgs+=(postgresql postgresql-contrib); fi
for p in gdal-bin gettext chromium nodejs npm python3-venv; do
  # nodejs/npm may come from elsewhere (a preinstalled Node): only ask apt if the command is absent
  case "$p" in
    nodejs) command -v node >/dev/null || need_pkgs+=(nodejs) ;;
    npm) command -v npm >/dev/null || need_pkgs+=(npm) ;;
    python3-venv) python3 -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv) ;;
    *) have "$p" || need_pkgs+=("$p") ;;
  esac
done
if [ -n "$(pg_major)" ] && ! have "postgresql-$(pg_major)-postgis-3"; then
  need_pkgs+=("postgresql-$(pg_major)-postgis-3")
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "install: apt-get install ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  # PostgreSQL itself may have just arrived: its PostGIS package needs the major version.
  if ! have "postgresql-$(pg_major)-postgis-3"; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-$(pg_major)-postgis-3" >/dev/null
  fi
fi
# Debian starts a system-wide cluster with the server package; Citypin uses its own (scripts/db.sh).

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.citypin-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if ! { .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -e '.[dev]'; } > .venv/pip.log 2>&1; then
    cat .venv/pip.log
    exit 1
  fi
  touch "$stamp"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi

# Translations (.mo files are built, not committed).
.venv/bin/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
