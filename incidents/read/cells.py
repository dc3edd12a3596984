"""Counts of reports on a square grid, for zoomed-out maps, public and staff alike.

The zoom gives the cell: web-mercator metres (EPSG:3857, the map's own projection) per screen
pixel at the equator for 256-pixel tiles, times CELL_PX. Points snap to cells of that size in
EPSG:3857; each non-empty cell is one feature at the mean position of its reports, back in
SRID 4326, with how many are open (and, for staff, overdue). At most MAX_CELLS cells, fullest
first, whatever the zoom. The report filters (read/query.py, a bbox required) use the GiST
index of the point: the public point for the public, the exact location for staff.

The public's counts with no filter but the bbox and categories, at a whole zoom from 1 to 14
over a box at least MIN_CELLS_ACROSS cells wide and high (a map's view), are read instead from
the grid counts the database keeps for the vector tiles (citypin_tile_cell, migration 0012):
the cells of zoom z − 1's tiles, 8 × 8 per tile, are the same 64 screen pixels at zoom z, tile
aligned. Read by primary key, whatever the number of reports under the view. A cell there is
in the answer when its mean point is in the box, so a cell across the box's edge counts all its
reports or none (the counted answer counts those inside); in the map's view that is the edge.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from gis.tiles import MAX_LATITUDE, tile_at
from incidents.access import StaffScope
from incidents.read.geojson import base_params
from incidents.read.query import OPEN_STATUSES, OVERDUE_SQL, Errors, Query, ReportQuery, field_error
from incidents.read.replicas import read_connection
from incidents.read.sql import REPORT_FROM_SQL

MAX_CELLS = 2000
CELL_PX = 64  # one cell is about this many screen pixels wide at the requested zoom

# {point}: the report's point column; {overdue_count} and {overdue_column}: empty for the public.
CELLS_SQL = """
SELECT json_build_object(
    'type', 'Feature',
    'geometry', ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(q.m)), avg(ST_Y(q.m))), 3857), 4326), 6)::json,
    'properties', json_build_object('count', count(*), 'open', count(*) FILTER (WHERE q.is_open){overdue_count})
)::text
FROM (
    SELECT ST_Transform(r.{point}, 3857) AS m, r.status = ANY(%(open_statuses)s) AS is_open{overdue_column}
    {from_sql}
    WHERE r.{point} IS NOT NULL AND {where}
) q
GROUP BY ST_SnapToGrid(q.m, %(cell_m)s)
ORDER BY count(*) DESC
LIMIT %(max_cells)s
"""
# Kept grid counts of the reports layer (citypin_tile_cell, migration 0012, plus the changes not
# yet folded in that this statement can see, citypin_tile_cell_delta, migration 0031): the cells
# of the tiles of zoom %(z)s from x %(x0)s to %(x1)s and y %(y0)s to %(y1)s, summed over the
# categories (all, or {categories}); a cell's point is the mean of its reports' EPSG:3857
# coordinates (metres), back in SRID 4326, and it counts when that point is in the bbox.
KEPT = "layer, z, x, y, cell, category_id, n, open, sum_mx, sum_my"
KEPT_CELLS_SQL = f"""
SELECT json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(q.p, 6)::json,
                         'properties', json_build_object('count', q.n, 'open', q.open))::text
FROM (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(sum(k.sum_mx) / sum(k.n), sum(k.sum_my) / sum(k.n)), 3857), 4326) AS p,
           sum(k.n)::int AS n, sum(k.open)::int AS open
    FROM (SELECT {KEPT} FROM citypin_tile_cell
          UNION ALL
          SELECT {KEPT} FROM citypin_tile_cell_delta) k
    WHERE k.layer = 'reports' AND k.z = %(z)s AND k.x BETWEEN %(x0)s AND %(x1)s AND k.y BETWEEN %(y0)s AND %(y1)s
      AND {{categories}}
    GROUP BY k.x, k.y, k.cell
    HAVING sum(k.n) > 0
) q
WHERE q.p && ST_MakeEnvelope(%(min_lon)s, %(min_lat)s, %(max_lon)s, %(max_lat)s, 4326)
ORDER BY q.n DESC
LIMIT %(max_cells)s
"""
KEPT_CATEGORIES_SQL = "k.category_id IN (SELECT id FROM incidents_category WHERE code = ANY(%(categories)s))"
EARTH_RADIUS_M = 6378137.0  # EPSG:3857's sphere
KEPT_MAX_ZOOM = 13  # the kept cells' zooms: 0-13 (migration 0012)
MIN_CELLS_ACROSS = 4  # the kept cells answer boxes at least this many cells wide and high

STAFF_COUNTS = {"overdue_count": ", 'overdue', count(*) FILTER (WHERE q.overdue)",
                "overdue_column": f", {OVERDUE_SQL} AS overdue"}
PUBLIC_COUNTS = {"overdue_count": "", "overdue_column": ""}


def parse_zoom(raw: str) -> float:
    try:
        zoom = float(raw)
        if 0 <= zoom <= 22:
            return zoom
    except ValueError:
        pass
    raise field_error("zoom", _("Must be a number from 0 to 22."))


def metres_per_pixel(zoom: float) -> float:
    """Web-mercator metres (EPSG:3857) per screen pixel at the equator, 256-pixel tiles."""
    return 156543.03392 / 2**zoom


def report_cells(query: Query, lang: str, scope: StaffScope | None = None) -> list[str]:
    """Grid counts of the reports matching the filters, for the map's `zoom` and `bbox`:
    public reports, or (with a scope) the staff member's."""
    errors = Errors()
    report_query = errors.check(lambda: ReportQuery.parse(query, scope))
    zoom = errors.check(lambda: parse_zoom(query.get("zoom", "10")))
    if not query.get("bbox"):
        errors["bbox"] = [_("Use four numbers: min_lon,min_lat,max_lon,max_lat.")]
    errors.raise_any()
    if scope is None and _kept(report_query, zoom):
        return _kept_cells(report_query, int(zoom))
    params = base_params(lang) | {"cell_m": metres_per_pixel(zoom) * CELL_PX, "max_cells": MAX_CELLS,
                                  "open_statuses": OPEN_STATUSES, "now": report_query.now}
    sql = CELLS_SQL.format(point=report_query.point, from_sql=REPORT_FROM_SQL, where=report_query.where(params),
                           **(PUBLIC_COUNTS if scope is None else STAFF_COUNTS))
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _kept(report_query: ReportQuery, zoom: float) -> bool:
    """Whether the kept grid counts answer: the public's, no filter but the bbox and categories,
    a whole zoom whose cells (those of zoom - 1) are kept, a box of MIN_CELLS_ACROSS cells or more."""
    if (zoom != int(zoom) or not 1 <= zoom <= KEPT_MAX_ZOOM + 1 or report_query.statuses or report_query.departments
            or report_query.area or report_query.created_after or report_query.created_before):
        return False
    min_lon, min_lat, max_lon, max_lat = report_query.bbox
    (x0, y0), (x1, y1) = mercator(min_lon, min_lat), mercator(max_lon, max_lat)
    return min(x1 - x0, y1 - y0) >= MIN_CELLS_ACROSS * metres_per_pixel(zoom) * CELL_PX


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 metres of a lon/lat (SRID 4326), by the sphere's formulas; latitudes clamped."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    return math.radians(lon) * EARTH_RADIUS_M, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS_M


def _kept_cells(report_query: ReportQuery, zoom: int) -> list[str]:
    min_lon, min_lat, max_lon, max_lat = report_query.bbox
    z = zoom - 1
    top_left, bottom_right = tile_at(min_lon, max_lat, z), tile_at(max_lon, min_lat, z)
    params = {"z": z, "x0": top_left.x, "x1": bottom_right.x, "y0": top_left.y, "y1": bottom_right.y,
              "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat,
              "categories": list(report_query.categories), "max_cells": MAX_CELLS}
    sql = KEPT_CELLS_SQL.format(categories=KEPT_CATEGORIES_SQL if report_query.categories else "TRUE")
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
