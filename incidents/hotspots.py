"""Hotspots: places where one category keeps being reported, found with DBSCAN in PostGIS.

For each category, FULL_CLUSTERS_SQL clusters the located reports of a rolling window (default the
last 30 days) with ST_ClusterDBSCAN in the deployment's metric SRID (CITYPIN_METRIC_SRID,
metres), with the category's eps (hotspot_eps_m) and minpoints (hotspot_min_points). Each
cluster becomes a Hotspot: its convex hull padded by eps/2, its centroid, its counts, and the
count of reports in the same footprint during the previous window (the trend). Footprints and
centroids are drawn from the reports' public points, so a hotspot of a category published with
a reduced precision gives nothing finer away; the clustering itself uses the exact points.

Incremental refresh (INCREMENTAL_SQL): only categories with reports newer than their last run,
and only what those reports change: they grow the hotspot they fall in, or start a new one
where they complete a cluster. The daily full refresh recomputes everything exactly (merges,
reports leaving the window). Every distance test is ST_DWithin on geography, served by GiST
indexes.
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
#    the reports of a bucket come from the bucket index (migration 0004, index-only) before
#    the exact ST_Covers test in SRID 4326: a few index probes per hotspot, each returning
#    only the category's reports of that bucket and window.
FULL_CLUSTERS_SQL = """
CREATE TEMP TABLE hotspot_clusters ON COMMIT DROP AS
SELECT category_id, n, open_n, ST_Transform(ST_Buffer(ST_Transform(hull, %(srid)s), eps / 2.0, 4), 4326) AS hull,
       centre, key
FROM (
    -- Hull and centre of a cluster a few hundred metres across are the same in lon/lat and in
    -- metres to well under a centimetre: only the hull's few vertices go to the metric SRID,
    -- for the buffer of eps/2 metres.
    SELECT category_id, count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n, max(eps) AS eps,
           ST_ConvexHull(ST_Collect(public_location)) AS hull, ST_Centroid(ST_Collect(public_location)) AS centre,
           row_number() OVER () AS key
    FROM (
        SELECT pts.*, ST_ClusterDBSCAN(g, eps := eps, minpoints := minpoints) OVER (PARTITION BY category_id) AS cid
        FROM (  -- from the covering index report_hotspot_cover alone, in category order: no sort
            SELECT r.category_id, r.status = ANY(%(open_statuses)s) AS is_open,
                   ST_Transform(r.location, %(srid)s) AS g, r.public_location,
                   c.hotspot_eps_m::float8 AS eps, c.hotspot_min_points AS minpoints
            FROM incidents_report r JOIN incidents_category c ON c.id = r.category_id
            WHERE r.location IS NOT NULL AND r.created_at >= %(since)s AND r.created_at < %(until)s
              AND r.id <= %(upto)s {only}
        ) pts
    ) clustered
    WHERE cid IS NOT NULL
    GROUP BY category_id, cid
) g;
"""

FULL_PREVIOUS_SQL = """
CREATE TEMP TABLE hotspot_fresh ON COMMIT DROP AS
WITH previous AS (
    SELECT ce.key, count(*) AS n
    FROM hotspot_clusters ce
    CROSS JOIN LATERAL generate_series(floor(ST_XMin(ce.hull) * 100)::int, floor(ST_XMax(ce.hull) * 100)::int) AS x
    CROSS JOIN LATERAL generate_series(floor(ST_YMin(ce.hull) * 100)::int, floor(ST_YMax(ce.hull) * 100)::int) AS y
    CROSS JOIN LATERAL (
        SELECT p.location FROM incidents_report p  -- the bucket index: (category, x cell, y cell, created_at)
        WHERE p.category_id = ce.category_id AND p.location IS NOT NULL
          AND floor(ST_X(p.location) * 100)::int = x AND floor(ST_Y(p.location) * 100)::int = y
          AND p.created_at >= %(previous_since)s AND p.created_at < %(since)s
        OFFSET 0  -- one index probe per cell, whatever the planner estimates for the temporary table
    ) p
    WHERE ST_Covers(ce.hull, p.location) IS TRUE
    GROUP BY ce.key
)
SELECT cl.category_id, cl.hull, cl.centre, cl.n, cl.open_n, coalesce(pr.n, 0) AS previous_n
FROM hotspot_clusters cl LEFT JOIN previous pr ON pr.key = cl.key;
DROP TABLE hotspot_clusters;
"""

# Incremental refresh: what the reports added since the last run change, without clustering
# again (DBSCAN only grows clusters when points are added; points leaving the window are the
# daily full refresh's business).
# 1. A new report within eps of a hotspot of its category (GiST on footprint::geography) joins
#    the nearest one: counts go up, the footprint becomes the hull of the old footprint and the
#    new points padded by eps/2 (metres, in the metric SRID).
# 2. A new report joining no hotspot is a seed if, with the reports of its category within eps
#    of it, it reaches minpoints: the candidates come from the bucket index (0.01° cells, an
#    index-only scan of the one to four cells its eps-box touches), then ST_DWithin on the
#    sphere decides. The reports within 2·eps of the seeds are clustered, and the clusters
#    holding a seed become hotspots.
# Two hotspots that a new report links stay two until the next full refresh.
INCREMENTAL_SQL = """
CREATE TEMP TABLE hotspot_new ON COMMIT DROP AS
SELECT r.id, r.category_id, r.location, r.public_location, r.location::geography AS gg,
       r.status = ANY(%(open_statuses)s) AS is_open,
       c.hotspot_eps_m::float8 AS eps, c.hotspot_min_points AS minpoints
FROM incidents_report r JOIN incidents_category c ON c.id = r.category_id
JOIN unnest(%(category_ids)s::bigint[], %(last_ids)s::bigint[]) AS run(category_id, last_id)
  ON run.category_id = r.category_id
WHERE r.id > run.last_id AND r.id > %(min_last_id)s AND r.id <= %(upto)s AND r.location IS NOT NULL
  AND r.created_at >= %(since)s AND r.created_at < %(until)s;

CREATE TEMP TABLE hotspot_joined ON COMMIT DROP AS
SELECT n.id AS report_id, near.id AS hotspot_id, n.public_location, n.is_open, n.eps
FROM hotspot_new n
CROSS JOIN LATERAL (
    SELECT h.id FROM incidents_hotspot h
    WHERE h.category_id = n.category_id AND ST_DWithin(h.footprint::geography, n.gg, n.eps)
    ORDER BY ST_Distance(h.footprint::geography, n.gg), h.id
    LIMIT 1
) near;

UPDATE incidents_hotspot h
SET report_count = h.report_count + j.n, open_count = h.open_count + j.open_n,
    footprint = j.footprint, centroid = ST_Centroid(j.footprint), window_end = %(until)s, computed_at = %(until)s
FROM (
    SELECT g.hotspot_id, g.n, g.open_n,
           -- the hull of disks is the hull of their centres, padded: one buffer, not a union
           ST_Transform(ST_ConvexHull(ST_Collect(ST_Transform(hh.footprint, %(srid)s),
                                                  ST_Buffer(ST_ConvexHull(ST_Transform(g.points, %(srid)s)),
                                                            g.eps / 2.0, 4))),
                        4326) AS footprint
    FROM (SELECT hotspot_id, count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n,
                 ST_Collect(public_location) AS points, max(eps) AS eps
          FROM hotspot_joined GROUP BY hotspot_id) g
    JOIN incidents_hotspot hh ON hh.id = g.hotspot_id
) j
WHERE h.id = j.hotspot_id;

CREATE TEMP TABLE hotspot_seeds ON COMMIT DROP AS
WITH lonely AS MATERIALIZED (  -- the new reports that joined no hotspot
    SELECT n.*, n.eps / (111320.0 * cos(radians(least(abs(ST_Y(n.location)) + 0.01, 89)))) * 1.01 AS dx,
           n.eps / 110574.0 * 1.01 AS dy  -- eps in degrees, rounded up: lookup keys, not distances
    FROM hotspot_new n
    WHERE NOT EXISTS (SELECT 1 FROM hotspot_joined j WHERE j.report_id = n.id)
)
SELECT l.id, l.category_id, l.location, l.public_location, l.gg, l.is_open, l.eps, l.minpoints
FROM lonely l
WHERE (SELECT count(*) FROM (  -- stop counting at minpoints
          SELECT 1 FROM (
              SELECT r.location  -- index-only, from the buckets (0.01° cells) its eps-box touches
              FROM (SELECT DISTINCT floor(px * 100)::int AS bx, floor(py * 100)::int AS by
                    FROM (VALUES (ST_X(l.location) - l.dx, ST_Y(l.location) - l.dy),
                                 (ST_X(l.location) + l.dx, ST_Y(l.location) - l.dy),
                                 (ST_X(l.location) - l.dx, ST_Y(l.location) + l.dy),
                                 (ST_X(l.location) + l.dx, ST_Y(l.location) + l.dy)) AS corner(px, py)) b
              JOIN incidents_report r
                ON r.category_id = l.category_id AND r.location IS NOT NULL
               AND floor(ST_X(r.location) * 100)::int = b.bx AND floor(ST_Y(r.location) * 100)::int = b.by
               AND r.created_at >= %(since)s AND r.created_at < %(until)s
              OFFSET 0  -- keeps the exact test below out of the index scan
          ) bucket
          WHERE ST_DWithin(bucket.location::geography, l.gg, l.eps, false)
          LIMIT l.minpoints) enough) >= l.minpoints;

CREATE TEMP TABLE hotspot_fresh ON COMMIT DROP AS
WITH region AS (
    SELECT DISTINCT r.id, r.category_id, r.status = ANY(%(open_statuses)s) AS is_open,
           ST_Transform(r.location, %(srid)s) AS g, ST_Transform(r.public_location, %(srid)s) AS pg, s.eps, s.minpoints
    FROM hotspot_seeds s
    JOIN incidents_report r ON r.category_id = s.category_id AND ST_DWithin(r.location::geography, s.gg, 2 * s.eps)
    WHERE r.created_at >= %(since)s AND r.created_at < %(until)s AND r.id <= %(upto)s
      AND r.id NOT IN (SELECT report_id FROM hotspot_joined)  -- already counted in a hotspot
),
clustered AS (
    SELECT region.*, ST_ClusterDBSCAN(g, eps := eps, minpoints := minpoints) OVER (PARTITION BY category_id) AS cid
    FROM region
),
clusters AS (
    SELECT category_id, count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n,
           ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(pg)), max(eps) / 2.0, 4), 4326) AS hull,
           ST_Transform(ST_Centroid(ST_Collect(pg)), 4326) AS centre
    FROM clustered
    WHERE cid IS NOT NULL
    GROUP BY category_id, cid
    HAVING bool_or(id IN (SELECT id FROM hotspot_seeds))
)
SELECT category_id, hull, centre, n, open_n,
       (SELECT count(*) FROM incidents_report p  -- GiST on (category_id, location::geography)
        WHERE p.category_id = clusters.category_id AND ST_Intersects(p.location::geography, hull::geography)
          AND p.created_at >= %(previous_since)s AND p.created_at < %(since)s) AS previous_n
FROM clusters
WHERE NOT EXISTS (  -- one that reaches an existing hotspot would overlap it: the full refresh merges them
    SELECT 1 FROM incidents_hotspot h
    WHERE h.category_id = clusters.category_id AND ST_Intersects(h.footprint, clusters.hull));
DROP TABLE hotspot_new;
DROP TABLE hotspot_joined;
DROP TABLE hotspot_seeds;
"""

# The computed hotspots go through a temporary table (hotspot_fresh): a SELECT into a table may
# run in parallel, an INSERT … SELECT may not (PostgreSQL 15).
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
    """Recompute every hotspot of these categories (all of them in the same statements)."""
    last_report_id = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = [c.pk for c in categories]
    params = {"category_ids": ids, "upto": last_report_id, "since": now - window, "until": now, "previous_since": now - 2 * window,
              "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}
    # For every category at once, a parallel scan of the whole window beats the category index.
    everyone = set(ids) >= set(Category.objects.values_list("pk", flat=True))
    only = "" if everyone else "AND r.category_id = ANY(%(category_ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(FULL_CLUSTERS_SQL.format(only=only), params)
        cursor.execute(FULL_PREVIOUS_SQL, params)
        cursor.execute(STORE_SQL.format(which="category_id = ANY(%(category_ids)s)"), params)
    HotspotRun.objects.bulk_create(
        [HotspotRun(category=c, last_report_id=last_report_id, full_at=now, ran_at=now) for c in categories],
        update_conflicts=True, unique_fields=["category"], update_fields=["last_report_id", "full_at", "ran_at"])


@transaction.atomic
def refresh_around_new_reports(categories: list[Category], *, now: datetime, window: timedelta) -> None:
    """Update the hotspots of these categories with the reports added since their last run."""
    runs = list(HotspotRun.objects.select_for_update().filter(category__in=categories).order_by("category_id"))
    last_report_id = Report.objects.order_by("-id").values_list("id", flat=True).first() or 0
    params = {"category_ids": [r.category_id for r in runs], "last_ids": [r.last_report_id for r in runs],
              "min_last_id": min((r.last_report_id for r in runs), default=0), "upto": last_report_id,
              "since": now - window, "until": now, "previous_since": now - 2 * window,
              "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute(INCREMENTAL_SQL, params)
        cursor.execute(STORE_SQL.format(which="FALSE"), params)  # only additions
    HotspotRun.objects.filter(pk__in=[r.pk for r in runs]).update(last_report_id=last_report_id, ran_at=now)


def refresh_hotspots(full: bool = False, now: datetime | None = None, window: timedelta = DEFAULT_WINDOW,
                     categories: list[Category] | None = None) -> RefreshResult:
    """Refresh hotspots. Without `full`: a category never computed, or last fully computed more
    than a day ago, is recomputed whole; one with new reports since its last run, around them;
    the others are left alone."""
    with transaction.atomic():
        # One refresh at a time (a worker and the command, or two workers): a second waits, then
        # sees what the first wrote. The lock lasts until this transaction ends.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HOTSPOT_LOCK])
        return _refresh_hotspots(full, now, window, categories)


HOTSPOT_LOCK = 0x43495459_0001  # "CITY", 1: this deployment's hotspot refresh


def _refresh_hotspots(full: bool, now: datetime | None, window: timedelta,
                      categories: list[Category] | None) -> RefreshResult:
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
