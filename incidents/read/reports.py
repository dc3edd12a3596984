"""Public reads of reports: a page of the list, one report, possible duplicates nearby. Each
is GeoJSON built in SQL from the public projection (geojson.py) and filtered by the one report
query (query.py)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
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
# bounds the page to the reports created since a moment (see report_page).
NEWEST = ("r.created_at", "r.id")
REPORT_PAGE_SQL = f"""
SELECT r.created_at, r.id, {REPORT_FEATURE_SQL}
{REPORT_FROM_SQL}
WHERE {{where}}{{since}}
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s
"""
SINCE_SQL = " AND r.created_at >= %(since)s"
# A window of a small bbox reads the box's cells instead (squares of 1/CELL_SCALE degrees,
# lon/lat, SRID 4326, numbered as citypin_cell numbers them; migration 0028): report_cell_created,
# btree on (cell, created_at), reads one range per cell holding only the window's reports, not
# every report the box ever had. The cells cover the box widened by CELL_MARGIN degrees (more
# than `&&`'s float4 rounding, ~1e-5° at 180°); `&&` then keeps exactly the reports it keeps
# elsewhere, inside coalesce(): no index condition, so the planner neither joins the point's
# GiST to the cells (a bitmap of every report the box ever had) nor multiplies the box's
# selectivity by the cells' (the same place twice: it then expected a few rows of a window of
# hundreds and joined them row by row). A box of more than MAX_CELLS cells (~10 km across)
# keeps its `&&` as an index condition (report_public_point_created).
CELLS_SQL = (" AND citypin_cell(r.public_location) = ANY(%(cells)s::bigint[])"
             " AND coalesce(r.public_location && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326), false)")
CELL_SCALE = 200  # cells per degree: 0.005°, about 550 m
CELL_MARGIN = 1e-4
MAX_CELLS = 400
# How many rows a window holds, up to the page and one more, and the oldest time among its newest
# that many: no features built. A window holding them all is then read from that time on only
# (the same page: every row of it is at least as new), not every row of the window. Without a
# category or department filter, from the reports alone ({from_sql}: their category and
# department are never null, so the joins drop nothing), which report_cell_created answers from
# its entries (an index-only scan).
WINDOW_COUNT_SQL = ("SELECT count(*), min(created_at) FROM (SELECT r.created_at {from_sql} WHERE {where}{since}"
                    " ORDER BY r.created_at DESC LIMIT %(limit)s) w")
REPORTS_ALONE_SQL = "FROM incidents_report r"

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


def page_rows(cursor, where: str, params: dict, anchor: datetime | None, after: datetime | None,
              window_where: str | None = None, count_from: str = REPORT_FROM_SQL) -> list[tuple]:
    """REPORT_PAGE_SQL's rows, read in expanding windows back from `anchor` (None: one query),
    never from before `after` (created_after: the query's own bound). A bounded window reads
    `window_where` if given (the same rows as `where`, by other indexes: the box's cells) and
    is counted from `count_from`."""
    window_where = window_where or where
    window = FIRST_WINDOW if anchor is not None else None
    first = True
    while True:
        since = anchor - window if window is not None else None
        if since is not None and after is not None and since <= after:
            since = None  # the query is bounded already: this window is the last
        if since is not None:
            params["since"] = since
        if since is not None and not first:
            cursor.execute(WINDOW_COUNT_SQL.format(from_sql=count_from, where=window_where, since=SINCE_SQL), params)
            found, cut = cursor.fetchone()
            if found >= params["limit"]:
                params["since"] = cut
        if since is None or first or found >= params["limit"]:
            cursor.execute(REPORT_PAGE_SQL.format(where=window_where if since else where, since=SINCE_SQL if since else ""),
                           params)
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


def box_cells(bbox: tuple[float, float, float, float]) -> list[int] | None:
    """The numbers of the cells the box (widened by CELL_MARGIN) touches, as citypin_cell numbers
    a point's (the same float8 products and floors); None: more than MAX_CELLS."""
    minx, miny, maxx, maxy = bbox
    xs = range(math.floor((minx - CELL_MARGIN) * CELL_SCALE), math.floor((maxx + CELL_MARGIN) * CELL_SCALE) + 1)
    ys = range(math.floor((miny - CELL_MARGIN) * CELL_SCALE), math.floor((maxy + CELL_MARGIN) * CELL_SCALE) + 1)
    if len(xs) * len(ys) > MAX_CELLS:
        return None
    return [(x + 36000) * 36001 + y + 18000 for x in xs for y in ys]


def report_page(query: Query, lang: str) -> Page:
    """One page of public report features, filtered by the query parameters."""
    errors = Errors()
    report_query = errors.check(lambda: ReportQuery.parse(query))
    limit = errors.check(lambda: parse_limit(query.get("limit") or DEFAULT_PAGE))
    after = errors.check(lambda: decode_cursor(query["cursor"], ("time", "int"))) if query.get("cursor") else None
    errors.raise_any()
    params = base_params(lang)
    where = report_query.where(params)
    cursor_sql = " AND " + after_cursor(NEWEST, after, True, params) if after else ""
    params["limit"] = limit + 1
    anchor, window_where = None, None
    if report_query.bbox:  # the map's case: windows back from the cursor, the newest allowed, or now
        anchor = min(t for t in (after[0] if after else None, report_query.created_before, report_query.now)
                     if t is not None)
        params["cells"] = box_cells(report_query.bbox)
        if params["cells"]:  # the same filters, the box read by its cells (CELLS_SQL)
            window_where = replace(report_query, bbox=None).where(params) + cursor_sql + CELLS_SQL
    with read_connection().cursor() as cursor:
        joined = bool(report_query.categories or report_query.departments)  # c.code, d.code in the WHERE
        rows = page_rows(cursor, where + cursor_sql, params, anchor, report_query.created_after, window_where,
                         REPORT_FROM_SQL if joined else REPORTS_ALONE_SQL)
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
