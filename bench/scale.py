"""The hot paths at 100,000, 1,000,000 and 10,000,000 reports, in one run, each beside a
baseline measured at the same size (the same SQL, or the nearest bare SQL, raw through psycopg2):

1. intake: submit_report (incidents/intake.py), median and p95 over a few hundred reports at
   points inside the province, each rolled back; baseline: a raw single-statement INSERT of a
   report row (every index of the table maintained, nothing else);
2. duplicate candidates: incidents.matching.candidates(); baseline: the bare prepared ST_DWithin
   of bench/incidents.py on the same index;
3. the public bbox query: read/reports.report_page (what GET /api/v1/reports/?bbox= runs:
   ReportQuery + the public projection), map-sized boxes 1–6 km across, and an OGC API items page
   with a bbox (/ogc/collections/reports/items through Django's WSGI handler, bench/ogc.py);
   baselines: their very SQL and parameters raw; beside them the same windows read by the box
   (`&&`, migration 0027's index) instead of its cells (migration 0028), raw, and the buffers of
   a page over the first PAGE_BOXES boxes;
4. the console list of one department's agent (bench/console.py's queries); baseline: its SQL raw;
5. the incremental hotspot refresh (incidents/hotspots.py) after 1,000 new reports (1% of the
   recent ones, the same number at each size); baseline: the full refresh at the same size.

Measured at 3M on the way too. Then the ratios 1M/100k, 3M/1M, 10M/3M and 10M/1M of each figure
(target: 10M/1M ≤ 1.3), and for each path the buffers one representative query touched at each
size (EXPLAIN (ANALYZE, BUFFERS)); figures already printed stand if a run is stopped on the way.

The table grows as a city's does: the first 100,000 reports are the last 60 days (~1,700 a day,
a large city; 70% new, spread over 10 departments); the next ones are history before them at the
same rate (1% still open), so that 10M is ~16 years of that city (or 4 months of a 30M-a-year
nation). What is recent — the work of the console, the hotspots, the open incidents near a new
report — stays the same size; only the past grows. With --partitioned, at the largest size the
bbox and console queries also run on a copy of incidents_report partitioned by month.

    .venv/bin/python bench/scale.py [--max 10000000] [--keep] [--upto 1000000]

Runs in its own database (CITYPIN_BENCH_DB, e.g. citypin_bench_scale), emptied first unless
--keep (sizes the table already exceeds are then skipped). 10M reports take ~12 GB and an hour
or more to fill on a 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import time
from pathlib import Path
from unittest import mock

os.environ["OPEN_DATA_READ_RATE"] = "1000000/s"  # as bench/ogc.py: no 429 from the items page

import _db  # noqa: E402

_db.use_bench_database()

import console  # noqa: E402  (bench/console.py: its queries, agent and raw SQL)
import ogc  # noqa: E402  (bench/ogc.py: the items page through WSGI, and raw)
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents.access import staff_scope  # noqa: E402
from incidents.hotspots import refresh_hotspots  # noqa: E402
from incidents.intake import ReportDraft, submit_report  # noqa: E402
from incidents.matching import CANDIDATES_SQL, candidates  # noqa: E402
from incidents.models import Category, Department, Report  # noqa: E402
from incidents.read import reports  # noqa: E402
from incidents.read.geojson import base_params  # noqa: E402
from incidents.read.query import ReportQuery  # noqa: E402
from incidents.read.reports import DEFAULT_PAGE, REPORT_PAGE_SQL, report_page  # noqa: E402
from incidents.read.staff import report_list  # noqa: E402

# bench/incidents.py shares its name with the `incidents` package: loaded by path.
_spec = importlib.util.spec_from_file_location("bench_incidents", Path(__file__).with_name("incidents.py"))
bench_incidents = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_incidents)

RECENT_DAYS = 60  # the smallest size's reports are those of the last RECENT_DAYS days
HISTORY_STATUSES = ["new"] + ["resolved"] * 59 + ["closed"] * 40  # 1% of the past still open
TARGET = 1.3

# The raw intake baseline: one INSERT … SELECT copying a report under a new public id and
# primary key, rolled back (every index of the table maintained, no trigger skipped).
RAW_INSERT_SQL = """
INSERT INTO incidents_report (id, public_id, category_id, location, public_location, address, description,
    public_description, attributes, status, department_id, routing, source, reporter_name, reporter_email,
    reporter_phone, created_at, updated_at, supporter_count, version, incident_id, priority, language)
SELECT nextval(pg_get_serial_sequence('incidents_report', 'id')), 'RAW-' || %(n)s, category_id,
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), address,
       description, public_description, attributes, 'new', department_id, routing, source, '', '', '', now(), now(),
       0, 1, incident_id, priority, language
FROM incidents_report WHERE id = %(id)s
"""

# Copy of incidents_report partitioned by month of created_at, with the indexes the bbox and
# console queries use (the public and exact points' GiST, the keyset and department orders).
# Made once (it takes a while at 10M); a later run tops it up with the reports added since.
PARTITIONED_SQL = """
CREATE TABLE bench_report_by_month (LIKE incidents_report INCLUDING DEFAULTS) PARTITION BY RANGE (created_at);
DO $$
DECLARE m date;
BEGIN
  FOR m IN SELECT generate_series(date_trunc('month', (SELECT min(created_at) FROM incidents_report))::date,
                                  date_trunc('month', now() + interval '1 month')::date, interval '1 month')::date LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF bench_report_by_month FOR VALUES FROM (%L) TO (%L)',
                   'bench_report_' || to_char(m, 'YYYYMM'), m, m + interval '1 month');
  END LOOP;
END $$;
INSERT INTO bench_report_by_month SELECT * FROM incidents_report ORDER BY created_at;
CREATE INDEX ON bench_report_by_month USING gist (public_location);
CREATE INDEX ON bench_report_by_month USING gist (location);
CREATE INDEX ON bench_report_by_month (created_at DESC, id DESC);
CREATE INDEX ON bench_report_by_month (department_id, created_at DESC, id DESC);
CREATE INDEX ON bench_report_by_month (status, department_id);
ANALYZE bench_report_by_month;
"""
TOP_UP_SQL = """
INSERT INTO bench_report_by_month SELECT * FROM incidents_report
WHERE id > (SELECT coalesce(max(id), 0) FROM bench_report_by_month);
ANALYZE bench_report_by_month;
"""

figures: dict[str, dict[int, tuple[float, float]]] = {}  # path -> size -> (figure, baseline), ms
buffers: dict[str, dict[int, str]] = {}


def record(path: str, size: int, mine: float, base: float, unit: str = "ms") -> None:
    figures.setdefault(path, {})[size] = (mine, base)
    print(f"   {path:34} {mine:9.2f} {unit}   baseline {base:9.2f} {unit}   ({mine / base:.2f}×)", flush=True)


def explain(path: str, size: int, sql: str, params) -> int:
    """One representative query's shared buffers (hit + read) and time, at this size."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)  # params None: values in the SQL
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    top = plan["Plan"]
    pages = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    buffers.setdefault(path, {})[size] = f"{pages} pages"
    print(f"     EXPLAIN: {pages:,} buffers ({top.get('Shared Read Blocks', 0):,} read), "
          f"{plan['Execution Time']:.1f} ms, top node {top['Node Type']}", flush=True)
    return pages


def page_buffers(boxes: list[QueryDict]) -> float:
    """The shared buffers (hit + read) of a box's page, all its windows, averaged over the boxes."""
    total = 0
    for q in boxes:
        for sql, _ in public_statements([q]):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                transaction.set_rollback(True)
            top = (plan[0] if isinstance(plan, list) else json.loads(plan)[0])["Plan"]
            total += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return total / len(boxes)


REPEAT = [3]  # best of this many passes over the queries (--repeat)
PAGE_BOXES = 40  # the public list's buffers a page: the mean over the first this many boxes


def per_query_ms(fn, n: int) -> float:
    return _db.timed(fn, repeat=REPEAT[0]) / n * 1000


def run_raw(statements) -> None:
    with connection.connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)  # params None: the SQL as run, values in it
            cursor.fetchall()


def intake_points(n: int) -> list[tuple[float, float]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(d.geom), ST_Y(d.geom) FROM ST_Dump(ST_GeneratePoints("
                       "(SELECT boundary FROM geo_area WHERE kind = 'province' LIMIT 1), %s, 5)) d", [n])
        return cursor.fetchall()


def intake(size: int, pts) -> None:
    """submit_report and the raw INSERT, alternately, each in a transaction rolled back."""
    mine, raw = [], []
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM incidents_report")
        some_id = cursor.fetchone()[0]
    for i, (lon, lat) in enumerate(pts):
        with transaction.atomic():
            start = time.perf_counter()
            submit_report(ReportDraft(category_code="garbage", lon=lon, lat=lat, description="Rác tồn đọng"),
                          notify=False)
            mine.append(time.perf_counter() - start)
            transaction.set_rollback(True)
        with transaction.atomic(), connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute(RAW_INSERT_SQL, {"n": i, "lon": lon, "lat": lat, "id": some_id})
            raw.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    warm = len(pts) // 10  # the first tenth warms caches
    mine, raw = sorted(mine[warm:]), sorted(raw[warm:])
    p95 = int(0.95 * len(mine))
    record("1. intake, median", size, statistics.median(mine) * 1000, statistics.median(raw) * 1000)
    record("1. intake, p95", size, mine[p95] * 1000, raw[p95] * 1000)


def duplicates(size: int, pothole: Category, pts) -> None:
    now = timezone.now()
    mine = per_query_ms(lambda: [candidates(pothole, lon, lat, "ổ gà", now) for lon, lat in pts], len(pts))
    with connection.connection.cursor() as cursor:
        cursor.execute(f"PREPARE bench_dwithin_{size} (float8, float8, float8) AS " + bench_incidents.BARE_DWITHIN.replace(
            "%(lon)s", "$1").replace("%(lat)s", "$2").replace("%(radius_m)s", "$3"))
    bare = [(f"EXECUTE bench_dwithin_{size} (%s, %s, %s)", [lon, lat, pothole.duplicate_radius_m]) for lon, lat in pts]
    base = per_query_ms(lambda: run_raw(bare), len(pts))
    record("2. duplicate candidates", size, mine, base)
    lon, lat = pts[0]  # near a cluster centre: the dense case
    explain("2. duplicate candidates", size, CANDIDATES_SQL, {
        "lon": lon, "lat": lat, "text": "ổ gà", "radius_m": pothole.duplicate_radius_m,
        "window_days": pothole.duplicate_window_days, "now": now, "category_ids": [pothole.pk],
        "open_statuses": list(Report.OPEN_STATUSES)})


def public_statements(boxes: list[QueryDict], table: str = "incidents_report") -> list[tuple[str, dict]]:
    """The SQL report_page runs for each box (the first page, DEFAULT_PAGE features: one query
    per time window it read), each as run, captured from a call: the raw baseline."""
    statements = []
    for q in boxes:
        reset_queries()  # a full query log (9,000) would capture nothing
        with CaptureQueriesContext(connection) as run:
            report_page(q, "vi")
        statements.extend((query["sql"].replace("incidents_report r", f"{table} r"), None) for query in run)
    return statements


def unbounded_statements(boxes: list[QueryDict], table: str = "incidents_report") -> list[tuple[str, dict]]:
    """The public list as one query per box, without time windows (before migration 0027)."""
    statements = []
    for q in boxes:
        params = base_params("vi")
        where = ReportQuery.parse(q).where(params)
        params["limit"] = DEFAULT_PAGE + 1
        sql = REPORT_PAGE_SQL.format(where=where, since="")
        statements.append((sql.replace("incidents_report r", f"{table} r"), params))
    return statements


def public_reads(size: int, boxes: list[QueryDict]) -> None:
    statements = public_statements(boxes)
    run_raw(statements)
    base = per_query_ms(lambda: run_raw(statements), len(boxes))
    mine = per_query_ms(lambda: [report_page(q, "vi") for q in boxes], len(boxes))
    record("3. public list, map bbox", size, mine, base)
    first = [sql for sql, _ in public_statements(boxes[:1])]
    print(f"     (time windows: {len(statements) / len(boxes):.1f} queries per page; the first box {len(first)})")
    print(f"     first box: {sum(explain('3. public list, map bbox', size, sql, None) for sql in first):,} buffers;"
          f" {PAGE_BOXES} boxes: {page_buffers(boxes[:PAGE_BOXES]):,.0f} a page", flush=True)
    # Before migration 0028: the windows read by the box (`&&`, report_public_point_created), not its cells.
    label = "3. public list, windows without cells (raw)"
    with mock.patch.object(reports, "MAX_CELLS", 0):
        old, first = public_statements(boxes), [sql for sql, _ in public_statements(boxes[:1])]
        run_raw(old)
        record(label, size, per_query_ms(lambda: run_raw(old), len(boxes)), base)
        print(f"     first box: {sum(explain(label, size, sql, None) for sql in first):,} buffers;"
              f" {PAGE_BOXES} boxes: {page_buffers(boxes[:PAGE_BOXES]):,.0f} a page", flush=True)
    # Before migration 0027: one unbounded query per box, without report_public_point_created.
    old, label = unbounded_statements(boxes), "3. public list, one unbounded query (raw)"
    record(label, size, without_index("report_public_point_created", lambda: (
        run_raw(old), per_query_ms(lambda: run_raw(old), len(boxes)))[1]), base)
    without_index("report_public_point_created", lambda: explain(label, size, *old[0]))
    view = ogc.view_caller({"bbox": ogc.CITY_BBOX})
    raw, sql = ogc.raw_caller({"bbox": ogc.CITY_BBOX})
    view(), raw()
    n = 30
    base = per_query_ms(lambda: [raw() for _ in range(n)], n)
    mine = per_query_ms(lambda: [view() for _ in range(n)], n)
    record("3. OGC items, city bbox", size, mine, base)


def without_index(name: str, fn):
    """fn() with the index `name` dropped, in a transaction rolled back (the bench's own database)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {name}")
        result = fn()
        transaction.set_rollback(True)
    return result


def console_list(size: int, agent, qs: list[QueryDict], table: str = "incidents_report") -> None:
    scope = staff_scope(agent)
    statements, _map = console.raw_statements(scope, qs)
    run_raw(statements)
    base = per_query_ms(lambda: run_raw(statements), len(qs))
    mine = per_query_ms(lambda: [report_list(q, scope, "vi") for q in qs], len(qs))
    record("4. console list, one department", size, mine, base)
    explain("4. console list, one department", size, *statements[0])
    # Before migration 0027: the same SQL without report_open_location.
    label = "4. console list, without report_open_location (raw)"
    record(label, size, without_index("report_open_location", lambda: (
        run_raw(statements), per_query_ms(lambda: run_raw(statements), len(qs)))[1]), base)
    without_index("report_open_location", lambda: explain(label, size, *statements[0]))


def hotspots(size: int, departments: list[int], new: int) -> None:
    now = timezone.now()
    full = _db.timed(lambda: refresh_hotspots(full=True, now=now)) * 1000
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_report")
        count = cursor.fetchone()[0]
    _db.grow_to(count + new, days=1, departments=departments)
    incremental = _db.timed(lambda: refresh_hotspots(now=timezone.now())) * 1000
    record("5. hotspots, incremental (vs full)", size, incremental, full)


def partitioned(size: int, agent, boxes: list[QueryDict], qs: list[QueryDict]) -> None:
    """The bbox and console queries on a monthly-partitioned copy, beside the same on the table."""
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_report_by_month') IS NULL")
        cursor.execute(PARTITIONED_SQL if cursor.fetchone()[0] else TOP_UP_SQL)
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'bench_report_by_month'::regclass")
        months = cursor.fetchone()[0]
    print(f"  (partitioned copy, {months} months, made or topped up in {time.perf_counter() - start:.0f} s)")
    table = "bench_report_by_month"
    for label, statements, by_month in (
            ("public list", public_statements(boxes), public_statements(boxes, table)),
            ("console list", console.raw_statements(staff_scope(agent), qs)[0], None)):
        if by_month is None:
            by_month = [(sql.replace("incidents_report r", f"{table} r"), params) for sql, params in statements]
        run_raw(statements), run_raw(by_month)
        base = per_query_ms(lambda: run_raw(statements), len(statements))
        mine = per_query_ms(lambda: run_raw(by_month), len(by_month))
        record(f"   by month: {label} (vs one table)", size, mine, base)
        explain(f"   by month: {label}", size, *by_month[0])


def summary(sizes: list[int], ten_x: int) -> None:
    """Each size against the one before, and the largest against `ten_x` (1M: the target's ratio)."""
    pairs = list(zip(sizes, sizes[1:]))
    if ten_x in sizes and sizes[-1] != ten_x and (ten_x, sizes[-1]) not in pairs:
        pairs.append((ten_x, sizes[-1]))
    print("\nRatios of each figure (its baseline's ratio in brackets):")
    for path, at in figures.items():
        cells = []
        for small, large in pairs:
            if small in at and large in at:
                (m0, b0), (m1, b1) = at[small], at[large]
                flag = " MISSES" if large == 10 * small and small == ten_x and m1 / m0 > TARGET else ""
                cells.append(f"{large / 1e6:g}M/{small / 1e6:g}M {m1 / m0:5.2f} ({b1 / b0:4.2f}){flag}")
        print(f"  {path:36} " + "   ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="do not empty the database first")
    parser.add_argument("--partitioned", action="store_true", help="also a monthly-partitioned copy at --max")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many passes")
    parser.add_argument("--upto", type=int, help="stop after this size (the sizes stay those of --max)")
    args = parser.parse_args()
    REPEAT[0] = args.repeat
    rng = random.Random(16)
    if not args.keep:
        _db.empty()
    departments = [d.pk for d in Department.objects.filter(active=True, is_operations_center=False).order_by("code")[:10]]
    agent = console.staff("bench-agent", Department.objects.get(pk=departments[0]))
    qs = console.queries(args.queries, rng)
    boxes = [QueryDict(f"bbox={q['bbox']}") for q in qs]
    pts = intake_points(300)
    near = bench_incidents.points(args.queries, rng)
    pothole = Category.objects.get(code="pothole")
    sizes = [args.max // 100, args.max // 10, 3 * args.max // 10, args.max]  # 100k, 1M, 3M, 10M
    recent = sizes[0]
    measured = []
    for size in sizes:
        if args.upto and size > args.upto:
            break
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM incidents_report")
            count = cursor.fetchone()[0]
        if count > size * 1.1:
            print(f"(skipping {size:,}: the table holds {count:,})")
            continue
        if size == recent:
            _db.grow_to(size, RECENT_DAYS, departments=departments)
        else:  # history before the recent reports, at the same rate
            history = size - count
            _db.grow_to(size, round(RECENT_DAYS * history / recent), ago=RECENT_DAYS + 1 + round(
                RECENT_DAYS * (count - recent) / recent), statuses=HISTORY_STATUSES, departments=departments,
                bulk=history >= 500_000)
        print(f"\n{size:,} reports", flush=True)
        measured.append(size)
        intake(size, pts)
        duplicates(size, pothole, near)
        public_reads(size, boxes)
        console_list(size, agent, qs)
        hotspots(size, departments, recent // 100)
    summary(measured, sizes[1])
    if args.partitioned and measured and measured[-1] == sizes[-1]:
        print(f"\nPartitioned by month, at {sizes[-1]:,} reports:")
        partitioned(sizes[-1], agent, boxes, qs)


if __name__ == "__main__":
    main()
