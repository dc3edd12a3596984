"""Read queries for public outputs. Filters are parsed and checked here; errors name the
query parameter, as the API answers them."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from incidents.models import Report
from incidents.read.geojson import (
    INCIDENT_FEATURE_SQL,
    INCIDENT_FROM_SQL,
    REPORT_FEATURE_SQL,
    REPORT_FROM_SQL,
    base_params,
    localized,
)

MAX_PAGE = 5000
DEFAULT_PAGE = 500

# Newest first, keyset on (created_at, id): the page after a cursor starts strictly below it,
# served by the report_created_keyset index without OFFSET or COUNT(*).
REPORT_PAGE_SQL = f"""
SELECT r.created_at, r.id, {REPORT_FEATURE_SQL}
{REPORT_FROM_SQL}
WHERE {{where}}
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s
"""

# Inside an area (any kind) with that code; ST_Covers uses the location index. {t} is the
# table alias: r for reports, i for incidents.
AREA_CLAUSE = ("EXISTS (SELECT 1 FROM geo_area a WHERE a.code = %(area)s "
               "AND ST_Covers(a.boundary, {t}.public_location))")


@dataclass
class Page:
    features: list[str]
    next_cursor: str | None


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        minx, miny, maxx, maxy = (float(v) for v in raw.split(","))
    except ValueError:
        raise ValidationError({"bbox": [_("Use four numbers: min_lon,min_lat,max_lon,max_lat.")]}) from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ValidationError({"bbox": [_("Use four numbers: min_lon,min_lat,max_lon,max_lat.")]})
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError({"bbox": [_("Out of range or min above max: longitudes -180..180, latitudes -90..90.")]})
    return minx, miny, maxx, maxy


# PostgreSQL takes a UTC offset of whole seconds below 16 hours either way (+15:59:59 at most);
# Python parses offsets up to ±23:59:59.999999, which the database would refuse mid-query.
MAX_UTC_OFFSET = timedelta(hours=16)  # exclusive


def storable_offset(value: datetime) -> datetime:
    """`value` if PostgreSQL can take its UTC offset (naive: no offset, fine); else ValueError."""
    offset = value.utcoffset()
    if offset is not None and (abs(offset) >= MAX_UTC_OFFSET or offset.microseconds):
        raise ValueError("UTC offset out of PostgreSQL's range")
    return value


def _parse_when(name: str, raw: str, end_of_day: bool) -> datetime:
    try:
        value = parse_datetime(raw)
        day = parse_date(raw) if value is None else None
    except ValueError:  # well-formed but impossible, like 2026-02-30
        raise ValidationError({name: [_("Use a date (2026-05-01) or a date and time (ISO 8601).")]}) from None
    if value is None:
        if day is None:
            raise ValidationError({name: [_("Use a date (2026-05-01) or a date and time (ISO 8601).")]})
        value = datetime.combine(day, time.max if end_of_day else time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return storable_offset(value)
    except ValueError:
        raise ValidationError({name: [_("Time-zone offsets run from -15:59 to +15:59.")]}) from None


def encode_cursor(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        when, pk = text.split("|")
        return storable_offset(datetime.fromisoformat(when)), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": [_("Invalid cursor; use the 'next' link as given.")]}) from None


def _codes(raw: str) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()]


@dataclass
class Filters:
    """Parsed report filters: SQL conditions with their parameters, or errors by parameter."""

    where: list[str]
    params: dict
    errors: dict[str, list[str]]

    def check(self, fn):
        try:
            return fn()
        except ValidationError as exc:
            self.errors.update(exc.message_dict)
            return None

    def sql(self) -> str:
        if self.errors:
            raise ValidationError(self.errors)
        return " AND ".join(self.where)


def add_bbox(f: Filters, query: dict[str, str], column: str) -> None:
    """The `bbox` parameter as a `&&` test on `column` (SRID 4326; served by its GiST index)."""
    if query.get("bbox"):
        box = f.check(lambda: parse_bbox(query["bbox"]))
        if box:
            f.params.update(zip(("minx", "miny", "maxx", "maxy"), box))
            f.where.append(f"{column} && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)")


def report_filters(query: dict[str, str], params: dict, t: str = "r", time_column: str = "created_at") -> Filters:
    """bbox, category, status, department, area, created_after, created_before, on the table
    aliased `t` (with c for its category and d for its department)."""
    f = Filters(["TRUE"], params, {})
    add_bbox(f, query, f"{t}.public_location")
    if query.get("category"):
        params["categories"] = _codes(query["category"])
        f.where.append("c.code = ANY(%(categories)s)")
    if query.get("status"):
        statuses = _codes(query["status"])
        bad = sorted(set(statuses) - set(Report.Status.values))
        if bad:
            f.errors["status"] = [_("Unknown status: %(v)s. Use: %(all)s.") % {
                "v": ", ".join(bad), "all": ", ".join(Report.Status.values)}]
        params["statuses"] = statuses
        f.where.append(f"{t}.status = ANY(%(statuses)s)")
    if query.get("department"):
        params["departments"] = _codes(query["department"])
        f.where.append("d.code = ANY(%(departments)s)")
    if query.get("area"):
        params["area"] = query["area"]
        f.where.append(AREA_CLAUSE.format(t=t))
    for name, end_of_day, op in (("created_after", False, ">="), ("created_before", True, "<=")):
        if query.get(name):
            params[name] = f.check(lambda: _parse_when(name, query[name], end_of_day))
            f.where.append(f"{t}.{time_column} {op} %({name})s")
    return f


def report_page(query: dict[str, str], lang: str) -> Page:
    """One page of public report features, filtered by the query parameters."""
    f = report_filters(query, base_params(lang))
    limit = DEFAULT_PAGE
    if query.get("limit"):
        try:
            limit = int(query["limit"])
            if not 1 <= limit <= MAX_PAGE:
                raise ValueError
        except ValueError:
            f.errors["limit"] = [_("Must be a whole number from 1 to %(max)s.") % {"max": MAX_PAGE}]
    if query.get("cursor"):
        cursor_value = f.check(lambda: decode_cursor(query["cursor"]))
        if cursor_value:
            f.params["cursor_at"], f.params["cursor_id"] = cursor_value
            f.where.append("(r.created_at, r.id) < (%(cursor_at)s, %(cursor_id)s)")
    where = f.sql()
    f.params["limit"] = limit + 1
    with connection.cursor() as cursor:
        cursor.execute(REPORT_PAGE_SQL.format(where=where), f.params)
        rows = cursor.fetchall()
    next_cursor = encode_cursor(rows[limit - 1][0], rows[limit - 1][1]) if len(rows) > limit else None
    return Page([row[2] for row in rows[:limit]], next_cursor)


# Counts of reports on a square grid for zoomed-out maps: locations in web-mercator metres
# (EPSG:3857, the map's own projection) snapped to cells of cell_m, one feature per non-empty
# cell at the mean position of its reports, back in SRID 4326. The bbox filter uses the GiST
# index on location; at most MAX_CELLS cells are returned, whatever the zoom.
AGGREGATE_SQL = f"""
SELECT json_build_object(
    'type', 'Feature',
    'geometry', ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(q.m)), avg(ST_Y(q.m))), 3857), 4326), 6)::json,
    'properties', json_build_object('count', count(*), 'open', count(*) FILTER (WHERE q.is_open))
)::text
FROM (
    SELECT ST_Transform(r.public_location, 3857) AS m, r.status = ANY(%(open_statuses)s) AS is_open
    {REPORT_FROM_SQL}
    WHERE r.public_location IS NOT NULL AND {{where}}
) q
GROUP BY ST_SnapToGrid(q.m, %(cell_m)s)
ORDER BY count(*) DESC
LIMIT %(max_cells)s
"""
MAX_CELLS = 2000
CELL_PX = 64  # one cell is about this many screen pixels wide at the requested zoom


def report_aggregates(query: dict[str, str], lang: str) -> list[str]:
    f = report_filters(query, base_params(lang))
    zoom = f.check(lambda: _zoom(query.get("zoom", "10")))
    if not query.get("bbox"):
        f.errors["bbox"] = [_("Use four numbers: min_lon,min_lat,max_lon,max_lat.")]
    where = f.sql()
    f.params.update(cell_m=156543.03392 / 2**zoom * CELL_PX, max_cells=MAX_CELLS,
                    open_statuses=list(Report.OPEN_STATUSES))
    with connection.cursor() as cursor:
        cursor.execute(AGGREGATE_SQL.format(where=where), f.params)
        return [row[0] for row in cursor.fetchall()]


def _zoom(raw: str) -> float:
    try:
        zoom = float(raw)
        if 0 <= zoom <= 22:
            return zoom
    except ValueError:
        pass
    raise ValidationError({"zoom": [_("Must be a number from 0 to 22.")]})


# Possible duplicates of a new report: open reports of the same category within the category's
# duplicate radius (metres on the geography; GiST index on public_location::geography) and
# reported within its time window, nearest first. Measured from the public point, so a
# category published with a reduced precision gives nothing finer away.
NEARBY_SQL = f"""
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g)
SELECT {REPORT_FEATURE_SQL},
       round(ST_Distance(r.public_location::geography, p.g)) AS distance_m
{REPORT_FROM_SQL}
CROSS JOIN p
WHERE c.code = %(category)s
  AND r.status = ANY(%(open_statuses)s)
  AND r.created_at >= now() - make_interval(days => c.duplicate_window_days)
  AND ST_DWithin(r.public_location::geography, p.g, c.duplicate_radius_m)
ORDER BY ST_Distance(r.public_location::geography, p.g), r.id
LIMIT %(limit)s
"""


def nearby_open_reports(category_code: str, lon: float, lat: float, lang: str, limit: int = 10) -> list[dict]:
    params = base_params(lang) | {"category": category_code, "lon": lon, "lat": lat, "limit": limit,
                                  "open_statuses": list(Report.OPEN_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute(NEARBY_SQL, params)
        rows = cursor.fetchall()
    features = []
    for text, distance in rows:
        feature = json.loads(text)
        feature["properties"]["distance_m"] = int(distance)
        features.append(feature)
    return features


def report_feature(public_id: str, lang: str) -> str | None:
    params = base_params(lang) | {"public_id": public_id}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {REPORT_FEATURE_SQL} {REPORT_FROM_SQL} WHERE r.public_id = %(public_id)s", params)
        row = cursor.fetchone()
    return row[0] if row else None


# Areas as GeoJSON, simplified for display in web-mercator metres (EPSG:3857), a tolerance of
# about half a screen pixel at the requested zoom, then returned in SRID 4326.
AREAS_SQL = """
SELECT json_build_object(
    'type', 'Feature',
    'id', a.code,
    'geometry', ST_AsGeoJSON(ST_Transform(
        ST_SimplifyPreserveTopology(ST_Transform(a.boundary, 3857), %(tolerance_m)s), 4326), 6)::json,
    'properties', json_build_object(
        'code', a.code, 'kind', a.kind, 'name_vi', a.name_vi, 'name_en', a.name_en,
        'parent', p.code, 'area_km2', round((a.area_m2 / 1e6)::numeric, 2))
)::text
FROM geo_area a LEFT JOIN geo_area p ON p.id = a.parent_id
WHERE {where}
ORDER BY a.kind, a.code
"""


def area_features(query: dict[str, str]) -> list[str]:
    f = Filters(["TRUE"], {}, {})
    zoom = f.check(lambda: _zoom(query.get("zoom", "14")))
    f.params["tolerance_m"] = 156543.03392 / 2**zoom / 2 if zoom is not None else 0
    if query.get("tolerance_m"):
        try:
            f.params["tolerance_m"] = float(query["tolerance_m"])
            if not 0 <= f.params["tolerance_m"] <= 100_000:
                raise ValueError
        except ValueError:
            f.errors["tolerance_m"] = [_("Must be a number of metres from 0 to 100000.")]
    if query.get("kind"):
        f.params["kinds"] = _codes(query["kind"])
        f.where.append("a.kind = ANY(%(kinds)s)")
    if query.get("parent"):
        f.params["parent"] = query["parent"]
        f.where.append("p.code = %(parent)s")
    add_bbox(f, query, "a.boundary")
    with connection.cursor() as cursor:
        cursor.execute(AREAS_SQL.format(where=f.sql()), f.params)
        return [row[0] for row in cursor.fetchall()]


INCIDENT_PAGE_SQL = f"""
SELECT i.id, {INCIDENT_FEATURE_SQL}
{INCIDENT_FROM_SQL}
WHERE i.report_count > 0 AND {{where}}
ORDER BY i.id DESC
LIMIT %(limit)s
"""


def incident_page(query: dict[str, str], lang: str) -> Page:
    """Public incidents, newest first, with the report filters (dates apply to the first report)."""
    f = report_filters(query, base_params(lang), t="i", time_column="first_reported_at")
    limit = DEFAULT_PAGE
    try:
        limit = int(query.get("limit", DEFAULT_PAGE))
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError
    except ValueError:
        f.errors["limit"] = [_("Must be a whole number from 1 to %(max)s.") % {"max": MAX_PAGE}]
    if query.get("cursor"):
        try:
            f.params["cursor_id"] = int(query["cursor"])
            f.where.append("i.id < %(cursor_id)s")
        except ValueError:
            f.errors["cursor"] = [_("Invalid cursor; use the 'next' link as given.")]
    where = f.sql()
    f.params["limit"] = limit + 1
    with connection.cursor() as cursor:
        cursor.execute(INCIDENT_PAGE_SQL.format(where=where), f.params)
        rows = cursor.fetchall()
    return Page([row[1] for row in rows[:limit]], str(rows[limit - 1][0]) if len(rows) > limit else None)


def incident_feature(incident_id: int, lang: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {INCIDENT_FEATURE_SQL} {INCIDENT_FROM_SQL} WHERE i.id = %(id)s",
                       base_params(lang) | {"id": incident_id})
        row = cursor.fetchone()
    return row[0] if row else None


# Hotspots as GeoJSON: footprint polygons (SRID 4326) with counts, open share and trend.
HOTSPOTS_SQL = f"""
SELECT json_build_object(
    'type', 'Feature',
    'id', h.id,
    'geometry', ST_AsGeoJSON(h.footprint, 6)::json,
    'properties', json_build_object(
        'category', json_build_object('code', c.code, 'name', {localized('c')}),
        'report_count', h.report_count,
        'open_count', h.open_count,
        'open_share', round(h.open_count::numeric / greatest(h.report_count, 1), 3),
        'previous_count', h.previous_count,
        'trend', round((h.report_count - h.previous_count)::numeric / greatest(h.previous_count, 1), 3),
        'centroid', ST_AsGeoJSON(h.centroid, 6)::json,
        'window_start', h.window_start, 'window_end', h.window_end, 'computed_at', h.computed_at)
)::text
FROM incidents_hotspot h JOIN incidents_category c ON c.id = h.category_id
WHERE {{where}}
ORDER BY h.report_count DESC, h.id
LIMIT 2000
"""


def hotspot_features(query: dict[str, str], lang: str) -> list[str]:
    f = Filters(["TRUE"], base_params(lang), {})
    if query.get("category"):
        f.params["categories"] = _codes(query["category"])
        f.where.append("c.code = ANY(%(categories)s)")
    add_bbox(f, query, "h.footprint")
    with connection.cursor() as cursor:
        cursor.execute(HOTSPOTS_SQL.format(where=f.sql()), f.params)
        return [row[0] for row in cursor.fetchall()]
