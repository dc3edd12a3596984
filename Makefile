# Citypin: two commands do all the set-up (see README).
#   make run   install what is missing, start the embedded PostGIS, migrate, load the demo, serve
#   make test  the same set-up, the import rules (import-linter) and ruff, then the whole test suite
#   make serve production serving (gunicorn, DEBUG off, behind a TLS proxy); see the README
PY      := .venv/bin/python
PORT    ?= 8000
# pytest processes (pytest-xdist; each file stays in one process, each process has its own test
# database); TEST_WORKERS=0 runs in this process, for a debugger.
TEST_WORKERS ?= 2

.PHONY: run serve test fuzz setup db migrate demo bench stop-db clean-db backup restore

setup:
	@bash scripts/install.sh

db: setup
	@bash scripts/db.sh

migrate: db
	@$(PY) manage.py migrate --noinput -v 0

demo: migrate
	@$(PY) manage.py load_demo

run: demo
	@echo "Citypin on http://127.0.0.1:$(PORT)/  (Ctrl-C stops)"
	@$(PY) manage.py run_worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production: gunicorn + WhiteNoise, DEBUG off, the worker beside it (see the README's Deployment).
serve: migrate
	@bash scripts/serve.sh

test: db
	@bash scripts/install.sh test
	@.venv/bin/ruff check --quiet .
	@.venv/bin/lint-imports --no-cache > .venv/lint-imports.log || { cat .venv/lint-imports.log; exit 1; }
	@$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The schema fuzz test of `make test` with many more examples per operation (default 500).
fuzz: db
	@bash scripts/install.sh test
	@CITYPIN_FUZZ_EXAMPLES=$${CITYPIN_FUZZ_EXAMPLES:-500} $(PY) -m pytest -q tests/api/test_schema.py -k every_operation

bench: demo
	@$(PY) bench/route.py
	@$(PY) bench/incidents.py
	@$(PY) bench/console.py
	@$(PY) bench/ogc.py
	@$(PY) bench/tiles.py
	@$(PY) bench/open311.py
	@$(PY) bench/exports.py
	@$(PY) bench/outbox.py
	@CITYPIN_BENCH_DB=citypin_bench_pages $(PY) bench/pages.py
	@$(PY) bench/storm.py
	@CITYPIN_BENCH_DB=citypin_bench_scale $(PY) bench/scale.py
	@CITYPIN_BENCH_DB=citypin_bench_mail $(PY) bench/notices.py
	@CITYPIN_BENCH_DB=citypin_bench_alerts $(PY) bench/alerts.py
	@CITYPIN_BENCH_DB=citypin_bench_offline $(PY) bench/offline.py
	@CITYPIN_BENCH_DB=citypin_bench_feeds $(PY) bench/feeds.py

# pg_dump of the database to backups/ (or FILE=…); restore one with `make restore FILE=…`.
backup: db
	@bash scripts/backup.sh $(FILE)

restore: db
	@bash scripts/restore.sh $(FILE)

stop-db:
	@bash scripts/db-stop.sh

clean-db: stop-db
	@bash scripts/db-stop.sh --delete
