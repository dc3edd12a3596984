"""Area alerts at scale: what 30,000 confirmed immediate subscriptions cost intake, and the
worker's pass that matches and mails the new reports, in the same run.

The subscriptions (made once, in SQL): 10,000 circles of 200–2,000 m and 10,000 drawn areas of
about 1 km² spread over the Cần Thơ box, and 10,000 ward subscriptions over the demo's wards.
Each report is submitted through submit_report (validation, routing, incident matching, events,
notices) at a ward's point, in a transaction rolled back afterwards, so every run sees the same
tables.

1. Intake: with the alerts (it marks the report due, AlertDue) against intake with that switched
   off; since the worker matches, intake costs the same whatever the number of subscribers.
2. The worker's pass (send_immediate_alerts) over --repeat reports made in one transaction: its
   time per report, the mails it queued at once and the reports left waiting in the
   subscriptions' windows, beside the match statement alone (IMMEDIATE_MATCH_SQL) on the same
   reports; then the same with gathering off (CITYPIN_ALERT_GATHER_S=0: a mail per match).

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
from django.test.utils import override_settings  # noqa: E402

import incidents.intake as intake  # noqa: E402
from gis.models import Area  # noqa: E402
from incidents.alerts import IMMEDIATE_MATCH_SQL, send_immediate_alerts  # noqa: E402
from incidents.models import AreaAlert, Category, OutboxMessage  # noqa: E402

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


def draft(category: Category, lon: float, lat: float) -> intake.ReportDraft:
    return intake.ReportDraft(category_code=category.code, lon=lon, lat=lat, description="Bench")


def submit(category: Category, lon: float, lat: float) -> None:
    """Submit one report and roll it back."""
    try:
        with transaction.atomic():
            intake.submit_report(draft(category, lon, lat))
            raise Rollback
    except Rollback:
        pass


def worker_pass(category: Category, places: list[tuple[float, float]], gather_s: float) -> dict[str, float]:
    """Reports at `places` made in one transaction, then the worker's pass over them, timed, and
    the match statement alone on the same reports; all rolled back."""
    result = {}
    try:
        with transaction.atomic(), override_settings(CITYPIN_ALERT_GATHER_S=gather_s):
            ids = [intake.submit_report(draft(category, lon, lat)).pk for lon, lat in places]
            with connection.cursor() as cursor:
                start = time.perf_counter()
                cursor.execute(IMMEDIATE_MATCH_SQL, {"reports": ids})
                result["matches"] = len(cursor.fetchall())
                result["match_ms"] = (time.perf_counter() - start) * 1000
            before = OutboxMessage.objects.count()
            start = time.perf_counter()
            send_immediate_alerts()
            result["pass_ms"] = (time.perf_counter() - start) * 1000
            result["mails"] = OutboxMessage.objects.count() - before
            result["waiting"] = sum(AreaAlert.objects.values_list("waiting_count", flat=True))
            raise Rollback
    except Rollback:
        pass
    return result


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

    def run(enabled: bool) -> float:
        intake.enqueue_area_alerts = real if enabled else (lambda report: None)
        times = []
        for lon, lat in places:
            start = time.perf_counter()
            submit(category, lon, lat)
            times.append(time.perf_counter() - start)
        intake.enqueue_area_alerts = real
        return statistics.median(times) * 1000

    off = run(False)
    on = run(True)
    off2 = run(False)
    baseline = min(off, off2)
    n = len(places)
    print(f"area alerts, {3 * N:,} confirmed immediate subscriptions, {n} reports at ward points")
    print(f"  intake (median):  {on:7.2f} ms with the alerts (the report marked due)   vs {baseline:7.2f} ms "
          f"without ({on - baseline:+.2f} ms)")
    worker_pass(category, places[:3], 0)  # warm: the URL resolver (unsubscribe links), the templates
    for gather_s, label in ((600, "gathering (600 s)"), (0, "no gathering")):
        r = worker_pass(category, places, gather_s)
        print(f"  worker's pass, {label}: {r['pass_ms'] / n:.2f} ms a report ({r['pass_ms']:.0f} ms for {n}); "
              f"{r['matches']:,} matches: {r['mails']:,} mails queued, {r['waiting']:,} waiting for their window's "
              f"end; the match statement alone {r['match_ms'] / n:.2f} ms a report")


if __name__ == "__main__":
    main()
