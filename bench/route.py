"""Routing throughput on the demo city: the engine (incidents.routing.route, with its Python
around the query) against the same ROUTE_SQL run raw through psycopg2, in one process.

    make bench            (or: .venv/bin/python bench/route.py [--points N])

Needs the demo loaded (make run does it, or: python manage.py load_demo). Points are random,
seeded: 60% uniformly inside random wards, 40% within 60 m of a national road, each with a GPS
accuracy of 5-30 m, for a random active category.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from gis.models import Area, Asset  # noqa: E402
from incidents.models import Category  # noqa: E402
from incidents.routing import ROUTE, ROUTE_SQL, OutsideJurisdiction, route  # noqa: E402

# Points: uniformly in a random ward (rejection sampling in SQL), or along a national road
# then moved up to 60 m sideways (metres on the geography, ST_Project).
POINTS_SQL = """
WITH ward_points AS (
    SELECT (ST_Dump(ST_GeneratePoints(boundary, 1, %(seed)s))).geom AS g
    FROM geo_area, generate_series(1, %(per_ward)s)
    WHERE kind = 'ward'
),
road_points AS (
    SELECT ST_Project(ST_LineInterpolatePoint(part, random())::geography,
                      random() * 60, radians(random() * 360))::geometry AS g
    FROM (SELECT (ST_Dump(ST_Intersection(a.geom, p.boundary))).geom AS part FROM geo_asset a
          JOIN geo_area p ON p.kind = 'province' AND ST_Intersects(a.geom, p.boundary)
          WHERE a.asset_class = 'national') roads,
         generate_series(1, %(per_road)s)
)
SELECT 'ward', ST_X(g), ST_Y(g) FROM ward_points
UNION ALL
SELECT 'road', ST_X(g), ST_Y(g) FROM road_points WHERE GeometryType(g) = 'POINT'

"""


def make_points(n: int, rng: random.Random) -> list[tuple[float, float, float, Category]]:
    wards = Area.objects.filter(kind="ward").count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(POINTS_SQL, {"seed": 42, "per_ward": n // wards + 1, "per_road": n // 4 + 1})
        rows = cursor.fetchall()
    by_kind = {kind: [(lon, lat) for k, lon, lat in rows if k == kind] for kind in ("ward", "road")}
    for coords in by_kind.values():
        rng.shuffle(coords)
    coords = by_kind["ward"][: n - n * 2 // 5] + by_kind["road"][: n * 2 // 5]
    categories = list(Category.objects.filter(active=True))
    return [(lon, lat, rng.uniform(5, 30), rng.choice(categories)) for lon, lat in coords]


def run_engine(points) -> tuple[float, dict[str, int]]:
    reasons: dict[str, int] = {}
    start = time.perf_counter()
    for lon, lat, accuracy, category in points:
        try:
            reason = route(category, lon, lat, accuracy).reason
        except OutsideJurisdiction:
            reason = "outside"
        reasons[reason] = reasons.get(reason, 0) + 1
    return time.perf_counter() - start, reasons


def run_raw(points, prepared: bool = True) -> float:
    """The same query on the same database session, straight on the psycopg2 connection that
    Django holds (no Django cursor, no Python around it): only the query and its transfer.
    Prepared like the engine's (PREPARE once, EXECUTE each), or planned anew each time."""
    connection.ensure_connection()
    raw = connection.connection  # a psycopg2 connection
    now = timezone.now()
    with raw.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
        if prepared:
            cursor.execute(ROUTE.prepare_sql.replace("citypin_route", "bench_route", 1))
    start = time.perf_counter()
    with raw.cursor() as cursor:
        for lon, lat, accuracy, category in points:
            params = {"lon": lon, "lat": lat, "accuracy_m": accuracy, "category_id": category.pk,
                      "group_id": category.group_id, "now": now}
            if prepared:
                cursor.execute(ROUTE.execute_sql.replace("citypin_route", "bench_route", 1),
                               [params[p] for p in ROUTE.order])
            else:
                cursor.execute(ROUTE_SQL, params)
            cursor.fetchone()
    elapsed = time.perf_counter() - start
    with raw.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # the engine prepares its own again
    from incidents import prepared as registry

    registry._prepared.pop(raw, None)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    args = parser.parse_args()
    if not Area.objects.filter(kind="ward").exists():
        sys.exit("No wards: load the demo first (python manage.py load_demo).")
    points = make_points(args.points, random.Random(7))
    warm = points[: min(200, len(points))]
    run_raw(warm)
    run_engine(warm)

    # Alternate the two and keep each one's best of two runs, so neither gains from going second.
    raw_s = run_raw(points)
    engine_s, reasons = run_engine(points)
    raw_s = min(raw_s, run_raw(points))
    engine_s = min(engine_s, run_engine(points)[0])
    unprepared_s = run_raw(points, prepared=False)
    n = len(points)
    print(f"routing {n} random points over {Area.objects.filter(kind='ward').count()} wards "
          f"and {Asset.objects.count()} road features")
    print(f"  baseline, ROUTE_SQL raw through psycopg2: {n / raw_s:8.0f} routes/s  ({raw_s / n * 1000:.2f} ms each)")
    print(f"  (the same, planned anew each time:         {n / unprepared_s:8.0f} routes/s)")
    print(f"  engine, incidents.routing.route():         {n / engine_s:8.0f} routes/s  ({engine_s / n * 1000:.2f} ms each)")
    print(f"  engine / baseline time ratio: {engine_s / raw_s:.2f}")
    print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))


if __name__ == "__main__":
    main()
