#!/usr/bin/env bash
# Serves Citypin as a city runs it (`make serve`): gunicorn with DEBUG off, static files from
# WhiteNoise (compressed, cached for a year), and the background worker beside it. Both stop
# cleanly on SIGTERM or Ctrl-C. Behind a reverse proxy that terminates TLS (see the README);
# CITYPIN_TLS=0 serves plain HTTP for a trial on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG=0
if [ -z "${ALLOWED_HOSTS:-}" ]; then
  export ALLOWED_HOSTS="127.0.0.1,localhost"
  echo "serve: ALLOWED_HOSTS is not set; answering only for 127.0.0.1 and localhost"
fi
cores="$(nproc)"
workers="${WEB_CONCURRENCY:-$((2 * cores + 1))}"
bind="${BIND:-127.0.0.1:${PORT:-8000}}"

"$PY" manage.py check --deploy --fail-level ERROR >/dev/null
"$PY" manage.py createcachetable  # the rate-limit and lockout counters all processes share
# Static files are collected (hashed and compressed: a minute or two) when anything they come
# from is newer than the last collection.
manifest=staticfiles/staticfiles.json
if [ ! -f "$manifest" ] || [ -n "$(find incidents/static gis/static config node_modules/.package-lock.json \
      .venv/.citypin-installed -newer "$manifest" -print -quit 2>/dev/null)" ]; then
  echo "serve: collecting static files"
  rm -rf staticfiles
  "$PY" manage.py collectstatic --noinput -v 0
fi

"$PY" manage.py run_worker &
worker=$!
.venv/bin/gunicorn config.wsgi:application --bind "$bind" --workers "$workers" \
  --max-requests 2000 --max-requests-jitter 200 --graceful-timeout 20 --timeout 60 \
  --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}" \
  --access-logfile - --error-logfile - &
web=$!
stop() { kill -TERM "$web" "$worker" 2>/dev/null || true; }
trap stop TERM INT
echo "serve: Citypin on http://$bind/ ($workers gunicorn workers, DEBUG off); SIGTERM or Ctrl-C stops it"
# Whichever ends first (a signal, or one of the two dying) stops the other.
wait -n "$web" "$worker" || true
stop
wait "$web" "$worker" 2>/dev/null || true
echo "serve: stopped"
