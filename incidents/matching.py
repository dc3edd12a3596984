"""Matching at intake: which incident a new report belongs to (or is suggested to), and
whether it repeats a problem fixed recently.

Inside submit_report's transaction CANDIDATES_SQL scores the open incidents near a new report;
the category decides whether a high score attaches the report or only suggests the incident.
RECURRENCE_SQL flags a report at a place where the same category was fixed recently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.models import Category, Incident, Report
from incidents.prepared import PreparedQuery

# Candidate incidents for a new report at (lon, lat). Candidates are open incidents of the
# same category (or of any category of its group, where the category allows it; category_ids)
# whose representative
# point (the centroid of their reports) lies within the category's duplicate radius — metres,
# ST_DWithin on geography — and that were last reported within the category's time window; the
# spatial probe is served by incident_open_recent_geog, a GiST index on (location::geography,
# last_reported_at) over open incidents only (its predicate is repeated literally in `within`,
# so that the prepared statement's generic plan can use it): incidents closed or quiet for
# years, which pile up as a city's history grows, are never read. Score in [0, 1]:
#     0.5 · closeness  1 − (d / radius)²   (near counts much more than far)
#   + 0.2 · recency    1 − age / window
#   + 0.3 · text       pg_trgm similarity of the unaccented, lower-cased descriptions (best of
#                      the incident's 20 latest reports), 0.5 when either side has no text
CANDIDATES_SQL = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g,
                  unaccent(lower(%(text)s)) AS text),
within AS MATERIALIZED (  -- the spatial index first, whatever the other filters' statistics say
    SELECT i.id, i.category_id, i.status, i.last_reported_at, i.location
    FROM incidents_incident i CROSS JOIN p
    WHERE ST_DWithin(i.location::geography, p.g, %(radius_m)s)
      AND i.status IN ('new', 'acknowledged', 'in_progress', 'reopened')  -- Report.OPEN_STATUSES
      AND i.last_reported_at >= %(now)s - make_interval(days => %(window_days)s)
),
near AS (
    SELECT w.id, w.last_reported_at, ST_Distance(w.location::geography, p.g) AS m
    FROM within w CROSS JOIN p
    WHERE w.category_id = ANY(%(category_ids)s)
      AND w.status = ANY(%(open_statuses)s)
      AND w.last_reported_at >= %(now)s - make_interval(days => %(window_days)s)
)
SELECT i.id, i.m AS distance_m,
       0.5 * (1 - (i.m / greatest(%(radius_m)s, 1)) ^ 2)
     + 0.2 * greatest(0, least(1, 1 - extract(epoch FROM %(now)s - i.last_reported_at)
                                     / (greatest(%(window_days)s, 1) * 86400.0)))
     + 0.3 * CASE WHEN p.text = '' OR t.sim IS NULL THEN 0.5 ELSE t.sim END AS score
FROM near i
CROSS JOIN p
CROSS JOIN LATERAL (
    SELECT max(similarity(unaccent(lower(r.public_description)), p.text)) AS sim
    FROM (SELECT public_description FROM incidents_report
          WHERE incident_id = i.id AND public_description <> '' ORDER BY id DESC LIMIT 20) r
) t
ORDER BY score DESC, distance_m, i.id
LIMIT 5
"""

# The most recently resolved incident of the category whose point lies within the duplicate
# radius (metres, geography) of a new report, resolved within the category's recurrence window.
# The probe is served by incident_done_recent_geog, a GiST index on (location::geography,
# resolved_at) over resolved and closed incidents only (migration 0032): the open incidents a
# storm keeps moving, one row version per joining report, are never in it.
RECURRENCE_SQL = """
WITH near AS MATERIALIZED (  -- the spatial index first, whatever the category's statistics say
    SELECT i.id, i.category_id, i.resolved_at
    FROM incidents_incident i
    WHERE ST_DWithin(i.location::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius_m)s)
      AND i.status IN ('resolved', 'closed')  -- DONE_STATUSES, literal: incident_done_recent_geog's predicate
      AND i.resolved_at >= %(now)s - make_interval(days => %(recurrence_days)s)
)
SELECT id FROM near WHERE category_id = %(category_id)s ORDER BY resolved_at DESC LIMIT 1
"""

# An incident's derived fields from its reports: centroid and convex hull of their points
# (SRID 4326; a hull of one point is that point), counts, first and last report times, and the
# public point: the centroid of the reports' public points, snapped to the coarsest public
# precision among their categories (an incident may mix categories of one group).
REFRESH_SQL = """
UPDATE incidents_incident i
SET location = s.centroid, footprint = s.hull, report_count = s.n, supporter_count = s.supporters,
    public_location = CASE WHEN s.precision_m > 0
                           THEN ST_Transform(ST_SnapToGrid(ST_Transform(s.public_centroid, %(metric_srid)s),
                                                           s.precision_m), 4326)
                           ELSE s.centroid END,
    first_reported_at = coalesce(s.first, i.first_reported_at), last_reported_at = coalesce(s.last, i.last_reported_at),
    version = i.version + 1, updated_at = now()
FROM (SELECT ST_Centroid(ST_Collect(r.location)) AS centroid, ST_ConvexHull(ST_Collect(r.location)) AS hull,
             ST_Centroid(ST_Collect(r.public_location)) AS public_centroid,
             coalesce(max(c.public_location_precision_m), 0) AS precision_m,
             count(*) AS n, coalesce(sum(r.supporter_count), 0) AS supporters,
             min(r.created_at) AS first, max(r.created_at) AS last
      FROM incidents_report r JOIN incidents_category c ON c.id = r.category_id
      WHERE r.incident_id = %(id)s) s
WHERE i.id = %(id)s
"""

# A report joining an incident moves its derived fields by one step, as refresh_incident would
# leave them after reading every report of it: the mean of the points moves by the new point's
# share ((p - mean) / (n + 1)), the hull takes the point in, the counts and times take it in. One
# row read, whatever the incident's size: refreshing read all of it, so a street reported 2,000
# times in a storm cost each of its new reports ~4 ms more of database time, with the incident
# locked meanwhile. Only where that arithmetic is the refresh's own (else no row is updated, and
# the caller refreshes): every report of the incident has a point (its count is its number of
# points; report_unlocated_incident finds one at once), and its public point is its mean (no
# report of it snapped: the caller passes only a report of an exact category).
# The incident's mean moved by the new point's share.
_JOINED_MEAN = """ST_SetSRID(ST_MakePoint(
    ST_X(i.location) + (ST_X(r.location) - ST_X(i.location)) / (i.report_count + 1),
    ST_Y(i.location) + (ST_Y(r.location) - ST_Y(i.location)) / (i.report_count + 1)), 4326)"""
JOIN_SQL = f"""
UPDATE incidents_incident i
SET location = {_JOINED_MEAN}, public_location = {_JOINED_MEAN},
    footprint = ST_ConvexHull(ST_Collect(i.footprint, r.location)),
    report_count = i.report_count + 1, supporter_count = i.supporter_count + r.supporter_count,
    first_reported_at = least(i.first_reported_at, r.created_at), last_reported_at = greatest(i.last_reported_at, r.created_at),
    version = i.version + 1, updated_at = now()
FROM incidents_report r
WHERE i.id = %(id)s AND r.id = %(report_id)s AND r.incident_id = i.id AND r.location IS NOT NULL
  AND i.report_count > 0 AND i.location IS NOT NULL AND i.footprint IS NOT NULL AND i.public_location = i.location
  AND NOT EXISTS (SELECT 1 FROM incidents_report u WHERE u.incident_id = i.id AND u.location IS NULL)
RETURNING i.id
"""

DONE_STATUSES = [Report.Status.RESOLVED, Report.Status.CLOSED]


@dataclass
class Candidate:
    incident_id: int
    distance_m: float
    score: float


CANDIDATES = PreparedQuery("citypin_candidates", CANDIDATES_SQL, {
    "lon": "float8", "lat": "float8", "text": "text", "radius_m": "float8", "window_days": "int", "now": "timestamptz",
    "category_ids": "bigint[]", "open_statuses": "text[]"})
REFRESH = PreparedQuery("citypin_refresh_incident", REFRESH_SQL, {"id": "bigint", "metric_srid": "int"})
JOIN = PreparedQuery("citypin_join_incident", JOIN_SQL, {"id": "bigint", "report_id": "bigint"})
RECURRENCE = PreparedQuery("citypin_recurrence", RECURRENCE_SQL, {
    "category_id": "bigint", "now": "timestamptz", "recurrence_days": "int", "lon": "float8", "lat": "float8",
    "radius_m": "float8"})


def candidates(category: Category, lon: float, lat: float, text: str, now: datetime | None = None) -> list[Candidate]:
    category_ids = ([category.pk] if not category.match_group
                    else list(Category.objects.filter(group_id=category.group_id).values_list("pk", flat=True)))
    params = {"lon": lon, "lat": lat, "text": text or "", "radius_m": category.duplicate_radius_m,
              "window_days": category.duplicate_window_days, "now": now or timezone.now(),
              "category_ids": category_ids, "open_statuses": list(Report.OPEN_STATUSES)}
    with connection.cursor() as cursor:
        CANDIDATES.execute(cursor, params)
        return [Candidate(*row) for row in cursor.fetchall()]


def recurrence_of(category: Category, lon: float, lat: float, now: datetime | None = None) -> int | None:
    if not category.recurrence_days:
        return None
    with connection.cursor() as cursor:
        RECURRENCE.execute(cursor, {"category_id": category.pk, "now": now or timezone.now(),
                                    "recurrence_days": category.recurrence_days, "lon": lon, "lat": lat,
                                    "radius_m": category.duplicate_radius_m})
        row = cursor.fetchone()
    return row[0] if row else None


def refresh_incident(incident_id: int) -> None:
    with connection.cursor() as cursor:
        REFRESH.execute(cursor, {"id": incident_id, "metric_srid": settings.CITYPIN_METRIC_SRID})


def join_incident(incident_id: int, report_id: int, *, exact: bool) -> None:
    """The incident's derived fields once the report (already saved in it) joined: by one step
    (JOIN_SQL) where that is the refresh's own arithmetic, else refresh_incident. `exact`: the
    report's category publishes exact points."""
    if exact:
        with connection.cursor() as cursor:
            JOIN.execute(cursor, {"id": incident_id, "report_id": report_id})
            if cursor.fetchone():
                return
    refresh_incident(incident_id)


@dataclass
class Placement:
    """Where a new report goes: an incident to attach to (None: a new one of its own), the
    incident to suggest to staff instead, the match score, and a resolved incident it repeats."""

    attach_to: int | None = None
    suggest: int | None = None
    score: float | None = None
    recurrence_of: int | None = None


def place_report(category: Category, lon: float | None, lat: float | None, text: str,
                 now: datetime | None = None) -> Placement:
    if lon is None or lat is None:
        return Placement()
    placement = Placement(recurrence_of=recurrence_of(category, lon, lat, now))
    found = candidates(category, lon, lat, text, now)
    if found:
        best = found[0]
        placement.score = round(best.score, 3)
        if best.score >= category.duplicate_threshold:
            if category.duplicate_action == Category.DuplicateAction.ATTACH:
                placement.attach_to = best.incident_id
            else:
                placement.suggest = best.incident_id
    return placement


# Lock an incident a new report joins, reading only what decides whether it may (the ORM's
# select_for_update().get() read and converted every column, geometries too, to use three).
# Prepared: most reports in a storm join an incident, and planning took longer than running.
LOCK_INCIDENT_SQL = "SELECT id, merged_into_id, status FROM incidents_incident WHERE id = %(id)s FOR UPDATE"
LOCK_INCIDENT = PreparedQuery("citypin_lock_incident", LOCK_INCIDENT_SQL, {"id": "bigint"})


def _lock_incident(incident_id: int) -> tuple[int, int | None, str]:
    with connection.cursor() as cursor:
        LOCK_INCIDENT.execute(cursor, {"id": incident_id})
        row = cursor.fetchone()
    if row is None:
        raise Incident.DoesNotExist(f"Incident {incident_id} does not exist.")
    return row


def incident_for(placement: Placement, *, category_id: int, department_id: int, location, text: str,
                 now: datetime, exact: bool = False) -> int:
    """The incident a new report joins: the matched one (locked until the transaction ends, so its
    derived fields stay consistent) or a new one (placement.attach_to is then None). With `exact`
    (the category publishes exact points), a new incident is made whole at once, as
    refresh_incident would leave it after its one report: that refresh is then not needed."""
    if placement.attach_to:
        # Scored without a lock: it may have been merged or closed since. Then follow the merge,
        # or start a new incident.
        incident_id, merged_into_id, status = _lock_incident(placement.attach_to)
        while merged_into_id:
            incident_id, merged_into_id, status = _lock_incident(merged_into_id)
        if status in Report.OPEN_STATUSES:
            return incident_id
        placement.attach_to = None
    return Incident.objects.create(category_id=category_id, department_id=department_id, location=location,
                                   footprint=location, description=text, first_reported_at=now,
                                   last_reported_at=now, **({"public_location": location, "report_count": 1}
                                                            if exact else {})).pk


