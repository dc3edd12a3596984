#!/usr/bin/env bash
# Installs what Citypin needs and is missing: Debian/Ubuntu packages (PostgreSQL, the matching
# PostGIS, GDAL, gettext, Node.js/npm, Python 3.11+), the Python virtualenv with the project, the
# front-end packages from the npm registry, compiled translations, and — with "test" as the
# first argument — a chromium for the browser tests. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
FOR_TESTS="${1:-}"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_install() {
  [ -n "${APT_UPDATED:-}" ] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
# Tests on a command's output capture it first: piping it into a grep that quits at the first
# match is false under pipefail (the writer dies of SIGPIPE, status 141), although the text matched.
have() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
candidate() { local policy; policy="$(apt-cache policy "$1" 2>/dev/null || true)"; [[ "$policy" =~ Candidate:\ [0-9] ]]; }
pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

# Python 3.11 or newer (Ubuntu 22.04's python3 is 3.10: use its python3.11 package).
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  command -v python3.11 >/dev/null || apt_install python3.11 python3.11-venv
  PYTHON=python3.11
fi

need=()
[ -n "$(pg_major)" ] || need+=(postgresql postgresql-contrib)
have gdal-bin || need+=(gdal-bin)
have gettext || need+=(gettext)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need+=("$("$PYTHON" -c 'import sys; print(f"python3.{sys.version_info[1]}-venv")')")
if [ ${#need[@]} -gt 0 ]; then
  echo "install: apt-get install ${need[*]}"
  apt_install "${need[@]}"
fi
# PostGIS for the installed PostgreSQL major version (15 on Debian 12, 16 on Ubuntu 24.04).
have "postgresql-$(pg_major)-postgis-3" || apt_install "postgresql-$(pg_major)-postgis-3"
# Debian starts a system-wide cluster with the server package; Citypin uses its own (scripts/db.sh).

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
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

if [ "$FOR_TESTS" = test ] && [ ! -x /usr/bin/chromium ]; then
  if candidate chromium; then
    apt_install chromium  # Debian's; what tests/conftest.py prefers
  else
    # Ubuntu ships chromium only as a snap: let Playwright fetch its own build and libraries.
    $SUDO .venv/bin/playwright install --with-deps chromium
  fi
fi
