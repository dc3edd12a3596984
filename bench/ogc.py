"""OGC API – Features `items` at 1,000,000 reports, beside its baselines, measured in the same run:

- the view: GET /ogc/collections/reports/items?limit=100 through Django's WSGI handler in
  process (the middleware, URL routing, the open-data decorator, parameter parsing, the SQL, the
  response; no socket);
- raw SQL: the identical statement the view runs, through psycopg2, its rows joined into a
  FeatureCollection (the simplest serialisation): prepared once and EXECUTEd where the view
  prepares the page (no bbox, no time interval; incidents.prepared), else the SQL as it is;
  target: the view ≥ 0.8× its throughput;
- unprepared: the same SQL sent as it is, planned every time (the view ran it so before);
- tipg (developmentseed), serving a view of the same public columns over the same table with
  uvicorn on a loopback port, asked for the same pages (newest 100 first, same bbox, same
  category); it runs in its own environment, .venv-tipg (bench/_tipg.py); target: ≥ 5×.

The view is also measured as a city serves it: gunicorn (one gthread worker, keep-alive), DEBUG
off, over HTTP on loopback like tipg (its per-IP read counter then lives in the database cache,
as under `make serve`).

Three queries: no filter, a city bbox (central Cần Thơ, ~9 × 8 km), a category. The callers
take turns, one request each per round (tipg every tenth round, being slow), so that the load
of a shared machine falls on all of them alike; each figure is 1 / the median latency.

    .venv/bin/python bench/ogc.py [--max 1000000] [--requests 300] [--view-and-raw]

Runs in its own database (CITYPIN_BENCH_DB, default citypin_bench), filled with synthetic
reports to --max if it holds fewer; it never empties it. The open-data read limit is lifted
for the run (OPEN_DATA_READ_RATE), or the view would answer 429 after 1,200 requests.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

# Per second, not per minute: the counter keeps one timestamp per request of its window, and a
# minute's worth of this benchmark's requests would make the counter itself the cost measured.
os.environ["OPEN_DATA_READ_RATE"] = "1000000/s"
# The view as production runs it: DEBUG off (with DEBUG on every query also goes through Django's
# debug cursor, which the raw baseline does not), plain HTTP, the bench's own host name.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("CITYPIN_TLS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")

import _db  # noqa: E402
import _tipg  # noqa: E402

_db.use_bench_database()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from incidents.ogc.collections import REPORTS, page_types, prepares  # noqa: E402
from incidents.ogc.params import parse_items  # noqa: E402
from incidents.prepared import prepared_for  # noqa: E402

CITY_BBOX = "105.72,10.00,105.80,10.07"  # lon/lat, SRID 4326: central Cần Thơ (Ninh Kiều)
ITEMS = "/ogc/collections/reports/items"
TIPG_VIEW = "ogc_bench_reports"

# What tipg serves: the report's public columns (read/public.py's names) and its public point.
TIPG_VIEW_SQL = f"""
CREATE OR REPLACE VIEW {TIPG_VIEW} AS
SELECT r.id, r.public_id, r.status, c.code AS category, d.code AS department, w.code AS ward,
       r.public_description AS description, r.address, r.incident_id AS incident, r.supporter_count, r.source,
       r.created_at, r.updated_at, r.resolved_at, r.public_location AS geom
FROM incidents_report r
JOIN incidents_category c ON c.id = r.category_id
JOIN incidents_department d ON d.id = r.department_id
LEFT JOIN geo_area w ON w.id = r.ward_id
"""


def queries() -> dict[str, dict[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.code FROM incidents_category c ORDER BY c.id LIMIT 1")
        category = cursor.fetchone()[0]
    return {"no filter": {}, "city bbox": {"bbox": CITY_BBOX}, f"category={category}": {"category": category}}


def rates(callers: dict[str, Callable[[], bytes]], rounds: int, sparse: tuple[str, ...] = ()) -> dict[str, float]:
    """Requests per second (1 / median latency) of each caller, called in turn once per round
    (those in `sparse` every tenth round), after a few warm-up rounds; and, as "<name> cpu", the
    median CPU time this process spent per request, in ms (less sensitive to the machine's load)."""
    for _ in range(5):
        for call in callers.values():
            call()
    latencies: dict[str, list[float]] = {name: [] for name in callers}
    cpu: dict[str, list[float]] = {name: [] for name in callers}
    for i in range(rounds):
        for name, call in callers.items():
            if name in sparse and i % 10:
                continue
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            latencies[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: 1 / statistics.median(values) for name, values in latencies.items()} | {
        f"{name} cpu": statistics.median(values) * 1000 for name, values in cpu.items()}


def http_caller(base: str, path: str) -> Callable[[], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def call():
        conn.request("GET", path, headers={"Accept": "application/geo+json"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body[:300]
        return body

    return call


@contextlib.contextmanager
def django_server() -> Iterator[str]:
    """Citypin under gunicorn as `make serve` runs it (DEBUG off), one gthread worker with
    keep-alive, on a loopback port, against the bench database; stopped on exit."""
    port = _tipg.free_port()
    env = {**os.environ, "DEBUG": "0", "CITYPIN_TLS": "0", "ALLOWED_HOSTS": "127.0.0.1", "DATABASE_URL": _db.database_url()}
    root = Path(__file__).resolve().parent.parent
    subprocess.run([str(root / ".venv/bin/python"), "manage.py", "createcachetable"], cwd=root, env=env, check=True)
    process = subprocess.Popen([str(root / ".venv/bin/gunicorn"), "config.wsgi:application", "--bind",
                                f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread", "--threads", "1",
                                "--keep-alive", "60", "--log-level", "warning"],
                               cwd=root, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/ogc/conformance", timeout=5):
                    break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def view_caller(params: dict) -> Callable[[], bytes]:
    """GET through Django's WSGI handler in this process: the whole stack a server would call
    (middleware, URL routing, the open-data decorator, the view), without a socket. Django's
    test client would add its own instrumentation (it connects signals on every request)."""
    handler = WSGIHandler()
    environ = RequestFactory()._base_environ(PATH_INFO=ITEMS, QUERY_STRING=urlencode({"limit": 100, **params}),
                                             REQUEST_METHOD="GET", HTTP_ACCEPT="application/geo+json")
    status = []

    def call():
        body = b"".join(handler(dict(environ, **{"wsgi.input": io.BytesIO()}), lambda s, h: status.append(s)))
        assert status.pop().startswith("200"), body[:300]
        return body

    return call


def raw_caller(params: dict, prepared: bool | None = None) -> tuple[Callable[[], bytes], str]:
    """The view's SQL and parameters, built once; each call runs them and joins the rows.
    `prepared`: as a prepared statement, PREPAREd here once (None: as the view runs them)."""
    q = parse_items(QueryDict(urlencode({"limit": 100, **params})), tuple(x.name for x in REPORTS.queryables), True)
    prepared = prepares(q) if prepared is None else prepared
    sql_params = {"lang": "vi"}
    where = REPORTS.where(q, sql_params)
    sql = REPORTS.page_sql(where, q.crs.geometry_sql(REPORTS.geometry_column), q.crs.digits, q.limit + 1)
    conn = _db.raw_connection()
    cursor = conn.cursor()
    if prepared:
        statement = prepared_for(sql, page_types(REPORTS))
        cursor.execute(statement.prepare_sql)
        sql, sql_params = statement.execute_sql, [sql_params[p] for p in statement.order]

    def call():
        cursor.execute(sql, sql_params)
        rows = cursor.fetchall()
        return ('{"type":"FeatureCollection","features":[' + ",".join(r[2] for r in rows[:100]) + "]}").encode()

    return call, sql


def tipg_caller(base: str, params: dict) -> Callable[[], bytes]:
    return http_caller(base, f"/collections/public.{TIPG_VIEW}/items?"
                       + urlencode({"limit": 100, "sortby": "-created_at", **params}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--view-and-raw", action="store_true",
                        help="the view and raw SQL alone (no tipg, no gunicorn), e.g. while iterating")
    args = parser.parse_args()
    _db.grow_to(args.max)
    with connection.cursor() as cursor:
        cursor.execute(TIPG_VIEW_SQL)
        cursor.execute("SELECT count(*) FROM incidents_report")
        total = cursor.fetchone()[0]
    if args.view_and_raw:
        view_and_raw(args.requests)
        return
    _tipg.ensure_venv()
    print(f"OGC API items, limit 100, at {total:,} reports: requests/s (1 / median latency of {args.requests} "
          f"interleaved requests; tipg {_tipg.version()} under uvicorn, one worker)")
    results = {}
    with _tipg.serve(_db.database_url("postgresql"), [f"public.{TIPG_VIEW}"]) as tipg_base, django_server() as django_base:
        for label, params in queries().items():
            raw, _sql = raw_caller(params)
            unprepared, _sql = raw_caller(params, prepared=False)
            callers = {"view": view_caller(params), "raw": raw, "unprepared": unprepared,
                       "served": http_caller(django_base, ITEMS + "?" + urlencode({"limit": 100, **params})),
                       "tipg": tipg_caller(tipg_base, params)}
            counts = {name: call().count(b'"Feature"') for name, call in callers.items()}
            assert set(counts.values()) == {100}, counts
            r = results[label] = rates(callers, args.requests, sparse=("tipg",))
            print(f"   {label:18}  view {r['view']:5.0f}/s  raw SQL {r['raw']:5.0f}/s ({r['view'] / r['raw']:4.2f}×, "
                  f"target ≥ 0.8)  unprepared {r['unprepared']:5.0f}/s ({r['view'] / r['unprepared']:4.2f}×)  "
                  f"tipg {r['tipg']:4.1f}/s ({r['view'] / r['tipg']:5.1f}×, target ≥ 5)   "
                  f"served by gunicorn {r['served']:5.0f}/s ({r['served'] / r['raw']:4.2f}× raw, "
                  f"{r['served'] / r['tipg']:5.1f}× tipg)", flush=True)
            print(f"   {'':18}  CPU of this process per request: view {r['view cpu']:.2f} ms, raw SQL "
                  f"{r['raw cpu']:.2f} ms; the request cycle's own {r['view cpu'] - r['raw cpu']:.2f} ms", flush=True)
    worst_raw = min(r["view"] / r["raw"] for r in results.values())
    worst_tipg = min(r["view"] / r["tipg"] for r in results.values())
    print(f"   worst ratios of the view: {worst_raw:.2f}× raw SQL, {worst_tipg:.1f}× tipg")


def view_and_raw(requests: int) -> None:
    print(f"OGC API items, limit 100: the view and raw SQL alone, {requests} interleaved requests each")
    for label, params in queries().items():
        raw, _sql = raw_caller(params)
        unprepared, _sql = raw_caller(params, prepared=False)
        r = rates({"view": view_caller(params), "raw": raw, "unprepared": unprepared}, requests)
        print(f"   {label:18}  view {r['view']:5.0f}/s  raw SQL {r['raw']:5.0f}/s ({r['view'] / r['raw']:4.2f}×, "
              f"target ≥ 0.8)  unprepared {r['unprepared']:5.0f}/s ({r['view'] / r['unprepared']:4.2f}×)  "
              f"CPU per request: view {r['view cpu']:.2f} ms, raw {r['raw cpu']:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
