"""Hotspots: places where one category keeps being reported, found with DBSCAN in PostGIS.

For each category, FULL_CLUSTERS_SQL clusters the located reports of a rolling window (default the
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

# Full refresh of several categories, in two statements into temporary tables (a SELECT into a
# table may scan in parallel; an INSERT … SELECT may not, in PostgreSQL 15):
# 1. FULL_CLUSTERS_SQL: DBSCAN partitioned by category, each partition with its category's eps
#    and minpoints, in the metric SRID; one row per cluster with its footprint (convex hull
#    padded by eps/2, back in SRID 4326), centroid and counts.
# 2. FULL_PREVIOUS_SQL: the previous window's reports counted per footprint. Each footprint
#    lists the buckets it touches (0.01° cells, about 1.1 km: a lookup key, not a distance);
#    the reports of a bucket come from the bucket index (migration 0004) before the exact
#    ST_Covers test in SRID 4326: a few index probes per hotspot, each returning only the
#    category's reports of that bucket and window.
FULL_CLUSTERS_SQL = """
CREATE TEMP TABLE hotspot_clusters ON COMMIT DROP AS
SELECT category_id, count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n,
       ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(g)), max(eps) / 2.0, 4), 4326) AS hull,
       ST_Transform(ST_Centroid(ST_Collect(g)), 4326) AS centre,
       row_number() OVER () AS key
FROM (
    SELECT pts.*, ST_ClusterDBSCAN(g, eps := eps, minpoints := minpoints) OVER (PARTITION BY category_id) AS cid
    FROM (
        SELECT r.category_id, r.status = ANY(%(open_statuses)s) AS is_open, ST_Transform(r.location, %(srid)s) AS g,
               c.hotspot_eps_m::float8 AS eps, c.hotspot_min_points AS minpoints
        FROM incidents_report r JOIN incidents_category c ON c.id = r.category_id
        WHERE r.location IS NOT NULL AND r.created_at >= %(since)s AND r.created_at < %(until)s {only}
    ) pts
) clustered
WHERE cid IS NOT NULL
GROUP BY category_id, cid;
CREATE TEMP TABLE hotspot_cells ON COMMIT DROP AS  -- the buckets each footprint touches
SELECT key, category_id, hull, x, y
FROM hotspot_clusters,
     generate_series(floor(ST_XMin(hull) * 100)::int, floor(ST_XMax(hull) * 100)::int) AS x,
     generate_series(floor(ST_YMin(hull) * 100)::int, floor(ST_YMax(hull) * 100)::int) AS y;
ANALYZE hotspot_clusters;
ANALYZE hotspot_cells;
"""

FULL_PREVIOUS_SQL = """
CREATE TEMP TABLE hotspot_fresh ON COMMIT DROP AS
WITH previous AS (
    SELECT ce.key, count(*) AS n
    FROM hotspot_cells ce
    JOIN incidents_report p  -- the bucket index: (category, x cell, y cell, created_at)
      ON p.category_id = ce.category_id
     AND floor(ST_X(p.location) * 100)::int = ce.x AND floor(ST_Y(p.location) * 100)::int = ce.y
     AND p.created_at >= %(previous_since)s AND p.created_at < %(since)s
    WHERE p.location IS NOT NULL AND ST_Covers(ce.hull, p.location) IS TRUE
    GROUP BY ce.key
)
SELECT cl.category_id, cl.hull, cl.centre, cl.n, cl.open_n, coalesce(pr.n, 0) AS previous_n
FROM hotspot_clusters cl LEFT JOIN previous pr ON pr.key = cl.key;
DROP TABLE hotspot_clusters;
DROP TABLE hotspot_cells;
"""

# Incremental refresh of several categories around their new reports, in one statement. New
# reports are those with an id above the last run's; a hotspot is touched when a new report of
# its category lies within 2·eps of it (GiST on footprint::geography). The region clustered
# again is every report of the category within 2·eps of a new one or within eps of a touched
# hotspot (GiST on location::geography); touched hotspots are replaced by the clusters found.
# Few hotspots change, so each counts its previous window with an index probe.
INCREMENTAL_SQL = """
WITH params AS (
    SELECT c.id AS category_id, c.hotspot_eps_m::float8 AS eps, c.hotspot_min_points AS minpoints
    FROM incidents_category c WHERE c.id = ANY(%(category_ids)s)
),
new AS MATERIALIZED (
    SELECT r.category_id, r.location::geography AS gg, p.eps
    FROM incidents_report r JOIN params p ON p.category_id = r.category_id
    WHERE r.id > %(last_report_id)s AND r.location IS NOT NULL
      AND r.created_at >= %(since)s AND r.created_at < %(until)s
),
touched AS MATERIALIZED (
    SELECT DISTINCT h.id, h.category_id, h.footprint::geography AS gg, n.eps
    FROM new n
    JOIN incidents_hotspot h ON h.category_id = n.category_id AND ST_DWithin(h.footprint::geography, n.gg, 2 * n.eps)
),
region AS (  -- GiST on (category_id, location::geography)
    SELECT r.id FROM new n
    JOIN incidents_report r ON r.category_id = n.category_id AND ST_DWithin(r.location::geography, n.gg, 2 * n.eps)
    UNION
    SELECT r.id FROM touched t
    JOIN incidents_report r ON r.category_id = t.category_id AND ST_DWithin(r.location::geography, t.gg, t.eps)
),
pts AS (
    SELECT r.category_id, r.status = ANY(%(open_statuses)s) AS is_open, ST_Transform(r.location, %(srid)s) AS g,
           p.eps, p.minpoints
    FROM incidents_report r JOIN params p ON p.category_id = r.category_id
    WHERE r.id IN (SELECT id FROM region) AND r.created_at >= %(since)s AND r.created_at < %(until)s
),
clustered AS (
    SELECT pts.*, ST_ClusterDBSCAN(g, eps := eps, minpoints := minpoints) OVER (PARTITION BY category_id) AS cid
    FROM pts
),
clusters AS (
    SELECT category_id, count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n,
           ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(g)), max(eps) / 2.0, 4), 4326) AS hull,
           ST_Transform(ST_Centroid(ST_Collect(g)), 4326) AS centre
    FROM clustered WHERE cid IS NOT NULL GROUP BY category_id, cid
),
touched_ids AS (SELECT array_agg(id) AS ids FROM touched)
SELECT category_id, hull, centre, n, open_n,
       (SELECT count(*) FROM incidents_report p  -- GiST on (category_id, location::geography)
        WHERE p.category_id = clusters.category_id AND ST_Intersects(p.location::geography, hull::geography)
          AND p.created_at >= %(previous_since)s AND p.created_at < %(since)s) AS previous_n,
       (SELECT ids FROM touched_ids) AS replaces
FROM clusters
UNION ALL  -- a touched hotspot may vanish: keep the ids to delete even when no cluster is found
SELECT NULL, NULL, NULL, NULL, NULL, NULL, (SELECT ids FROM touched_ids)
"""

# The computed hotspots go through a temporary table: a SELECT into it may run in parallel,
# an INSERT … SELECT may not (PostgreSQL 15); the DBSCAN input scan is then shared by workers.
STORE_SQL = """
DELETE FROM incidents_hotspot WHERE {which};
INSERT INTO incidents_hotspot (category_id, window_start, window_end, footprint, centroid, report_count,
                               open_count, previous_count, computed_at)
SELECT category_id, %(since)s, %(until)s, hull, centre, n, open_n, previous_n, %(until)s
FROM hotspot_fresh WHERE category_id IS NOT NULL;
DROP TABLE hotspot_fresh;
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


@transaction.atomic
def refresh_full(categories: list[Category], *, now: datetime, window: timedelta) -> None:
    """Recompute every hotspot of these categories (one statement for all of them)."""
    last_report_id = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = [c.pk for c in categories]
    params = {"category_ids": ids, "since": now - window, "until": now, "previous_since": now - 2 * window,
              "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}
    # For every category at once, a parallel scan of the whole window beats the category index.
    everyone = set(ids) >= set(Category.objects.values_list("pk", flat=True))
    only = "" if everyone else "AND r.category_id = ANY(%(category_ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(FULL_CLUSTERS_SQL.format(only=only), params)
        cursor.execute(FULL_PREVIOUS_SQL, params)
        cursor.execute(STORE_SQL.format(which="category_id = ANY(%(category_ids)s)"), params)
    for category in categories:
        HotspotRun.objects.update_or_create(category=category, defaults={
            "last_report_id": last_report_id, "full_at": now, "ran_at": now})


@transaction.atomic
def refresh_around_new_reports(categories: list[Category], *, now: datetime, window: timedelta) -> None:
    """Recompute the hotspots of these categories near the reports added since their last run."""
    runs = list(HotspotRun.objects.select_for_update().filter(category__in=categories))
    last_report_id = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    params = {"category_ids": [c.pk for c in categories], "last_report_id": min(r.last_report_id for r in runs),
              "since": now - window, "until": now, "previous_since": now - 2 * window,
              "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE hotspot_fresh ON COMMIT DROP AS " + INCREMENTAL_SQL, params)
        cursor.execute(STORE_SQL.format(
            which="id = ANY(coalesce((SELECT replaces FROM hotspot_fresh LIMIT 1), '{}'))"), params)
    HotspotRun.objects.filter(pk__in=[r.pk for r in runs]).update(last_report_id=last_report_id, ran_at=now)


def refresh_hotspots(full: bool = False, now: datetime | None = None, window: timedelta = DEFAULT_WINDOW,
                     categories: list[Category] | None = None) -> RefreshResult:
    """Refresh hotspots. Without `full`: a category never computed, or last fully computed more
    than a day ago, is recomputed whole; one with new reports since its last run, around them;
    the others are left alone."""
    now = now or timezone.now()
    result = RefreshResult()
    runs = {run.category_id: run for run in HotspotRun.objects.all()}
    newest = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    whole, around = [], []
    for category in categories or Category.objects.filter(active=True):
        run = runs.get(category.pk)
        if full or run is None or run.full_at is None or now - run.full_at >= FULL_EVERY:
            whole.append(category)
        elif run.last_report_id < newest and Report.objects.filter(category=category, id__gt=run.last_report_id).exists():
            around.append(category)
    if whole:
        refresh_full(whole, now=now, window=window)
    if around:
        refresh_around_new_reports(around, now=now, window=window)
    result.full = [c.code for c in whole]
    result.incremental = [c.code for c in around]
    from .models import Hotspot

    result.hotspots = Hotspot.objects.count()
    return result
