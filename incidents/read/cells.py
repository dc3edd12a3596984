"""Counts of reports on a square grid, for zoomed-out maps, public and staff alike.

The zoom gives the cell: web-mercator metres (EPSG:3857, the map's own projection) per screen
pixel at the equator for 256-pixel tiles, times CELL_PX. Points snap to cells of that size in
EPSG:3857; each non-empty cell is one feature at the mean position of its reports, back in
SRID 4326, with how many are open (and, for staff, overdue). At most MAX_CELLS cells, fullest
first, whatever the zoom. The report filters (read/query.py, a bbox required) use the GiST
index of the point: the public point for the public, the exact location for staff.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

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
    params = base_params(lang) | {"cell_m": metres_per_pixel(zoom) * CELL_PX, "max_cells": MAX_CELLS,
                                  "open_statuses": OPEN_STATUSES, "now": report_query.now}
    sql = CELLS_SQL.format(point=report_query.point, from_sql=REPORT_FROM_SQL, where=report_query.where(params),
                           **(PUBLIC_COUNTS if scope is None else STAFF_COUNTS))
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
