"""Public reads of reports: a page of the list, one report, possible duplicates nearby. Each
is GeoJSON built in SQL from the public projection (geojson.py) and filtered by the one report
query (query.py)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from incidents.read.cursors import after_cursor, decode_cursor, encode_cursor
from incidents.read.geojson import PUBLIC_POINT, REPORT_FEATURE_SQL, base_params
from incidents.read.query import OPEN_STATUSES, Errors, Query, ReportQuery, field_error
from incidents.read.replicas import read_connection
from incidents.read.sql import REPORT_FROM_SQL

MAX_PAGE = 5000
DEFAULT_PAGE = 500


@dataclass
class Page:
    features: list[str]
    next_cursor: str | None


def parse_limit(raw: str | int) -> int:
    try:
        limit = int(raw)
        if 1 <= limit <= MAX_PAGE:
            return limit
    except ValueError:
        pass
    raise field_error("limit", _("Must be a whole number from 1 to %(max)s.") % {"max": MAX_PAGE})


# Newest first, keyset on (created_at, id): the page after a cursor starts strictly below it,
# served by the report_created_keyset index without OFFSET or COUNT(*). With a bbox, {since}
# bounds the page to the reports created since a moment (see report_page), an index condition
# of report_public_point_created, GiST on (public point, created_at), SRID 4326.
NEWEST = ("r.created_at", "r.id")
REPORT_PAGE_SQL = f"""
SELECT r.created_at, r.id, {REPORT_FEATURE_SQL}
{REPORT_FROM_SQL}
WHERE {{where}}{{since}}
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s
"""
SINCE_SQL = " AND r.created_at >= %(since)s"
# How many rows a window holds, up to the page and one more: no features built, no sort.
WINDOW_COUNT_SQL = f"SELECT count(*) FROM (SELECT 1 {REPORT_FROM_SQL} WHERE {{where}}{SINCE_SQL} LIMIT %(limit)s) w"

# A box's newest page, in expanding time windows: read first from the reports created within
# FIRST_WINDOW before the cursor (or now); a window that holds a full page (and one more row, to
# know a next page exists) holds exactly the newest rows overall, since every report outside it
# is older than every one inside. The first window is read as the page itself (a dense box
# fills it); the later ones are counted first (WINDOW_COUNT_SQL), so that features are built
# only for the window that holds the page. Otherwise the next window is as long as the rate seen so far
# needs for a page, twice over (between GROWTH[0] and GROWTH[1] times longer); a window that
# reaches back past the oldest report (or created_after, or MAX_WINDOW) is the last, unbounded.
# A small box thus reads about a page of reports, not every report it ever had (bench/scale.py:
# 540,439 buffers at 10,000,000 reports for 2 x 2 km).
FIRST_WINDOW = timedelta(days=1)
GROWTH = (4, 256)
MAX_WINDOW = timedelta(days=36500)
OLDEST_SQL = "SELECT min(created_at) FROM incidents_report"  # report_created_keyset, from its end


def next_window(window: timedelta, found: int, wanted: int) -> timedelta | None:
    """The window after one of `window` that held `found` of the `wanted` rows; None: unbounded."""
    factor = min(max(math.ceil(2 * wanted / max(found, 1)), GROWTH[0]), GROWTH[1])
    return window * factor if window * factor <= MAX_WINDOW else None


def page_rows(cursor, where: str, params: dict, anchor: datetime | None, after: datetime | None) -> list[tuple]:
    """REPORT_PAGE_SQL's rows, read in expanding windows back from `anchor` (None: one query),
    never from before `after` (created_after: the query's own bound)."""
    window = FIRST_WINDOW if anchor is not None else None
    first = True
    while True:
        since = anchor - window if window is not None else None
        if since is not None and after is not None and since <= after:
            since = None  # the query is bounded already: this window is the last
        if since is not None:
            params["since"] = since
        if since is not None and not first:
            cursor.execute(WINDOW_COUNT_SQL.format(where=where), params)
            found = cursor.fetchone()[0]
        if since is None or first or found >= params["limit"]:
            cursor.execute(REPORT_PAGE_SQL.format(where=where, since=SINCE_SQL if since else ""), params)
            rows = cursor.fetchall()
            if since is None or len(rows) >= params["limit"]:
                return rows
            found = len(rows)
        first = False
        window = next_window(window, found, params["limit"])
        if window is not None and after is None:  # the first window fell short: where the reports begin
            cursor.execute(OLDEST_SQL)
            after = cursor.fetchone()[0]
            if after is None:
                return rows


def report_page(query: Query, lang: str) -> Page:
    """One page of public report features, filtered by the query parameters."""
    errors = Errors()
    report_query = errors.check(lambda: ReportQuery.parse(query))
    limit = errors.check(lambda: parse_limit(query.get("limit") or DEFAULT_PAGE))
    after = errors.check(lambda: decode_cursor(query["cursor"], ("time", "int"))) if query.get("cursor") else None
    errors.raise_any()
    params = base_params(lang)
    where = report_query.where(params)
    if after:
        where += " AND " + after_cursor(NEWEST, after, True, params)
    params["limit"] = limit + 1
    anchor = None
    if report_query.bbox:  # the map's case: windows back from the cursor, the newest allowed, or now
        anchor = min(t for t in (after[0] if after else None, report_query.created_before, report_query.now)
                     if t is not None)
    with read_connection().cursor() as cursor:
        rows = page_rows(cursor, where, params, anchor, report_query.created_after)
    next_cursor = encode_cursor(rows[limit - 1][:2]) if len(rows) > limit else None
    return Page([row[2] for row in rows[:limit]], next_cursor)


def report_feature(public_id: str, lang: str) -> str | None:
    params = base_params(lang) | {"public_id": public_id}
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT {REPORT_FEATURE_SQL} {REPORT_FROM_SQL} WHERE r.public_id = %(public_id)s", params)
        row = cursor.fetchone()
    return row[0] if row else None


# Possible duplicates of a new report: open reports of the same category within the category's
# duplicate radius (metres on the geography; GiST index on public_location::geography) and
# reported within its time window, nearest first. Measured from the public point, so a
# category published with a reduced precision gives nothing finer away.
NEARBY_SQL = f"""
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g)
SELECT {REPORT_FEATURE_SQL},
       round(ST_Distance(r.{PUBLIC_POINT}::geography, p.g)) AS distance_m
{REPORT_FROM_SQL}
CROSS JOIN p
WHERE c.code = %(category)s
  AND r.status = ANY(%(open_statuses)s)
  AND r.created_at >= now() - make_interval(days => c.duplicate_window_days)
  AND ST_DWithin(r.{PUBLIC_POINT}::geography, p.g, c.duplicate_radius_m)
ORDER BY ST_Distance(r.{PUBLIC_POINT}::geography, p.g), r.id
LIMIT %(limit)s
"""


def nearby_open_reports(category_code: str, lon: float, lat: float, lang: str, limit: int = 10) -> list[dict]:
    """Open reports of `category_code` near lon/lat (SRID 4326), with their distance_m."""
    params = base_params(lang) | {"category": category_code, "lon": lon, "lat": lat, "limit": limit,
                                  "open_statuses": OPEN_STATUSES}
    with read_connection().cursor() as cursor:
        cursor.execute(NEARBY_SQL, params)
        rows = cursor.fetchall()
    features = []
    for text, distance in rows:
        feature = json.loads(text)
        feature["properties"]["distance_m"] = int(distance)
        features.append(feature)
    return features
