"""Read queries for public outputs. Filters are parsed and checked here; errors name the
query parameter, as the API answers them."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .api.geojson import REPORT_FEATURE_SQL, REPORT_FROM_SQL, base_params
from .models import Report

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

# Bounding box on SRID 4326 (lon/lat), answered by the GiST index on location.
BBOX_CLAUSE = "r.location && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"
# Inside an area (any kind) with that code; ST_Covers uses the location index.
AREA_CLAUSE = "EXISTS (SELECT 1 FROM geo_area a WHERE a.code = %(area)s AND ST_Covers(a.boundary, r.location))"


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


def _parse_when(name: str, raw: str, end_of_day: bool) -> datetime:
    value = parse_datetime(raw)
    if value is None:
        day = parse_date(raw)
        if day is None:
            raise ValidationError({name: [_("Use a date (2026-05-01) or a date and time (ISO 8601).")]})
        value = datetime.combine(day, time.max if end_of_day else time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def encode_cursor(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        when, pk = text.split("|")
        created_at = datetime.fromisoformat(when)
        return created_at, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": [_("Invalid cursor; use the 'next' link as given.")]}) from None


def _codes(raw: str) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()]


def report_page(query: dict[str, str], lang: str) -> Page:
    """One page of public report features, filtered by the query parameters."""
    params = base_params(lang)
    where = ["TRUE"]
    errors: dict[str, list[str]] = {}

    def check(name, fn):
        try:
            return fn()
        except ValidationError as exc:
            errors.update(exc.message_dict)

    if query.get("bbox"):
        box = check("bbox", lambda: parse_bbox(query["bbox"]))
        if box:
            params.update(zip(("minx", "miny", "maxx", "maxy"), box))
            where.append(BBOX_CLAUSE)
    if query.get("category"):
        params["categories"] = _codes(query["category"])
        where.append("c.code = ANY(%(categories)s)")
    if query.get("status"):
        statuses = _codes(query["status"])
        bad = sorted(set(statuses) - set(Report.Status.values))
        if bad:
            errors["status"] = [_("Unknown status: %(v)s. Use: %(all)s.") % {"v": ", ".join(bad), "all": ", ".join(Report.Status.values)}]
        params["statuses"] = statuses
        where.append("r.status = ANY(%(statuses)s)")
    if query.get("department"):
        params["departments"] = _codes(query["department"])
        where.append("d.code = ANY(%(departments)s)")
    if query.get("area"):
        params["area"] = query["area"]
        where.append(AREA_CLAUSE)
    if query.get("created_after"):
        params["created_after"] = check("created_after", lambda: _parse_when("created_after", query["created_after"], False))
        where.append("r.created_at >= %(created_after)s")
    if query.get("created_before"):
        params["created_before"] = check("created_before", lambda: _parse_when("created_before", query["created_before"], True))
        where.append("r.created_at <= %(created_before)s")
    limit = DEFAULT_PAGE
    if query.get("limit"):
        try:
            limit = int(query["limit"])
            if not 1 <= limit <= MAX_PAGE:
                raise ValueError
        except ValueError:
            errors["limit"] = [_("Must be a whole number from 1 to %(max)s.") % {"max": MAX_PAGE}]
    if query.get("cursor"):
        cursor_value = check("cursor", lambda: decode_cursor(query["cursor"]))
        if cursor_value:
            params["cursor_at"], params["cursor_id"] = cursor_value
            where.append("(r.created_at, r.id) < (%(cursor_at)s, %(cursor_id)s)")
    if errors:
        raise ValidationError(errors)

    params["limit"] = limit + 1
    with connection.cursor() as cursor:
        cursor.execute(REPORT_PAGE_SQL.format(where=" AND ".join(where)), params)
        rows = cursor.fetchall()
    next_cursor = encode_cursor(rows[limit - 1][0], rows[limit - 1][1]) if len(rows) > limit else None
    return Page([row[2] for row in rows[:limit]], next_cursor)


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
    params: dict = {}
    where = ["TRUE"]
    errors: dict[str, list[str]] = {}
    zoom = 14.0
    try:
        if query.get("zoom"):
            zoom = float(query["zoom"])
            if not 0 <= zoom <= 22:
                raise ValueError
    except ValueError:
        errors["zoom"] = [_("Must be a number from 0 to 22.")]
    params["tolerance_m"] = 156543.03392 / 2**zoom / 2 if not errors else 0
    if query.get("tolerance_m"):
        try:
            params["tolerance_m"] = float(query["tolerance_m"])
            if not 0 <= params["tolerance_m"] <= 100_000:
                raise ValueError
        except ValueError:
            errors["tolerance_m"] = [_("Must be a number of metres from 0 to 100000.")]
    if query.get("kind"):
        params["kinds"] = _codes(query["kind"])
        where.append("a.kind = ANY(%(kinds)s)")
    if query.get("parent"):
        params["parent"] = query["parent"]
        where.append("p.code = %(parent)s")
    if query.get("bbox"):
        try:
            params.update(zip(("minx", "miny", "maxx", "maxy"), parse_bbox(query["bbox"])))
            where.append("a.boundary && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with connection.cursor() as cursor:
        cursor.execute(AREAS_SQL.format(where=" AND ".join(where)), params)
        return [row[0] for row in cursor.fetchall()]
