"""Area alerts at scale: what matching a new report against 30,000 confirmed immediate
subscriptions adds to intake, beside intake without it, in the same run.

The subscriptions (made once, in SQL): 10,000 circles of 200–2,000 m and 10,000 drawn areas of
about 1 km² spread over the Cần Thơ box, and 10,000 ward subscriptions over the demo's wards.
Each report is submitted through submit_report (validation, routing, incident matching, events,
notices) at a ward's point, in a transaction rolled back afterwards, so every run sees the same
tables. The baseline is the same intake with the alert match switched off; the match statement
alone (IMMEDIATE_MATCH_SQL) is timed too, with the mails it would queue counted.

    CITYPIN_BENCH_DB=citypin_bench_alerts .venv/bin/python bench/alerts.py [--repeat 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("CITYPIN_BENCH_DB", "citypin_bench_alerts")

import _db  # noqa: E402

_db.use_bench_database()

from django.db import connection, transaction  # noqa: E402

import incidents.intake as intake  # noqa: E402
from gis.models import Area  # noqa: E402
from incidents.alerts import IMMEDIATE_MATCH_SQL, match_params  # noqa: E402
from incidents.models import AreaAlert, Category  # noqa: E402

N = 10_000  # per kind

# Circles and drawn squares at pseudo-random places of the box lon 105.45–106.05, lat 9.65–10.15
# (SRID 4326); radii 200–2,000 m on the ellipsoid; the reach polygon as subscribe_alert makes it.
SUBSCRIPTIONS_SQL = """
INSERT INTO incidents_areaalert (email, language, kind, center, radius_m, reach, frequency, confirm_token,
                                 unsubscribe_token, created_at, confirmed_at, last_digest_at)
SELECT 'c' || i || '@example.vn', 'vi', 'circle', p, r, ST_Buffer(p::geography, r * 1.01 + 1)::geometry,
       'immediate', 'bc' || i, 'bu' || i, now(), now(), now()
  FROM generate_series(1, %(n)s) i,
       LATERAL (SELECT ST_SetSRID(ST_MakePoint(105.45 + mod(i * 7919, 10007) / 10007.0 * 0.6,
                                               9.65 + mod(i * 104729, 10009) / 10009.0 * 0.5), 4326) AS p,
                       200 + mod(i * 31, 1801) AS r) g;
INSERT INTO incidents_drawnarea (slug, geom, created_at)
SELECT 'bench' || i, ST_MakeEnvelope(x, y, x + 0.009, y + 0.009, 4326), now()
  FROM generate_series(1, %(n)s) i,
       LATERAL (SELECT 105.45 + mod(i * 6007, 10007) / 10007.0 * 0.6 AS x,
                       9.65 + mod(i * 7537, 10009) / 10009.0 * 0.5 AS y) g;
INSERT INTO incidents_areaalert (email, language, kind, drawn_area_id, frequency, confirm_token, unsubscribe_token,
                                 created_at, confirmed_at, last_digest_at)
SELECT 'd' || d.id || '@example.vn', 'vi', 'drawn', d.id, 'immediate', 'bdc' || d.id, 'bdu' || d.id, now(), now(), now()
  FROM incidents_drawnarea d WHERE d.slug LIKE 'bench%%';
INSERT INTO incidents_areaalert (email, language, kind, ward_id, frequency, confirm_token, unsubscribe_token,
                                 created_at, confirmed_at, last_digest_at)
SELECT 'w' || i || '@example.vn', 'en', 'ward', w.ids[1 + mod(i, array_length(w.ids, 1))], 'immediate',
       'bwc' || i, 'bwu' || i, now(), now(), now()
  FROM generate_series(1, %(n)s) i, (SELECT array_agg(id ORDER BY id) AS ids FROM geo_area WHERE kind = 'ward') w;
"""


def prepare() -> None:
    if AreaAlert.objects.filter(email__endswith="@example.vn").count() < 3 * N:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_areaalert; DELETE FROM incidents_drawnarea")
            cursor.execute(SUBSCRIPTIONS_SQL, {"n": N})
        _db.vacuum("incidents_areaalert")
        _db.vacuum("incidents_drawnarea")


class Rollback(Exception):
    pass


def submit(category: Category, lon: float, lat: float) -> int:
    """Submit one report and roll it back; the number of alert mails it queued."""
    queued = 0
    try:
        with transaction.atomic():
            report = intake.submit_report(intake.ReportDraft(category_code=category.code, lon=lon, lat=lat,
                                                             description="Bench"))
            queued = report.messages.filter(recipient__endswith="@example.vn").count()
            raise Rollback
    except Rollback:
        pass
    return queued


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    prepare()
    category = next(c for c in Category.objects.filter(active=True, allow_anonymous=True).order_by("code")
                    if not c.attributes.filter(required=True).exists())
    places = [(p.x, p.y) for p in (w.boundary.point_on_surface for w in Area.objects.filter(kind="ward")
                                   .order_by("id")[: args.repeat])]
    real = intake.enqueue_area_alerts
    for lon, lat in places[:3]:  # warm caches and connections
        submit(category, lon, lat)

    def run(enabled: bool) -> tuple[float, int]:
        intake.enqueue_area_alerts = real if enabled else (lambda report: 0)
        times, mails = [], 0
        for lon, lat in places:
            start = time.perf_counter()
            mails += submit(category, lon, lat)
            times.append(time.perf_counter() - start)
        intake.enqueue_area_alerts = real
        return statistics.median(times) * 1000, mails

    off, _none = run(False)
    on, mails = run(True)
    off2, _none = run(False)
    baseline = min(off, off2)
    print(f"area alerts, {3 * N:,} confirmed immediate subscriptions, {len(places)} reports at ward points")
    print(f"  intake (median):            {on:7.2f} ms with the alert match   vs {baseline:7.2f} ms without "
          f"(+{on - baseline:.2f} ms); {mails / len(places):.1f} alert mails queued per report")

    class Fake:
        def __init__(self, lon, lat, ward, category_id):
            from django.contrib.gis.geos import Point
            self.public_location, self.ward_id, self.category_id = Point(lon, lat, srid=4326), ward, category_id

    wards = list(Area.objects.filter(kind="ward").order_by("id").values_list("id", flat=True)[: len(places)])
    match_times = []
    with connection.cursor() as cursor:
        for (lon, lat), ward in zip(places, wards):
            params = match_params(Fake(lon, lat, ward, category.pk))
            start = time.perf_counter()
            cursor.execute(IMMEDIATE_MATCH_SQL, params)
            cursor.fetchall()
            match_times.append(time.perf_counter() - start)
        cursor.execute("SELECT 1")
        start = time.perf_counter()
        for _ in places:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        round_trip = (time.perf_counter() - start) / len(places)
    print(f"  match statement (median):   {statistics.median(match_times) * 1000:7.2f} ms"
          f"   vs {round_trip * 1000:7.2f} ms for a round trip of SELECT 1")


if __name__ == "__main__":
    main()
