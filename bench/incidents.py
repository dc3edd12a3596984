"""Incidents and hotspots at scale, each figure beside a baseline measured in the same run:

1. the duplicate-candidate query (incidents.matching.CANDIDATES_SQL) at 1,000,000 reports,
   against the bare ST_DWithin query on the same index run raw through psycopg2 (target ≤ 1.5×),
   with its EXPLAIN;
2. intake with duplicate scoring (submit_report) at 10,000 and at 1,000,000 reports
   (target: latency ratio ≤ 1.2);
3. refresh_hotspots at 100,000 and 1,000,000 recent reports (the table holds twice that: the
   synthetic reports span 60 days, the hotspot window is the last 30) against the bare
   ST_ClusterDBSCAN query per category (target ≤ 1.5×; the refresh shares its categories
   among CITYPIN_HOTSPOT_SESSIONS sessions, and its figure on one session is printed too), and
   an incremental refresh after 1% new reports against a full one (target ≤ 0.2×);
4. a hot incident: intake of reports that all join one incident (a flooded street reported over
   and over in a storm), the median of its 11th–110th reports against that of its 1,901st–2,000th
   (flat: ratio ≤ 1.2, as for the table's growth in 2.).

    make bench-incidents      (or: .venv/bin/python bench/incidents.py [--max 1000000] [--hot-only])

Runs in its own database (citypin_bench), which it empties first; takes several minutes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import _db

_db.use_bench_database()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents.hotspots import refresh_hotspots  # noqa: E402
from incidents.intake import ReportDraft, submit_report  # noqa: E402
from incidents.matching import CANDIDATES_SQL, candidates  # noqa: E402
from incidents.models import Category, Hotspot, Report  # noqa: E402

# The candidates' spatial probe alone, over open incidents on their index (incident_open_recent_geog).
BARE_DWITHIN = """
SELECT id FROM incidents_incident
WHERE ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius_m)s)
  AND status IN ('new', 'acknowledged', 'in_progress', 'reopened')
"""
BARE_DBSCAN_ALL = """
SELECT count(DISTINCT (category_id, cid)) FROM (
    SELECT r.category_id, ST_ClusterDBSCAN(ST_Transform(r.location, %(srid)s), eps := c.hotspot_eps_m::float8,
                                           minpoints := c.hotspot_min_points) OVER (PARTITION BY r.category_id) AS cid
    FROM incidents_report r JOIN incidents_category c ON c.id = r.category_id
    WHERE r.location IS NOT NULL AND r.created_at >= %(since)s AND r.created_at < %(until)s
) q
"""
BARE_DBSCAN = """
SELECT count(DISTINCT cid) FROM (
    SELECT ST_ClusterDBSCAN(ST_Transform(location, %(srid)s), eps := %(eps)s, minpoints := %(minpoints)s) OVER () AS cid
    FROM incidents_report
    WHERE category_id = %(category_id)s AND location IS NOT NULL AND created_at >= %(since)s AND created_at < %(until)s
) q
"""


def points(n: int, rng: random.Random) -> list[tuple[float, float]]:
    """Half uniform over the box, half near the synthetic clusters' centres (where it is dense)."""
    out = []
    for i in range(n):
        if i % 2:
            out.append((105.35 + rng.random() * 0.85, 9.55 + rng.random() * 0.7))
        else:
            c = rng.randrange(300)
            out.append((105.45 + (c * 7919 % 1000) / 1000 * 0.6 + rng.gauss(0, 0.001),
                        9.65 + (c * 104729 % 1000) / 1000 * 0.5 + rng.gauss(0, 0.001)))
    return out


def candidate_query(pothole: Category, pts) -> None:
    now = timezone.now()
    engine = _db.timed(lambda: [candidates(pothole, lon, lat, "ổ gà", now) for lon, lat in pts], repeat=2)
    connection.ensure_connection()
    raw = connection.connection

    with raw.cursor() as cursor:  # prepared, like the engine's query
        cursor.execute("PREPARE bench_dwithin (float8, float8, float8) AS " + BARE_DWITHIN.replace(
            "%(lon)s", "$1").replace("%(lat)s", "$2").replace("%(radius_m)s", "$3"))

    def bare():
        with raw.cursor() as cursor:
            for lon, lat in pts:
                cursor.execute("EXECUTE bench_dwithin (%s, %s, %s)", [lon, lat, pothole.duplicate_radius_m])
                cursor.fetchall()

    baseline = _db.timed(bare, repeat=2)
    n = len(pts)
    print(f"1. duplicate candidates at {Report.objects.count():,} reports, {n} random points, radius "
          f"{pothole.duplicate_radius_m} m")
    print(f"   baseline, bare ST_DWithin raw (prepared): {baseline / n * 1000:7.3f} ms per query")
    print(f"   candidates() with scoring (prepared):     {engine / n * 1000:7.3f} ms per query")
    print(f"   ratio {engine / baseline:.2f}  (target ≤ 1.5)")
    lon, lat = pts[0]  # near a cluster centre: the dense case
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + CANDIDATES_SQL, {
            "lon": lon, "lat": lat, "text": "ổ gà", "radius_m": pothole.duplicate_radius_m,
            "window_days": pothole.duplicate_window_days, "now": timezone.now(), "category_ids": [pothole.pk],
            "open_statuses": list(Report.OPEN_STATUSES)})
        plan = [row[0] for row in cursor.fetchall()]
    print("   EXPLAIN:\n" + "\n".join("     " + line for line in plan if "Index" in line or "Scan" in line))


def intake_latency(pts, label: str) -> float:
    """Median submit_report latency (ms) over the points, each rolled back afterwards."""
    times = []
    for lon, lat in pts:
        with transaction.atomic():
            start = time.perf_counter()
            submit_report(ReportDraft(category_code="garbage", lon=lon, lat=lat, description="Rác tồn đọng"),
                          notify=False)
            times.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    median = statistics.median(times[len(times) // 10:]) * 1000  # the first tenth warms caches
    print(f"   intake at {label}: median {median:.2f} ms per report")
    return median


def hot_incident(point: tuple[float, float], reports: int = 2000) -> None:
    """Reports at one spot, committed one by one (each joins the incident the first one made)."""
    lon, lat = point
    times = []
    for i in range(reports):
        start = time.perf_counter()
        report = submit_report(ReportDraft(category_code="pothole", lon=lon + (i % 7) * 0.00001, lat=lat,
                                           attributes={"size": "large"}, description=f"Ngập sâu, lần {i}"),
                               notify=False)
        times.append(time.perf_counter() - start)
    size = Report.objects.filter(incident_id=report.incident_id).count()
    small, large = statistics.median(times[10:110]) * 1000, statistics.median(times[-100:]) * 1000
    print(f"4. a hot incident: {reports:,} reports at one spot, one incident of {size:,}")
    print(f"   baseline, its reports 11-110:        median {small:.2f} ms per report")
    print(f"   its reports {reports - 99:,}-{reports:,}:    median {large:.2f} ms per report")
    print(f"   ratio {large / small:.2f}  (target ≤ 1.2)")


def hotspots() -> float:
    now = timezone.now()
    since = now - timezone.timedelta(days=30)
    label = f"{Report.objects.filter(created_at__gte=since).count():,}"
    categories = list(Category.objects.filter(active=True))

    def bare():
        with connection.connection.cursor() as cursor:
            for c in categories:
                cursor.execute(BARE_DBSCAN, {"srid": settings.CITYPIN_METRIC_SRID, "eps": float(c.hotspot_eps_m),
                                             "minpoints": c.hotspot_min_points, "category_id": c.pk,
                                             "since": since, "until": now})
                cursor.fetchall()

    def bare_all():
        with connection.connection.cursor() as cursor:
            cursor.execute(BARE_DBSCAN_ALL, {"srid": settings.CITYPIN_METRIC_SRID, "since": since, "until": now})
            cursor.fetchall()

    connection.ensure_connection()
    per_category = _db.timed(bare, repeat=2)
    one_query = _db.timed(bare_all, repeat=2)
    baseline = min(per_category, one_query)
    full = _db.timed(lambda: refresh_hotspots(full=True, now=now), repeat=2)
    with override_settings(CITYPIN_HOTSPOT_SESSIONS=1):
        alone = _db.timed(lambda: refresh_hotspots(full=True, now=now), repeat=2)
    print(f"3. hotspots over {label} recent reports, {len(categories)} categories")
    print(f"   baseline, bare ST_ClusterDBSCAN: {per_category:6.2f} s per category, {one_query:6.2f} s in one "
          f"partitioned query (one session each); the faster is the baseline")
    print(f"   refresh_hotspots(full=True):     {full:6.2f} s   ratio {full / baseline:.2f}  "
          f"(target ≤ 1.5); {Hotspot.objects.count()} hotspots; categories shared among "
          f"{settings.CITYPIN_HOTSPOT_SESSIONS} sessions")
    print(f"   the same on one session:         {alone:6.2f} s   ratio {alone / baseline:.2f}  "
          f"(CITYPIN_HOTSPOT_SESSIONS=1)")
    return full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--hot-only", action="store_true", help="only 4., the hot incident (a minute)")
    args = parser.parse_args()
    rng = random.Random(11)
    _db.empty()
    with connection.cursor() as cursor:  # intake needs points inside the jurisdiction
        cursor.execute("SELECT ST_X(d.geom), ST_Y(d.geom) FROM ST_Dump(ST_GeneratePoints("
                       "(SELECT boundary FROM geo_area WHERE kind = 'province' LIMIT 1), 300, 5)) d")
        intake_points = cursor.fetchall()
    hot_incident(intake_points[0])
    if args.hot_only:
        return
    _db.empty()

    small = min(10_000, args.max // 100)
    _db.grow_to(small)
    print("2. intake with duplicate scoring")
    at_small = intake_latency(intake_points, f"{small:,}")

    middle = args.max // 10
    _db.grow_to(2 * middle)
    hotspots()

    _db.grow_to(args.max)
    print("2. (continued)")
    at_max = intake_latency(intake_points, f"{args.max:,}")
    print(f"   latency ratio {at_max / at_small:.2f}  (target ≤ 1.2)")

    pothole = Category.objects.get(code="pothole")
    candidate_query(pothole, points(args.queries, rng))

    _db.grow_to(2 * args.max)
    full = hotspots()
    _db.grow_to(2 * args.max + args.max // 100, days=1)  # 1% new reports, from the last day
    incremental = _db.timed(lambda: refresh_hotspots(now=timezone.now()))
    print(f"   incremental refresh after 1% new reports: {incremental:7.2f} s   "
          f"ratio to full {incremental / full:.2f}  (target ≤ 0.2)")


if __name__ == "__main__":
    main()
