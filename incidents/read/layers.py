"""Public map layers that are not reports: areas (boundaries) and hotspots, as GeoJSON built
in SQL, in SRID 4326."""

from __future__ import annotations

from django.utils.translation import gettext as _

from incidents.read.cells import metres_per_pixel, parse_zoom
from incidents.read.geojson import base_params
from incidents.read.query import Errors, Query, bbox_sql, field_error, parse_bbox, values
from incidents.read.replicas import read_connection
from incidents.read.sql import localized
from incidents.read.versions import data_version

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


def _tolerance_m(raw: str) -> float:
    try:
        tolerance_m = float(raw)
        if 0 <= tolerance_m <= 100_000:
            return tolerance_m
    except ValueError:
        pass
    raise field_error("tolerance_m", _("Must be a number of metres from 0 to 100000."))


def area_features(query: Query) -> list[str]:
    errors, params, where = Errors(), {}, ["TRUE"]
    zoom = errors.check(lambda: parse_zoom(query.get("zoom", "14")))
    params["tolerance_m"] = metres_per_pixel(zoom) / 2 if zoom is not None else 0
    if query.get("tolerance_m"):
        params["tolerance_m"] = errors.check(lambda: _tolerance_m(query["tolerance_m"]))
    if query.get("kind"):
        params["kinds"] = values(query, "kind")
        where.append("a.kind = ANY(%(kinds)s)")
    if query.get("parent"):
        params["parent"] = query["parent"]
        where.append("p.code = %(parent)s")
    if query.get("bbox"):
        bbox = errors.check(lambda: parse_bbox(query["bbox"]))
        if bbox:
            where.append(bbox_sql("a.boundary", bbox, params))
    errors.raise_any()
    with read_connection().cursor() as cursor:
        cursor.execute(AREAS_SQL.format(where=" AND ".join(where)), params)
        return [row[0] for row in cursor.fetchall()]


def areas_version() -> int:
    """The areas' data version (read/versions.py): it rises with every committed write to
    geo_area, so a URL carrying it can be cached for good."""
    return data_version(["geo_area"])


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


def hotspot_features(query: Query, lang: str) -> list[str]:
    errors, params, where = Errors(), base_params(lang), ["TRUE"]
    if query.get("category"):
        params["categories"] = values(query, "category")
        where.append("c.code = ANY(%(categories)s)")
    if query.get("bbox"):
        bbox = errors.check(lambda: parse_bbox(query["bbox"]))
        if bbox:
            where.append(bbox_sql("h.footprint", bbox, params))
    errors.raise_any()
    with read_connection().cursor() as cursor:
        cursor.execute(HOTSPOTS_SQL.format(where=" AND ".join(where)), params)
        return [row[0] for row in cursor.fetchall()]
