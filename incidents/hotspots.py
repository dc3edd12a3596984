"""Hotspots: places where one category keeps being reported, found with DBSCAN in PostGIS.

A full refresh clusters each category's located reports of a rolling window (default the last
30 days) with ST_ClusterDBSCAN in the deployment's metric SRID (CITYPIN_METRIC_SRID, metres),
with the category's eps (hotspot_eps_m) and minpoints (hotspot_min_points): CATEGORY_CLUSTERS,
one statement per category, shared among database sessions (see _on_sessions). Each cluster
becomes a Hotspot: its convex hull padded by eps/2, its centroid, its counts, and the count of
reports in the same footprint during the previous window (the trend). Footprints and centroids
are drawn from the reports' public points, so a hotspot of a category published with a reduced
precision gives nothing finer away; the clustering itself uses the exact points.

An incremental refresh (INCREMENTAL_SQL, SEEDS, AROUND_SEEDS_SQL) looks only at categories with
reports newer than their last run, and only at what those reports change: they grow the hotspot
they fall near, or start a new one where they complete a cluster. The daily full refresh
recomputes everything exactly (merges, reports leaving the window).
"""

from __future__ import annotations

import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg2
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from incidents.models import Category, Hotspot, HotspotRun, Report
from incidents.prepared import PreparedQuery

# Full refresh, one category per statement (CATEGORY_CLUSTERS, prepared once per session):
# 1. clusters: DBSCAN over the category's located reports of the window, read from the covering
#    index report_hotspot_cover alone, in the metric SRID with the category's eps and minpoints;
#    one row per cluster with its footprint (convex hull padded by eps/2 with citypin_pad, in
#    the local metric scale), centroid and counts.
# 2. previous: the previous window's reports counted per footprint. Each footprint lists the
#    buckets it touches (0.01° cells, about 1.1 km: a lookup key, not a distance); the reports
#    of a bucket come from the bucket index (migration 0004, index-only) before the exact
#    ST_Covers test in SRID 4326: a few index probes per hotspot.
# Footprints come back as hex EWKB; the refreshing transaction COPYs them into hotspot_fresh.
CATEGORY_CLUSTERS_SQL = """
WITH clusters AS MATERIALIZED (
    SELECT row_number() OVER () AS key, n, open_n, ST_SetSRID(ST_MakePoint(x, y), 4326) AS centre,
           citypin_pad(hull, eps / 2.0, y) AS footprint
    FROM (
        SELECT count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n, max(eps) AS eps,
               ST_ConvexHull(ST_Collect(public_location)) AS hull,
               avg(ST_X(public_location)) AS x, avg(ST_Y(public_location)) AS y  -- the centroid of the points
        FROM (
            SELECT r.status = ANY(%(open_statuses)s) AS is_open, r.public_location, c.eps,
                   ST_ClusterDBSCAN(ST_Transform(r.location, %(srid)s), eps := c.eps, minpoints := c.minpoints) OVER () AS cid
            FROM incidents_report r,
                 (SELECT hotspot_eps_m::float8 AS eps, hotspot_min_points AS minpoints
                  FROM incidents_category WHERE id = %(category_id)s) c
            WHERE r.category_id = %(category_id)s AND r.location IS NOT NULL
              AND r.created_at >= %(since)s AND r.created_at < %(until)s AND r.id <= %(upto)s
        ) pts
        WHERE cid IS NOT NULL
        GROUP BY cid
    ) grouped
),
previous AS (
    SELECT ce.key, count(*) AS n
    FROM clusters ce
    CROSS JOIN LATERAL generate_series(floor(ST_XMin(ce.footprint) * 100)::int, floor(ST_XMax(ce.footprint) * 100)::int) AS x
    CROSS JOIN LATERAL generate_series(floor(ST_YMin(ce.footprint) * 100)::int, floor(ST_YMax(ce.footprint) * 100)::int) AS y
    CROSS JOIN LATERAL (
        SELECT p.location FROM incidents_report p  -- the bucket index: (category, x cell, y cell, created_at)
        WHERE p.category_id = %(category_id)s AND p.location IS NOT NULL
          AND floor(ST_X(p.location) * 100)::int = x AND floor(ST_Y(p.location) * 100)::int = y
          AND p.created_at >= %(previous_since)s AND p.created_at < %(since)s
        OFFSET 0  -- one index probe per cell, whatever the planner estimates
    ) p
    WHERE ST_Covers(ce.footprint, p.location) IS TRUE
    GROUP BY ce.key
)
SELECT cl.footprint, cl.centre, cl.n, cl.open_n, coalesce(pr.n, 0)
FROM clusters cl LEFT JOIN previous pr ON pr.key = cl.key
"""
CATEGORY_CLUSTERS = PreparedQuery("citypin_hotspot_clusters", CATEGORY_CLUSTERS_SQL, {
    "category_id": "bigint", "since": "timestamptz", "until": "timestamptz", "previous_since": "timestamptz",
    "upto": "bigint", "srid": "int", "open_statuses": "text[]"})

FRESH_TABLE_SQL = """
CREATE TEMP TABLE hotspot_fresh (category_id bigint, hull geometry, centre geometry, n int, open_n int,
                                 previous_n int) ON COMMIT DROP;
"""

# Incremental refresh: what the reports added since the last run change, without clustering
# again (DBSCAN only grows clusters when points are added; points leaving the window are the
# daily full refresh's business).
# 1. A new report within eps of a hotspot of its category (GiST on footprint) joins the nearest
#    one: counts go up, the footprint becomes the hull of the old footprint and the new points
#    padded by eps/2. Distances near a new report are planar in metres at its latitude
#    (citypin_local_metres), as exact as geodesics over a few hundred metres and much cheaper.
# 2. A new report joining no hotspot (LONELY_SQL) is a seed if, with the reports of its category
#    within eps of it, it reaches minpoints (SEEDS, shared among sessions like the full
#    refresh): the candidates come from the bucket index (0.01° cells; an index-only range per
#    column of cells its eps-box touches), then the box and the distance in metres decide.
#    The reports within 2·eps of the seeds are clustered, and the clusters holding a seed
#    become hotspots (AROUND_SEEDS_SQL).
# Two hotspots that a new report links stay two until the next full refresh.
INCREMENTAL_SQL = """
CREATE TEMP TABLE hotspot_new ON COMMIT DROP AS
SELECT r.id, r.category_id, r.location, r.public_location, r.location::geography AS gg,
       r.status = ANY(%(open_statuses)s) AS is_open,
       c.hotspot_eps_m::float8 AS eps, c.hotspot_min_points AS minpoints,
       -- eps in degrees, rounded up: a box for the geometry indexes, not a distance
       c.hotspot_eps_m / (111320.0 * cos(radians(least(abs(ST_Y(r.location)) + 0.01, 89)))) * 1.01 AS dx,
       c.hotspot_eps_m / 110574.0 * 1.01 AS dy,
       ST_Y(r.location) AS lat, citypin_local_metres(r.location, ST_Y(r.location)) AS local  -- for distances
FROM incidents_report r JOIN incidents_category c ON c.id = r.category_id
JOIN unnest(%(category_ids)s::bigint[], %(last_ids)s::bigint[]) AS run(category_id, last_id)
  ON run.category_id = r.category_id
WHERE r.id > run.last_id AND r.id > %(min_last_id)s AND r.id <= %(upto)s AND r.location IS NOT NULL
  AND r.created_at >= %(since)s AND r.created_at < %(until)s;

CREATE TEMP TABLE hotspot_joined ON COMMIT DROP AS
SELECT n.id AS report_id, near.id AS hotspot_id, near.inside, n.public_location, n.is_open, n.eps
FROM hotspot_new n
CROSS JOIN LATERAL (
    SELECT h.id,  -- GiST on footprint: the box, then the distance in metres
           -- inside: its eps/2 disk lies in the footprint, which padding it would not change
           ST_Covers(h.footprint, n.public_location)
           AND NOT ST_DWithin(citypin_local_metres(ST_ExteriorRing(h.footprint), n.lat),
                              citypin_local_metres(n.public_location, n.lat), n.eps / 2.0) AS inside
    FROM incidents_hotspot h
    WHERE h.category_id = n.category_id AND h.footprint && ST_Expand(n.location, n.dx, n.dy)
      AND ST_DWithin(citypin_local_metres(h.footprint, n.lat), n.local, n.eps)
    ORDER BY ST_Distance(citypin_local_metres(h.footprint, n.lat), n.local), h.id
    LIMIT 1
) near;

WITH grown AS MATERIALIZED (  -- each footprint computed once (for it and its centroid)
    SELECT g.hotspot_id, g.n, g.open_n, g.inside,
           CASE WHEN g.inside THEN hh.footprint  -- (a footprint is convex: it already holds their pads)
                -- the hull of disks is the hull of their centres, padded: one buffer, not a union
                ELSE ST_ConvexHull(ST_Collect(hh.footprint, citypin_pad(ST_ConvexHull(g.points), g.eps / 2.0,
                                                                        ST_Y(ST_Centroid(g.points))))) END AS footprint
    FROM (SELECT hotspot_id, count(*) AS n, count(*) FILTER (WHERE is_open) AS open_n, bool_and(inside) AS inside,
                 ST_Collect(public_location) AS points, max(eps) AS eps
          FROM hotspot_joined GROUP BY hotspot_id) g
    JOIN incidents_hotspot hh ON hh.id = g.hotspot_id
)
UPDATE incidents_hotspot h
SET report_count = h.report_count + j.n, open_count = h.open_count + j.open_n, footprint = j.footprint,
    centroid = CASE WHEN j.inside THEN h.centroid ELSE ST_Centroid(j.footprint) END,
    window_end = %(until)s, computed_at = %(until)s
FROM grown j
WHERE h.id = j.hotspot_id;

"""

# The new reports that joined no hotspot, for the seed check.
LONELY_SQL = """
SELECT n.id, n.category_id, ST_X(n.location), ST_Y(n.location), n.eps, n.minpoints
FROM hotspot_new n
WHERE NOT EXISTS (SELECT 1 FROM hotspot_joined j WHERE j.report_id = n.id)
"""

# Which of these reports are seeds: with the reports of their category within eps of them, they
# reach minpoints (one statement for a share of them, so the share can go to another session).
SEEDS_SQL = """
SELECT l.id
FROM (
    SELECT l.*, ST_Expand(l.location, l.dx, l.dy) AS box,
           citypin_local_metres(l.location, l.lat) AS local  -- for distances
    FROM (
        SELECT l.*, ST_SetSRID(ST_MakePoint(l.lon, l.lat), 4326) AS location,
               -- eps in degrees, rounded up: a box and the buckets it touches, not a distance
               l.eps / (111320.0 * cos(radians(least(abs(l.lat) + 0.01, 89)))) * 1.01 AS dx,
               l.eps / 110574.0 * 1.01 AS dy
        FROM unnest(%(ids)s::bigint[], %(categories)s::bigint[], %(lons)s::float8[], %(lats)s::float8[],
                    %(eps)s::float8[], %(minpoints)s::int[]) AS l(id, category_id, lon, lat, eps, minpoints)
        OFFSET 0
    ) l
    OFFSET 0  -- each computed once per report
) l
WHERE (SELECT count(*) FROM (  -- stop counting at minpoints
          SELECT 1
          FROM generate_series(floor((l.lon - l.dx) * 100)::int,  -- the columns of buckets (0.01° cells)
                               floor((l.lon + l.dx) * 100)::int) AS bx  -- its eps-box touches
          CROSS JOIN LATERAL (
              SELECT r.location FROM incidents_report r  -- index-only, one range of the bucket index
              WHERE r.category_id = l.category_id AND r.location IS NOT NULL
                AND floor(ST_X(r.location) * 100)::int = bx
                AND floor(ST_Y(r.location) * 100)::int BETWEEN floor((l.lat - l.dy) * 100)::int
                                                           AND floor((l.lat + l.dy) * 100)::int
                AND r.created_at >= %(since)s AND r.created_at < %(until)s
              OFFSET 0  -- one index probe per column; the exact test below stays out of it
          ) bucket
          WHERE bucket.location && l.box  -- the box first, then the distance in metres
            AND ST_DWithin(citypin_local_metres(bucket.location, l.lat), l.local, l.eps)
          LIMIT l.minpoints) enough) >= l.minpoints
"""
SEEDS = PreparedQuery("citypin_hotspot_seeds", SEEDS_SQL, {
    "ids": "bigint[]", "categories": "bigint[]", "lons": "float8[]", "lats": "float8[]", "eps": "float8[]",
    "minpoints": "int[]", "since": "timestamptz", "until": "timestamptz"})

# The reports within 2·eps of the seeds, clustered; the clusters holding a seed become hotspots.
AROUND_SEEDS_SQL = """
CREATE TEMP TABLE hotspot_seeds ON COMMIT DROP AS
SELECT n.id, n.category_id, n.gg, n.eps, n.minpoints FROM hotspot_new n WHERE n.id = ANY(%(seed_ids)s);

CREATE TEMP TABLE hotspot_fresh ON COMMIT DROP AS
WITH region AS (
    SELECT DISTINCT r.id, r.category_id, r.status = ANY(%(open_statuses)s) AS is_open,
           ST_Transform(r.location, %(srid)s) AS g, r.public_location, s.eps, s.minpoints
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
           citypin_pad(ST_ConvexHull(ST_Collect(public_location)), max(eps) / 2.0,
                       ST_Y(ST_Centroid(ST_Collect(public_location)))) AS hull,
           ST_Centroid(ST_Collect(public_location)) AS centre
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

# The computed hotspots of both kinds of refresh are in the temporary table hotspot_fresh.
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
    sessions: int = 0  # database sessions the work was shared among (at most)

    def summary(self) -> str:
        return (f"hotspots: {self.hotspots} after {len(self.full)} full and "
                f"{len(self.incremental)} incremental category refreshes")


def refresh_full(categories: list[Category], *, now: datetime, window: timedelta, last_report_id: int) -> int:
    """Recompute every hotspot of these categories from the reports up to last_report_id (in
    refresh_hotspots' transaction); returns how many database sessions clustered them."""
    params = {"upto": last_report_id, "since": now - window, "until": now, "previous_since": now - 2 * window,
              "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}
    rows, sessions = _on_sessions(_shareable_snapshot(), _largest_first([c.pk for c in categories]),
                                  lambda cursor, category_id: _category_clusters(cursor, category_id, params))
    with connection.cursor() as cursor:  # COPY: hex EWKB is geometry's text form
        cursor.execute(FRESH_TABLE_SQL)
        cursor.copy_expert("COPY hotspot_fresh FROM STDIN",
                           io.StringIO("".join("\t".join(map(str, row)) + "\n" for row in rows)))
        cursor.execute(STORE_SQL.format(which="category_id = ANY(%(category_ids)s)"),
                       {**params, "category_ids": [c.pk for c in categories]})
    HotspotRun.objects.bulk_create(
        [HotspotRun(category=c, last_report_id=last_report_id, full_at=now, ran_at=now) for c in categories],
        update_conflicts=True, unique_fields=["category"], update_fields=["last_report_id", "full_at", "ran_at"])
    return sessions


def _category_clusters(cursor, category_id: int, params: dict) -> list[tuple]:
    CATEGORY_CLUSTERS.execute(cursor, {**params, "category_id": category_id})
    return [(category_id, *row) for row in cursor.fetchall()]


def _largest_first(category_ids: list[int]) -> list[int]:
    """The categories by how many reports their hotspots held last time, largest first: the
    longest jobs start first, so no session is left with one at the end."""
    held = dict(Hotspot.objects.filter(category_id__in=category_ids).values_list("category_id")
                .annotate(n=Sum("report_count")))
    return sorted(category_ids, key=lambda pk: -held.get(pk, 0))


# Sharing the work among database sessions. DBSCAN, and the seed check of the incremental
# refresh, are one process's work per statement; so when the refresh has its own transaction and
# has written nothing yet, its snapshot is exported (pg_export_snapshot) and the statements are
# shared among CITYPIN_HOTSPOT_SESSIONS sessions that read the same data, on every core. A
# transaction that has written (a caller's, or a test's) keeps the work: no other session could
# see what it wrote.
def _shareable_snapshot() -> str | None:
    if settings.CITYPIN_HOTSPOT_SESSIONS < 2 or connection.savepoint_ids:  # exported from a transaction,
        return None                                                         # not a savepoint
    with connection.cursor() as cursor:
        cursor.execute("SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN pg_export_snapshot() END")
        return cursor.fetchone()[0]


def _on_sessions(snapshot: str | None, jobs: list, run) -> tuple[list, int]:
    """The rows of run(cursor, job) for every job, and how many sessions ran them: this one
    without a snapshot, else helper sessions reading it, each taking the next job when free."""
    if snapshot is None or len(jobs) < 2:
        with connection.cursor() as cursor:
            return [row for job in jobs for row in run(cursor, job)], 1
    sessions = min(settings.CITYPIN_HOTSPOT_SESSIONS, len(jobs))
    queue = list(jobs)
    lock = threading.Lock()
    session_params = connection.get_connection_params()  # the database Django uses, as Django connects

    def work(_) -> list:
        rows = []
        session = helper_sessions.take(session_params)
        try:
            with session.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                while True:
                    with lock:
                        if not queue:
                            break
                        job = queue.pop(0)
                    rows.extend(run(cursor, job))
                cursor.execute("COMMIT")
        except BaseException:
            with lock:
                queue.clear()  # the refresh fails: the other sessions stop too
            session.close()  # in an unknown state: not kept
            raise
        helper_sessions.give_back(session_params, session)
        return rows

    with ThreadPoolExecutor(sessions) as pool:
        return [row for rows in pool.map(work, range(sessions)) for row in rows], sessions


class HelperSessions:
    """The database sessions this process keeps for hotspot refreshes: a new one costs more than
    the clustering it takes on (each new backend loads PostGIS and PROJ: about 50 ms). A kept
    one that the server has closed meanwhile (a restart) is replaced."""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[tuple[int, dict, object]] = []

    def take(self, params: dict):
        while True:
            with self._lock:
                if not self._idle:
                    break
                pid, their_params, session = self._idle.pop()
            if pid != os.getpid():
                continue  # a forked child leaves its parent's sessions alone
            if their_params == params and self._alive(session):
                return session
            session.close()
        session = psycopg2.connect(**params)
        session.autocommit = True
        return session

    @staticmethod
    def _alive(session) -> bool:
        try:
            with session.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except psycopg2.Error:
            return False

    def give_back(self, params: dict, session) -> None:
        with self._lock:
            self._idle.append((os.getpid(), params, session))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for pid, _, session in idle:
            if pid == os.getpid():
                session.close()


helper_sessions = HelperSessions()


def refresh_around_new_reports(categories: list[Category], *, now: datetime, window: timedelta,
                               last_report_id: int) -> int:
    """Update the hotspots of these categories with the reports added since their last run, up
    to last_report_id (in refresh_hotspots' transaction, whose lock keeps other refreshes out);
    returns how many database sessions checked the seeds."""
    runs = list(HotspotRun.objects.filter(category__in=categories).order_by("category_id"))
    snapshot = _shareable_snapshot()
    params = {"category_ids": [r.category_id for r in runs], "last_ids": [r.last_report_id for r in runs],
              "min_last_id": min((r.last_report_id for r in runs), default=0), "upto": last_report_id,
              "since": now - window, "until": now, "previous_since": now - 2 * window,
              "srid": settings.CITYPIN_METRIC_SRID, "open_statuses": list(Report.OPEN_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute(INCREMENTAL_SQL, params)
        cursor.execute(LONELY_SQL)
        lonely = cursor.fetchall()
    shares = settings.CITYPIN_HOTSPOT_SESSIONS if snapshot else 1
    seed_ids, sessions = _on_sessions(snapshot, [share for share in (lonely[i::shares] for i in range(shares)) if share],
                                      lambda cursor, share: _seeds(cursor, share, params))
    with connection.cursor() as cursor:
        cursor.execute(AROUND_SEEDS_SQL, {**params, "seed_ids": seed_ids})
        cursor.execute(STORE_SQL.format(which="FALSE"), params)  # only additions
    HotspotRun.objects.filter(pk__in=[r.pk for r in runs]).update(last_report_id=last_report_id, ran_at=now)
    return sessions


def _seeds(cursor, lonely: list[tuple], params: dict) -> list[int]:
    # Each column as one array literal ('{1,2,3}'): a list would become ARRAY[1, 2, 3], which
    # PostgreSQL parses element by element (thousands of them: slower than the check itself).
    ids, categories, lons, lats, eps, minpoints = ("{%s}" % ",".join(map(repr, column)) for column in zip(*lonely))
    SEEDS.execute(cursor, {"ids": ids, "categories": categories, "lons": lons, "lats": lats, "eps": eps,
                           "minpoints": minpoints, "since": params["since"], "until": params["until"]})
    return [seed for (seed,) in cursor.fetchall()]


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
        result = _refresh_hotspots(full, now, window, categories)
    if result.full and not connection.in_atomic_block:
        # A full refresh replaces its rows; the incremental refreshes that follow every minute
        # probe the footprint index, which the dead rows would slow (measured: twice as slow
        # after a few full refreshes) until autovacuum came by.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) incidents_hotspot")
    return result


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
        result.sessions = refresh_full(whole, now=now, window=window, last_report_id=newest)
    if around:
        result.sessions = max(result.sessions,
                              refresh_around_new_reports(around, now=now, window=window, last_report_id=newest))
    result.full = [c.code for c in whole]
    result.incremental = [c.code for c in around]
    result.hotspots = Hotspot.objects.count()
    return result
