"""The console's list and map queries at scale, each beside the same SQL run raw:

1. 100,000 reports, all in scope (an operations-center operator);
2. 1,000,000 reports in 10 departments, one department's agent (100,000 in scope).

Each query mixes the filters staff use most: department scope + open statuses (or one status) +
the bbox of a map view (1–6 km across, inside the city). The console runs them through its own
code (filter parsing, SQL, rows to objects or GeoJSON text), the baseline runs the identical SQL
string with the same parameters straight through psycopg2. Target: console ≥ 0.8× raw
throughput. Then the first load of /console/ and its map, over HTTP (Django's test client),
with its database queries counted: it must not grow with the number of markers.

    .venv/bin/python bench/console.py [--max 1000000] [--queries 300]

Runs in its own database (citypin_bench), which it empties first.
"""

from __future__ import annotations

import argparse
import random

import _db

_db.use_bench_database()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from incidents.access import staff_scope  # noqa: E402
from incidents.models import Department, StaffMembership  # noqa: E402
from incidents.read.query import ReportQuery  # noqa: E402
from incidents.read.staff import LIST_SQL, MAP_LIMIT, MAP_SQL, PAGE, SORTS, map_features, report_list, staff_params  # noqa: E402

# Spread the synthetic reports over departments and give them targets: acknowledge within a
# day, resolve within a week of being reported (so some are overdue, as in real life).
SPREAD_SQL = """
UPDATE incidents_report r
SET department_id = (%(departments)s::bigint[])[1 + (r.id %% cardinality(%(departments)s::bigint[]))],
    acknowledge_due_at = r.created_at + interval '1 day',
    resolve_due_at = r.created_at + interval '7 days',
    priority = 1 + (r.id %% 4)
WHERE r.acknowledge_due_at IS NULL OR r.department_id <> ALL(%(departments)s::bigint[]);
"""


def spread(departments: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(SPREAD_SQL, {"departments": departments})
    _db.vacuum("incidents_report")


def staff(username: str, department: Department) -> object:
    user, _ = get_user_model().objects.get_or_create(username=username)
    StaffMembership.objects.get_or_create(user=user, department=department, defaults={"role": "agent"})
    return user


def queries(n: int, rng: random.Random) -> list[QueryDict]:
    """Map views over the city (around Ninh Kiều, where the demo's reports are densest) with the
    usual status filters."""
    result = []
    for _ in range(n):
        lon, lat = 105.45 + rng.random() * 0.6, 9.65 + rng.random() * 0.5
        half = rng.uniform(0.005, 0.03)  # degrees: boxes 1–6 km across
        q = QueryDict(mutable=True)
        q["bbox"] = f"{lon - half:.6f},{lat - half:.6f},{lon + half:.6f},{lat + half:.6f}"
        q["status"] = rng.choice(["open", "open", "new", "in_progress"])
        if rng.random() < 0.3:
            q["overdue"] = "1"
        result.append(q)
    return result


def raw_statements(scope, qs: list[QueryDict]) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """The identical SQL and parameters the console runs for each query (list page, map points),
    built before the clock starts: the raw baseline (bench/scale.py uses it too)."""
    raw_list, raw_map = [], []
    for q in qs:
        report_query = ReportQuery.parse(q, scope)
        params = staff_params(report_query, "vi")
        where = report_query.where(params)
        sort = SORTS["newest"]
        list_sql = LIST_SQL.format(where=where, sort_keys=", ".join(e for e, _ in sort.keys),
                                   order=", ".join(e + " DESC" for e, _ in sort.keys))
        raw_list.append((list_sql, {**params, "limit": PAGE + 1}))
        raw_map.append((MAP_SQL.format(where=where), {**params, "limit": MAP_LIMIT + 1}))
    return raw_list, raw_map


def compare(label: str, user, qs: list[QueryDict]) -> None:
    scope = staff_scope(user)
    raw_list, raw_map = raw_statements(scope, qs)
    connection.ensure_connection()
    raw = connection.connection

    def run_raw(statements):
        with raw.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    rows = sum(len(report_list(q, scope, "vi").rows) for q in qs)
    points = sum(len(map_features(q, scope, "vi")[0]) for q in qs)
    print(f"{label}: {len(qs)} filter changes (scope + status + bbox), {rows / len(qs):.0f} rows and "
          f"{points / len(qs):.0f} map points on average")
    for name, console_fn, statements in (
            ("list page", lambda: [report_list(q, scope, "vi") for q in qs], raw_list),
            ("map points", lambda: [map_features(q, scope, "vi") for q in qs], raw_map)):
        run_raw(statements)  # warm both the same way
        base = _db.timed(lambda: run_raw(statements), repeat=3)
        mine = _db.timed(console_fn, repeat=3)
        print(f"   {name:10}  console {len(qs) / mine:7.0f} q/s   raw SQL {len(qs) / base:7.0f} q/s   "
              f"ratio {base / mine:.2f}  (target ≥ 0.8)")


def first_load(label: str, user) -> None:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as page:
        response = client.get("/console/")
    assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as points:
        data = client.get("/console/points.geojson?bbox=105.35,9.55,106.2,10.25").json()
    print(f"   first load: /console/ {len(page)} queries, its map {len(points)} queries for "
          f"{len(data['features'])} markers (truncated: {data['truncated']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(5)
    _db.empty()
    ioc = Department.objects.get(is_operations_center=True)
    departments = list(Department.objects.filter(active=True, is_operations_center=False).order_by("code")[:10])
    qs = queries(args.queries, rng)

    small = args.max // 10
    _db.grow_to(small)
    spread([ioc.pk])
    operator = staff("bench-operator", ioc)
    compare(f"1. {small:,} reports, operations center (all in scope)", operator, qs)
    first_load("1.", operator)

    _db.grow_to(args.max)
    spread([d.pk for d in departments])
    agent = staff("bench-agent", departments[0])
    compare(f"2. {args.max:,} reports in {len(departments)} departments, one department's agent "
            f"({args.max // len(departments):,} in scope)", agent, qs)
    first_load("2.", agent)


if __name__ == "__main__":
    main()
