"""Atom feeds at 1,000,000 reports, beside the same SQL run raw.

Five feeds a reader polls: the busiest ward's and the quietest ward's (few or no reports: the
case that needs report_ward_created), a category's, a drawn area's (about 1 km² in the city
centre) and one report's updates (60 public events). Each goes through the whole Django
stack (URL, middleware, the open-data limit, the view, the Atom writer) with Django's test
client; the baseline runs the identical SQL string and parameters through a plain psycopg2
connection and fetches the rows. The view adds the Atom document (50 entries) and its ETag; the
figure shows what that costs beside the query alone. A revalidation (If-None-Match, 304) is
timed too: it still runs the query, to know whether anything changed.

Synthetic reports have no ward: the first run gives them their ward (the area part covering
the point) once.

    CITYPIN_BENCH_DB=citypin_bench_feeds .venv/bin/python bench/feeds.py [--max 1000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import re

os.environ.setdefault("CITYPIN_BENCH_DB", "citypin_bench_feeds")
os.environ["OPEN_DATA_READ_RATE"] = "1000000/min"

import _db  # noqa: E402

_db.use_bench_database()

from django.contrib.gis.geos import Polygon  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from gis.models import Area  # noqa: E402
from incidents.feeds import queries  # noqa: E402
from incidents.models import DrawnArea, Report  # noqa: E402
from incidents.read.public import PUBLIC_EVENT_KINDS  # noqa: E402

# Each synthetic report gets the ward whose subdivided part covers its point (GiST on the parts).
ASSIGN_WARDS_SQL = """
UPDATE incidents_report r SET ward_id = p.area_id
FROM geo_areapart p JOIN geo_area a ON a.id = p.area_id AND a.kind = 'ward'
WHERE r.ward_id IS NULL AND ST_Covers(p.geom, r.public_location)
"""

EVENTS_SQL = """
INSERT INTO incidents_reportevent (report_id, kind, from_status, to_status, message, is_public, data, created_at)
SELECT %(report)s, CASE WHEN mod(n, 3) = 0 THEN 'note' WHEN mod(n, 3) = 1 THEN 'comment' ELSE 'status_changed' END,
       '', CASE WHEN mod(n, 3) = 2 THEN 'in_progress' ELSE '' END, 'Cập nhật số ' || n, mod(n, 3) <> 0, '{}',
       now() - make_interval(hours => 90 - n)
FROM generate_series(1, 90) n
"""


def prepare() -> tuple[str, str, str, str, str]:
    """The busiest and the quietest ward, a category, a drawn area and a report with events."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_report WHERE ward_id IS NULL")
        if cursor.fetchone()[0]:
            cursor.execute(ASSIGN_WARDS_SQL)
            _db.vacuum("incidents_report")
        cursor.execute("SELECT ward_id FROM incidents_report WHERE ward_id IS NOT NULL "
                       "GROUP BY ward_id ORDER BY count(*) DESC LIMIT 1")
        ward = Area.objects.get(pk=cursor.fetchone()[0]).code
        cursor.execute("SELECT a.code FROM geo_area a LEFT JOIN incidents_report r ON r.ward_id = a.id "
                       "WHERE a.kind = 'ward' GROUP BY a.code ORDER BY count(r.id), a.code LIMIT 1")
        quiet = cursor.fetchone()[0]
    report = Report.objects.order_by("-id").first()
    if not report.events.exists():
        with connection.cursor() as cursor:
            cursor.execute(EVENTS_SQL, {"report": report.pk})
    area = DrawnArea.objects.order_by("pk").first() or DrawnArea.objects.create(
        geom=Polygon.from_bbox((105.775, 10.025, 105.785, 10.034)))  # ~1.1 km × 1.0 km, SRID 4326
    category = Report.objects.order_by("id").values_list("category__code", flat=True).first()
    return ward, quiet, category, area.slug, report.public_id


def plan(raw, sql: str, params: dict) -> str:
    """The indexes the plan uses, for the reader to check the query is served by them."""
    with raw.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    return ", ".join(dict.fromkeys(re.findall(r"(?:Index(?: Only)? Scan(?: Backward)?|Bitmap Index Scan) "
                                              r"(?:using|on) (\w+)", text))) or "no index"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    _db.grow_to(args.max)
    ward, quiet, category, area, public_id = prepare()
    raw = _db.raw_connection()
    with raw.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")  # as Django's connection (USE_TZ)
    common = {"lang": "vi", "limit": queries.MAX_ENTRIES}
    cases = [
        (f"ward {ward}", f"/feeds/wards/{ward}.atom", queries.WARD_SQL,
         {**common, "code": ward, "ward_kind": Area.Kind.WARD}),
        (f"quietest ward {quiet}", f"/feeds/wards/{quiet}.atom", queries.WARD_SQL,
         {**common, "code": quiet, "ward_kind": Area.Kind.WARD}),
        (f"category {category}", f"/feeds/categories/{category}.atom", queries.CATEGORY_SQL,
         {**common, "code": category}),
        ("drawn area ~1 km²", f"/feeds/areas/{area}.atom", queries.AREA_SQL, {**common, "code": area}),
        ("one report's updates", f"/feeds/reports/{public_id}.atom", queries.TIMELINE_SQL,
         {**common, "public_id": public_id, "public_event_kinds": list(PUBLIC_EVENT_KINDS)}),
    ]
    client = Client(HTTP_ACCEPT_ENCODING="identity")
    print(f"Atom feeds at {args.max:,} reports, {args.repeat} requests each (best of 5, alternated)")
    for label, url, sql, params in cases:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        entries = response.content.count(b"<entry>")
        etag = response["ETag"]

        def raw_query():
            with raw.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        feed = base = revalidate = float("inf")
        for _ in range(5):
            feed = min(feed, _db.timed(lambda: [client.get(url) for _ in range(args.repeat)]))
            revalidate = min(revalidate, _db.timed(
                lambda: [client.get(url, HTTP_IF_NONE_MATCH=etag) for _ in range(args.repeat)]))
            base = min(base, _db.timed(lambda: [raw_query() for _ in range(args.repeat)]))
        ms = 1000 / args.repeat
        print(f"   {label:28} {entries:3} entries  feed {feed * ms:6.2f} ms   304 {revalidate * ms:6.2f} ms   "
              f"raw SQL {base * ms:6.2f} ms   ratio {base / feed:.2f}   indexes: {plan(raw, sql, params)}")


if __name__ == "__main__":
    main()
