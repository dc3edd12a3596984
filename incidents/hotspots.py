"""Hotspots: places where one category keeps being reported, found with DBSCAN in PostGIS.

For each category, HOTSPOTS_SQL clusters the located reports of a rolling window (default the
last 30 days) with ST_ClusterDBSCAN in the deployment's metric SRID (CITYPIN_METRIC_SRID,
metres), with the category's eps (hotspot_eps_m) and minpoints (hotspot_min_points). Each
cluster becomes a Hotspot: its convex hull padded by eps/2, its centroid, its counts, and the
count of reports in the same footprint during the previous window (the trend).

Incremental refresh: only categories with reports newer than their last run, and only around
them. The region recomputed is every report within 2·eps of a new report plus every report
within eps of a hotspot that such a report touches; the hotspots touched are replaced. A cluster
can only change where a new point is, so this is exact unless a chain of points longer than the
region links to a hotspot outside it; the daily full refresh (and the window moving on) repairs
that. Every distance test is ST_DWithin on geography, served by the GiST index on
incidents_report.location::geography.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Category, HotspotRun, Report

# {points} is a SELECT of (id, is_open, g) — g in the metric SRID — for one category's window.
HOTSPOTS_SQL = """
WITH pts AS ({points}),
clustered AS (
    SELECT pts.*, ST_ClusterDBSCAN(g, eps := %(eps)s, minpoints := %(minpoints)s) OVER () AS cid FROM pts
),
clusters AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n,
           ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(g)), %(eps)s / 2.0, 4), 4326) AS hull,
           ST_Transform(ST_Centroid(ST_Collect(g)), 4326) AS centre
    FROM clustered WHERE cid IS NOT NULL GROUP BY cid
)
INSERT INTO incidents_hotspot (category_id, window_start, window_end, footprint, centroid, report_count,
                               open_count, previous_count, computed_at)
SELECT %(category_id)s, %(since)s, %(until)s, hull, centre, n, open_n,
       (SELECT count(*) FROM incidents_report p
        WHERE p.category_id = %(category_id)s AND p.created_at >= %(previous_since)s AND p.created_at < %(since)s
          AND ST_Covers(hull, p.location)),
       %(until)s
FROM clusters
"""

WINDOW_POINTS = """
SELECT r.id, r.status = ANY(%(open_statuses)s) AS is_open, ST_Transform(r.location, %(srid)s) AS g
FROM incidents_report r
WHERE r.category_id = %(category_id)s AND r.location IS NOT NULL
  AND r.created_at >= %(since)s AND r.created_at < %(until)s
"""

# Reports new since the last run, and the hotspots they touch (within 2·eps, metres).
NEW_AND_TOUCHED = """
CREATE TEMP TABLE hotspot_new ON COMMIT DROP AS
    SELECT r.location::geography AS gg FROM incidents_report r
    WHERE r.category_id = %(category_id)s AND r.id > %(last_report_id)s AND r.location IS NOT NULL
      AND r.created_at >= %(since)s AND r.created_at < %(until)s;
CREATE TEMP TABLE hotspot_touched ON COMMIT DROP AS
    SELECT h.id, h.footprint::geography AS gg FROM incidents_hotspot h
    WHERE h.category_id = %(category_id)s
      AND EXISTS (SELECT 1 FROM hotspot_new n WHERE ST_DWithin(h.footprint::geography, n.gg, 2 * %(eps)s));
DELETE FROM incidents_hotspot WHERE id IN (SELECT id FROM hotspot_touched);
"""

REGION_POINTS = """
SELECT r.id, r.status = ANY(%(open_statuses)s) AS is_open, ST_Transform(r.location, %(srid)s) AS g
FROM incidents_report r
WHERE r.id IN (
    SELECT r2.id FROM hotspot_new n JOIN incidents_report r2 ON ST_DWithin(r2.location::geography, n.gg, 2 * %(eps)s)
    UNION
    SELECT r3.id FROM hotspot_touched t JOIN incidents_report r3 ON ST_DWithin(r3.location::geography, t.gg, %(eps)s)
)
  AND r.category_id = %(category_id)s AND r.created_at >= %(since)s AND r.created_at < %(until)s
"""

DEFAULT_WINDOW = timedelta(days=30)
FULL_EVERY = timedelta(hours=24)


@dataclass
class RefreshResult:
    full: list[str] = field(default_factory=list)
    incremental: list[str] = field(default_factory=list)
    hotspots: int = 0

    def summary(self) -> str:
        return (f"hotspots: {self.hotspots} after {len(self.full)} full and "
                f"{len(self.incremental)} incremental category refreshes")


def _params(category: Category, since: datetime, until: datetime, window: timedelta) -> dict:
    return {"category_id": category.pk, "eps": float(category.hotspot_eps_m), "minpoints": category.hotspot_min_points,
            "since": since, "until": until, "previous_since": since - window,
            "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}


@transaction.atomic
def refresh_category(category: Category, *, full: bool, now: datetime | None = None,
                     window: timedelta = DEFAULT_WINDOW) -> None:
    until = now or timezone.now()
    since = until - window
    run, _ = HotspotRun.objects.select_for_update().get_or_create(category=category)
    last_report_id = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    params = _params(category, since, until, window) | {"last_report_id": run.last_report_id}
    with connection.cursor() as cursor:
        if full:
            cursor.execute("DELETE FROM incidents_hotspot WHERE category_id = %s", [category.pk])
            cursor.execute(HOTSPOTS_SQL.format(points=WINDOW_POINTS), params)
            run.full_at = until
        else:
            cursor.execute(NEW_AND_TOUCHED, params)
            cursor.execute(HOTSPOTS_SQL.format(points=REGION_POINTS), params)
            cursor.execute("DROP TABLE hotspot_new; DROP TABLE hotspot_touched;")
    run.last_report_id = last_report_id
    run.ran_at = until
    run.save()


def refresh_hotspots(full: bool = False, now: datetime | None = None, window: timedelta = DEFAULT_WINDOW,
                     categories: list[Category] | None = None) -> RefreshResult:
    """Refresh hotspots. Without `full`: a category never computed, or last fully computed more
    than a day ago, is recomputed whole; one with new reports since its last run, around them;
    the others are left alone."""
    now = now or timezone.now()
    result = RefreshResult()
    runs = {run.category_id: run for run in HotspotRun.objects.all()}
    newest = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for category in categories or Category.objects.filter(active=True):
        run = runs.get(category.pk)
        if full or run is None or run.full_at is None or now - run.full_at >= FULL_EVERY:
            refresh_category(category, full=True, now=now, window=window)
            result.full.append(category.code)
        elif run.last_report_id < newest and Report.objects.filter(category=category, id__gt=run.last_report_id).exists():
            refresh_category(category, full=False, now=now, window=window)
            result.incremental.append(category.code)
    from .models import Hotspot

    result.hotspots = Hotspot.objects.count()
    return result
