"""Shared set-up for benchmarks: a database of their own (citypin_bench, or CITYPIN_BENCH_DB), in
the benchmarks' own cluster (bench/_cluster.BenchCluster) unless DATABASE_URL names a server,
with the demo city's geography and configuration, filled with synthetic reports in SQL. Import
this module before anything from Django."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

BENCH_DB = os.environ.get("CITYPIN_BENCH_DB", "citypin_bench")


def use_bench_database() -> None:
    """Point Django at the bench database (created and migrated if new), with the demo city.

    Without DATABASE_URL, the bench databases live in the benchmarks' own cluster (BenchCluster,
    .data/bench-postgres, started here when needed), not in the project's: a filled 10,000,000-
    report database is 17 GB, and the streaming replica test (tests/replicas) copies the
    project's cluster whole. With DATABASE_URL (a benchmark's PrivateCluster, another server),
    the database is made on that server, as named."""
    import psycopg2

    db = settings.DATABASES["default"]
    if not os.environ.get("DATABASE_URL"):
        from bench._cluster import BenchCluster

        db.update(HOST="127.0.0.1", PORT=BenchCluster().ensure(), USER="postgres", PASSWORD="")
    admin = psycopg2.connect(dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                             port=db["PORT"])
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    admin.close()
    db["NAME"] = BENCH_DB
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from gis.models import Area

    if not Area.objects.filter(kind="ward").exists():
        from incidents.demo import CITY, DemoSummary, load_city, load_geography

        summary = DemoSummary()
        load_geography(summary)
        load_city(CITY, summary)


def database_url(scheme: str = "postgis") -> str:
    """The bench database's URL, for the servers and workers a benchmark starts (DATABASE_URL)."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"{scheme}://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"


# Synthetic reports, each alone in its incident, reported in the last 60 days (so both the
# hotspot window and the previous one hold data; or, with `ago`, in the `days` before that many
# days ago: history): 80% spread
# uniformly over the Cần Thơ box, 20% around 300 fixed centres (σ ≈ 80 m), so DBSCAN has real
# clusters to find. Categories uniform; 70% new, 10% acknowledged, 10% in progress, 10% resolved
# (or `statuses`, drawn uniformly). All in the operations center's department, or with
# `departments`, spread over them by id with due times of a day (acknowledge) and a week (resolve).
POINTS_SQL = """
CREATE TEMP TABLE bench_pts AS
WITH centres AS (
    SELECT c, ST_SetSRID(ST_MakePoint(105.45 + mod(c * 7919, 1000) / 1000.0 * 0.6,
                                      9.65 + mod(c * 104729, 1000) / 1000.0 * 0.5), 4326)::geography AS g
    FROM generate_series(0, 299) c
),
cats AS (SELECT array_agg(id ORDER BY id) AS ids FROM incidents_category)
SELECT n,
       CASE WHEN random() < 0.2
            THEN ST_Project((SELECT g FROM centres WHERE c = mod(n, 300)), abs(random() + random() + random() - 1.5) * 110,
                            random() * 2 * pi())::geometry
            ELSE ST_SetSRID(ST_MakePoint(105.35 + random() * 0.85, 9.55 + random() * 0.7), 4326) END AS g,
       cats.ids[1 + floor(random() * cardinality(cats.ids))::int] AS category_id,
       now() - make_interval(days => %(ago)s) - random() * make_interval(days => %(days)s) AS t,
       statuses[1 + floor(random() * cardinality(statuses))::int] AS status,
       departments[1 + mod(n, cardinality(departments))] AS department_id
FROM generate_series(%(first)s, %(last)s) n CROSS JOIN cats
CROSS JOIN (SELECT %(statuses)s::text[] AS statuses, %(departments)s::bigint[] AS departments) s;

INSERT INTO incidents_incident (id, category_id, department_id, status, location, public_location, footprint,
                                description, report_count, supporter_count, first_reported_at, last_reported_at,
                                resolved_at, version, created_at, updated_at)
SELECT n, category_id, department_id, status, g, g, g, '', 1, 0, t, t,
       CASE WHEN status = 'resolved' THEN t END, 1, t, t
FROM bench_pts;

INSERT INTO incidents_report (id, public_id, category_id, location, public_location, address, description,
                              public_description, attributes, status, department_id, routing, source, reporter_name,
                              reporter_email, reporter_phone, created_at, updated_at, resolved_at, supporter_count,
                              version, incident_id, priority, language, acknowledge_due_at, resolve_due_at)
SELECT n, 'BX-' || n, category_id, g, g, '', '', '', '{}', status, department_id, '{}', 'api', '', '', '', t, t,
       CASE WHEN status = 'resolved' THEN t END, 0, 1, n, 2, '',
       CASE WHEN %(due)s THEN t + interval '1 day' END, CASE WHEN %(due)s THEN t + interval '7 days' END
FROM bench_pts;

DROP TABLE bench_pts;
SELECT setval(pg_get_serial_sequence('incidents_report', 'id'), (SELECT max(id) FROM incidents_report));
SELECT setval(pg_get_serial_sequence('incidents_incident', 'id'), (SELECT max(id) FROM incidents_incident));
"""


def empty() -> None:
    """Start from no reports (and nothing made from them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_hotspot, incidents_hotspotrun, incidents_reportevent, "
                       "incidents_outboxmessage, incidents_supporter, incidents_photo, incidents_report, "
                       "incidents_incident RESTART IDENTITY CASCADE")


STATUSES = ["new"] * 7 + ["acknowledged", "in_progress", "resolved"]


def grow_to(target: int, days: int = 60, *, ago: int = 0, statuses: list[str] | None = None,
            departments: list[int] | None = None, bulk: bool = False) -> None:
    """Add synthetic reports, dated within the `days` before `ago` days ago, until the table holds
    `target`; with `statuses` drawn from those, with `departments` spread over them (with due times).

    `bulk` (millions of rows): the tables' secondary indexes are dropped and built again after,
    and their own triggers (the tiles' cell counts) are off meanwhile: the rows it adds are then
    not in the tile cells. Batches and index builds run on BULK_SESSIONS sessions at once.
    Interrupted, it leaves the indexes missing: empty() the database."""
    from django.db import connection

    from incidents.cells import fold_tile_cells
    from incidents.models import Department

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM incidents_report")
        count, max_id = cursor.fetchone()
        cursor.execute("SELECT coalesce(max(id), 0) FROM incidents_incident")
        max_id = max(max_id, cursor.fetchone()[0])
        if count >= target:
            return
        due = departments is not None
        departments = departments or [Department.objects.get(is_operations_center=True).pk]
        start = time.perf_counter()
        rebuild = _drop_indexes(cursor) if bulk else []
        step = 200_000
        first = max_id + 1
        remaining = target - count
        batches = []
        while remaining > 0:
            batch = min(step, remaining)
            batches.append((POINTS_SQL, {"first": first, "last": first + batch - 1, "departments": departments,
                                         "days": days, "ago": ago, "statuses": statuses or STATUSES, "due": due}))
            first += batch
            remaining -= batch
        if bulk:
            _in_sessions(batches)
            cursor.execute(POINTS_SQL.split("DROP TABLE bench_pts;")[1])  # the sequences past every batch
            _in_sessions([(statement, None) for statement in rebuild if statement.startswith("CREATE")],
                         "SET maintenance_work_mem = '512MB'")
            for statement in rebuild:
                if not statement.startswith("CREATE"):
                    cursor.execute(statement)
        else:
            for sql, params in batches:
                cursor.execute(sql, params)
            fold_tile_cells()  # as the worker would: the tiles read the kept counts, not a backlog
        vacuum("incidents_report")
        vacuum("incidents_incident")
        print(f"  (filled to {target:,} reports in {time.perf_counter() - start:.0f} s)", flush=True)


BULK_TABLES = ("incidents_report", "incidents_incident")
BULK_SESSIONS = 4


def raw_connection(database: str | None = None, **options):
    """A psycopg2 connection of its own to the bench database (or `database`), in autocommit:
    the raw baselines' way in, without Django."""
    import psycopg2

    db = settings.DATABASES["default"]
    conn = psycopg2.connect(dbname=database or db["NAME"], user=db["USER"], password=db["PASSWORD"],
                            host=db["HOST"], port=db["PORT"], **options)
    conn.autocommit = True
    return conn


def _in_sessions(statements: list[tuple[str, dict | None]], setup: str = "") -> None:
    """Run the statements on BULK_SESSIONS connections of their own at once, in autocommit."""
    from concurrent.futures import ThreadPoolExecutor

    def work(share: list[tuple[str, dict | None]]) -> None:
        conn = raw_connection()
        try:
            with conn.cursor() as cursor:
                if setup:
                    cursor.execute(setup)
                for sql, params in share:
                    cursor.execute(sql, params)
        finally:
            conn.close()

    with ThreadPoolExecutor(BULK_SESSIONS) as pool:
        list(pool.map(work, [statements[i::BULK_SESSIONS] for i in range(BULK_SESSIONS)]))


def _drop_indexes(cursor) -> list[str]:
    """Drop the bulk tables' indexes that back no constraint and turn their triggers off;
    return the statements that restore both."""
    cursor.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i
                      WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
                        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
                   [list(BULK_TABLES)])
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    for table in BULK_TABLES:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    return [definition for _name, definition in indexes] + [f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in BULK_TABLES]


def vacuum(table: str) -> None:
    """As autovacuum would: statistics, and the visibility map that index-only scans rely on.

    A pass can leave every page unmarked (seen while an autovacuum worker held an older
    snapshot), which sends every index-only scan to the table and slows the baselines as much as
    the code measured; so again, a moment later, until the map covers the table."""
    from django.db import connection

    with connection.cursor() as cursor:
        for _ in range(20):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
            cursor.execute("SELECT relallvisible >= 0.95 * relpages FROM pg_class WHERE relname = %s", [table])
            if cursor.fetchone()[0]:
                return
            time.sleep(1)
    print(f"  (warning: {table} is not all-visible; index-only scans will read the table)")


def timed(fn, repeat: int = 1) -> float:
    """Best wall time of `repeat` runs of fn(), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
