"""The vector-tile layers: reports, incidents, hotspots and areas, each one Mapbox vector tile
(MVT) built by PostGIS in one query per tile.

SRIDs and units: tiles are in web mercator, EPSG:3857 (metres), their bounds from
ST_TileEnvelope(z, x, y); features are stored in WGS-84, SRID 4326. Every query finds its rows
with `&&` between the stored 4326 column (its GiST index) and the tile's envelope transformed
to 4326, then projects only those rows to 3857 for ST_AsMVTGeom (EXTENT units of 4096 to the
tile; BUFFER units of margin, so point symbols near an edge are drawn on both tiles).

What is public: reports and incidents carry only fields of the public projection
(read/public.py) at the public point (PUBLIC_POINT, snapped to the category's public
precision), filtered like the public API's list (read/query.py); areas come from geo_area and
hotspots from the tables read/layers.py publishes. Descriptions and addresses stay out of the
tiles (they are long; a report's page and the API have them).

Zoomed out, below POINTS_FROM_ZOOM, the reports and incidents layers carry grid counts
instead of points (as read/cells.py does for the map's aggregate API): each tile is cut into
CELLS_PER_TILE × CELLS_PER_TILE square cells of EPSG:3857, and each non-empty cell is one point
at the mean position of its rows, with how many there are and how many are open. Cells are
aligned to the tile, so no cell straddles two tiles. The database keeps these counts per
zoom, cell and category (citypin_tile_cell, migration 0012, plus the changes the worker has not
folded in yet, migration 0031: exact at all times), so an unfiltered or category-filtered
tile reads at most 64 rows per category (and the few changes pending) instead of the hundreds
of thousands of reports under a zoom-10 tile. Other filters (status,
department, area, dates) count the rows themselves (CELLS_SQL), with mercator coordinates
computed by arithmetic (EPSG:3857's sphere formulas), a fraction of the cost of ST_Transform.

Every query also reads the data version of the tables it draws on (citypin_data_version,
bumped by triggers in the same transaction as any write: migration 0010) in the same snapshot,
so the ETag made from it always covers the tile's content.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from gis.tiles import Tile, cell_size_m
from incidents.read.geojson import INCIDENT_FROM_SQL
from incidents.read.public import INCIDENT_FIELDS, PUBLIC_POINT, REPORT_FIELDS, PublicField
from incidents.read.query import OPEN_STATUSES, ReportQuery
from incidents.read.sql import REPORT_FROM_SQL, localized
from incidents.read.versions import DATA_VERSION_SQL

EXTENT = 4096  # tile units per side
BUFFER = 64  # tile units drawn beyond each edge (points and outlines near an edge)
POINTS_FROM_ZOOM = 14  # from this zoom on, points; below it, grid counts (the public map's threshold too)
CELLS_PER_TILE = 8  # grid counts: 8 × 8 cells per tile, 32 screen pixels each on 256-pixel tiles

# The data version of the layer's tables (read/versions.py); needs %(tables)s.
VERSION_SQL = DATA_VERSION_SQL

# The tile's envelope (EPSG:3857) and the box its rows are searched in (SRID 4326), with and
# without the margin of BUFFER; need %(z)s, %(x)s, %(y)s.
ENVELOPE = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)"
SEARCH_BOX = f"ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {BUFFER / EXTENT}), 4326)"
SEARCH_BOX_NO_MARGIN = f"ST_Transform({ENVELOPE}, 4326)"

# A 4326 point's EPSG:3857 coordinates, by the sphere's formulas (radius 6378137 m).
MERCATOR_X = "(ST_X({p}) * 20037508.342789244 / 180)"
MERCATOR_Y = "(ln(tan(radians(45 + ST_Y({p}) / 2))) * 6378137)"


def epoch(sql: str) -> str:
    """A timestamptz as whole seconds since 1970-01-01 UTC: MVT has no time type, and a number
    is 4-5 bytes in a tile (an ISO 8601 string about 20, unique per report) and can be compared
    in a map style's filter expressions."""
    return f"extract(epoch FROM {sql})::bigint"


def tile_value(f: PublicField) -> str:
    return f"{epoch(f.sql) if f.type == 'date-time' else f.sql} AS {f.name}"


# Times are seconds in the tiles, not the ISO 8601 text of the other outputs.
TIME_DESCRIPTIONS = {
    "created_at": _("When it was reported, in seconds since 1970-01-01 UTC."),
    "updated_at": _("When it last changed, in seconds since 1970-01-01 UTC."),
    "resolved_at": _("When it was resolved, if it was, in seconds since 1970-01-01 UTC."),
    "first_reported_at": _("When it was first reported, in seconds since 1970-01-01 UTC."),
    "last_reported_at": _("When it was last reported, in seconds since 1970-01-01 UTC."),
}


def described(f: PublicField) -> Promise:
    return TIME_DESCRIPTIONS.get(f.name, f.description) if f.type == "date-time" else f.description


# The one query of a tile: the version of its tables and the MVT of its features, one snapshot.
TILE_SQL = """
SELECT ({version}) AS version,
       (SELECT ST_AsMVT(t, %(layer)s, {extent}, 'geom'{feature_id}) FROM ({features}) t) AS tile
"""

# Grid counts of rows (alias {t}) whose point column is {point}: one MVT point per non-empty cell
# of the tile (%(cell_m)s metres of EPSG:3857, counted from the tile's south-west corner
# %(x0)s, %(y0)s), at the mean position of its rows.
CELLS_SQL = f"""
SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(avg(q.mx), avg(q.my)), 3857), {ENVELOPE}, {EXTENT}, 0, true) AS geom,
       count(*) AS count,
       count(*) FILTER (WHERE q.is_open) AS open
FROM (
    SELECT {MERCATOR_X.format(p="{t}.{point}")} AS mx, {MERCATOR_Y.format(p="{t}.{point}")} AS my,
           {{t}}.status = ANY(%(open_statuses)s) AS is_open
    {{from_sql}}
    WHERE {{t}}.{{point}} && {SEARCH_BOX_NO_MARGIN} AND {{where}}
) q
GROUP BY least(floor((q.mx - %(x0)s) / %(cell_m)s), %(last_cell)s), least(floor((q.my - %(y0)s) / %(cell_m)s), %(last_cell)s)
ORDER BY 1
"""

KEPT = "layer, z, x, y, cell, category_id, n, open, sum_mx, sum_my"

# Grid counts kept by the database (citypin_tile_cell, migration 0012, plus the changes not yet
# folded in that this statement can see, citypin_tile_cell_delta, migration 0031) for the layer
# %(layer)s: the tile's 64 cells, summed over categories (all, or those of %(categories)s), read
# by primary key; a cell's point is the mean of its rows' EPSG:3857 coordinates.
KEPT_CELLS_SQL = f"""
SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(sum(k.sum_mx) / sum(k.n), sum(k.sum_my) / sum(k.n)), 3857),
                    {ENVELOPE}, {EXTENT}, 0, true) AS geom,
       sum(k.n)::int AS count,
       sum(k.open)::int AS open
FROM (SELECT {KEPT} FROM citypin_tile_cell
      UNION ALL
      SELECT {KEPT} FROM citypin_tile_cell_delta) k
WHERE k.layer = %(layer)s AND k.z = %(z)s AND k.x = %(x)s AND k.y = %(y)s AND {{categories}}
GROUP BY k.cell
HAVING sum(k.n) > 0
ORDER BY k.cell
"""
KEPT_CATEGORIES_SQL = "k.category_id IN (SELECT id FROM incidents_category WHERE code = ANY(%(categories)s))"

# Reports from POINTS_FROM_ZOOM on: the public point and the public fields, oldest first.
REPORT_POINTS_SQL = """
SELECT ST_AsMVTGeom(ST_Transform(r.{point}, 3857), {envelope}, {extent}, {buffer}, true) AS geom,
       {columns}
{from_sql}
WHERE r.{point} && {search_box} AND {where}
ORDER BY r.id
"""

# Incidents with at least one report (as the public API lists them), at their public point.
INCIDENT_POINTS_SQL = """
SELECT ST_AsMVTGeom(ST_Transform(i.{point}, 3857), {envelope}, {extent}, {buffer}, true) AS geom,
       {columns}
{from_sql}
WHERE i.{point} && {search_box} AND i.report_count > 0 AND {where}
ORDER BY i.id
"""

# Boundaries, simplified in EPSG:3857 to half a tile unit at this zoom (%(tolerance_m)s metres).
AREAS_SQL = f"""
SELECT ST_AsMVTGeom(ST_SimplifyPreserveTopology(ST_Transform(a.boundary, 3857), %(tolerance_m)s),
                    {ENVELOPE}, {EXTENT}, {BUFFER}, true) AS geom,
       a.code, a.kind, a.name_vi, a.name_en, p.code AS parent, round((a.area_m2 / 1e6)::numeric, 2) AS area_km2
FROM geo_area a LEFT JOIN geo_area p ON p.id = a.parent_id
WHERE a.boundary && {SEARCH_BOX}
ORDER BY a.kind, a.code
"""

# Hotspot footprints (SRID 4326 polygons) with their counts and trend.
HOTSPOTS_SQL = f"""
SELECT ST_AsMVTGeom(ST_Transform(h.footprint, 3857), {ENVELOPE}, {EXTENT}, {BUFFER}, true) AS geom,
       h.id, c.code AS category, {localized('c')} AS category_name,
       h.report_count, h.open_count,
       round(h.open_count::numeric / greatest(h.report_count, 1), 3)::float8 AS open_share,
       h.previous_count,
       round((h.report_count - h.previous_count)::numeric / greatest(h.previous_count, 1), 3)::float8 AS trend,
       {epoch('h.window_start')} AS window_start, {epoch('h.window_end')} AS window_end,
       {epoch('h.computed_at')} AS computed_at
FROM incidents_hotspot h JOIN incidents_category c ON c.id = h.category_id
WHERE h.footprint && {SEARCH_BOX}
ORDER BY h.report_count DESC, h.id
"""

# Report fields in the tiles: the public projection without its long texts.
TILE_REPORT_FIELDS = tuple(f for f in REPORT_FIELDS if f.name not in ("description", "address"))

CELL_FIELDS = {
    "count": format_lazy(_("Grid cells (below zoom {z}): how many there are in the cell."), z=POINTS_FROM_ZOOM),
    "open": format_lazy(_("Grid cells (below zoom {z}): how many of them are open."), z=POINTS_FROM_ZOOM),
}


@dataclass(frozen=True)
class Layer:
    """One tile layer: its name, what it shows, the tables its version covers, and its fields
    (name → description) for TileJSON."""

    name: str
    description: Promise
    tables: tuple[str, ...]
    fields: dict[str, Promise] = field(default_factory=dict)
    filtered: bool = False  # takes the public report filters (read/query.py)

    def query(self, tile: Tile, lang: str, report_query: ReportQuery | None = None) -> tuple[str, dict]:
        """The one SQL query of this layer's tile and its parameters: it returns the version
        and the MVT (NULL when no feature is in the tile)."""
        params = {"z": tile.z, "x": tile.x, "y": tile.y, "lang": lang, "layer": self.name,
                  "tables": list(self.tables)}
        # Unfiltered, a filtered layer's SQL and added parameters depend on the tile's zoom
        # class only (points or kept grid counts): built once, not formatted on every tile.
        key = (self.name, tile.z < POINTS_FROM_ZOOM) if self.filtered and report_query is None else None
        if key in _UNFILTERED:
            sql, added = _UNFILTERED[key]
            params.update({name: list(value) if isinstance(value, list) else value for name, value in added})
            return sql, params
        known = set(params)
        features, feature_id = BUILDERS[self.name](tile, params, report_query or ReportQuery())
        sql = TILE_SQL.format(version=VERSION_SQL, extent=EXTENT, features=features,
                              feature_id=f", '{feature_id}'" if feature_id else "")
        if key is not None:
            _UNFILTERED[key] = sql, tuple((name, list(value) if isinstance(value, list) else value)
                                          for name, value in params.items() if name not in known)
        return sql, params


_UNFILTERED: dict[tuple[str, bool], tuple[str, tuple[tuple[str, object], ...]]] = {}  # Layer.query's

# The PostgreSQL types of the parameters of an unfiltered tile's query, which runs as a prepared
# statement (incidents.prepared): a tile's plan and parse cost about as much as a zoomed-out
# tile's execution, and its best plan is the same for every tile of a zoom class.
TILE_TYPES = {"z": "int", "x": "int", "y": "int", "lang": "text", "layer": "text", "tables": "text[]",
              "categories": "text[]", "tolerance_m": "float8"}


def _kept(report_query: ReportQuery) -> bool:
    """Whether the kept grid counts answer these filters: they know the category, nothing else."""
    return not (report_query.statuses or report_query.departments or report_query.area or report_query.bbox
                or report_query.created_after or report_query.created_before)


def _cells(tile: Tile, params: dict, report_query: ReportQuery, alias: str, full_from: str, created: str) -> str:
    if _kept(report_query):
        params["categories"] = list(report_query.categories)
        return KEPT_CELLS_SQL.format(categories=KEPT_CATEGORIES_SQL if report_query.categories else "TRUE")
    x0, y0 = tile.origin_m
    params.update(x0=x0, y0=y0, cell_m=cell_size_m(tile.z, CELLS_PER_TILE), last_cell=CELLS_PER_TILE - 1,
                  open_statuses=OPEN_STATUSES)
    where = report_query.where(params, alias=alias, created=created)
    if alias == "i":
        where += " AND i.report_count > 0"
    # The joins are only needed by a category or department filter (or an area's codes).
    bare = f"FROM incidents_{'report' if alias == 'r' else 'incident'} {alias}"
    needs_joins = report_query.categories or report_query.departments
    return CELLS_SQL.format(t=alias, point=PUBLIC_POINT, from_sql=full_from if needs_joins else bare, where=where)


def _reports(tile: Tile, params: dict, report_query: ReportQuery) -> tuple[str, str | None]:
    if tile.z < POINTS_FROM_ZOOM:
        return _cells(tile, params, report_query, "r", REPORT_FROM_SQL, "created_at"), None
    columns = ",\n       ".join(tile_value(f) for f in TILE_REPORT_FIELDS)
    return REPORT_POINTS_SQL.format(point=PUBLIC_POINT, envelope=ENVELOPE, extent=EXTENT, buffer=BUFFER,
                                    columns=columns, from_sql=REPORT_FROM_SQL, search_box=SEARCH_BOX,
                                    where=report_query.where(params)), None


def _incidents(tile: Tile, params: dict, report_query: ReportQuery) -> tuple[str, str | None]:
    if tile.z < POINTS_FROM_ZOOM:
        return _cells(tile, params, report_query, "i", INCIDENT_FROM_SQL, "first_reported_at"), None
    columns = ",\n       ".join(tile_value(f) for f in INCIDENT_FIELDS)
    where = report_query.where(params, alias="i", created="first_reported_at")
    return INCIDENT_POINTS_SQL.format(point=PUBLIC_POINT, envelope=ENVELOPE, extent=EXTENT, buffer=BUFFER,
                                      columns=columns, from_sql=INCIDENT_FROM_SQL, search_box=SEARCH_BOX,
                                      where=where), "id"


def _areas(tile: Tile, params: dict, report_query: ReportQuery) -> tuple[str, str | None]:
    params["tolerance_m"] = tile.width_m / EXTENT / 2
    return AREAS_SQL, None


def _hotspots(tile: Tile, params: dict, report_query: ReportQuery) -> tuple[str, str | None]:
    return HOTSPOTS_SQL, "id"


BUILDERS = {"reports": _reports, "incidents": _incidents, "areas": _areas, "hotspots": _hotspots}

LAYERS: dict[str, Layer] = {layer.name: layer for layer in (
    Layer("reports", _("Public reports of problems at their public point; grid counts when zoomed out."),
          ("incidents_report", "incidents_category", "incidents_department", "geo_area"),
          {f.name: described(f) for f in TILE_REPORT_FIELDS} | CELL_FIELDS, filtered=True),
    Layer("incidents", _("Incidents (one real-world problem, one or more reports) at their public point; grid "
                         "counts when zoomed out."),
          ("incidents_incident", "incidents_category", "incidents_department"),
          {f.name: described(f) for f in INCIDENT_FIELDS} | CELL_FIELDS, filtered=True),
    Layer("hotspots", _("Places where a kind of problem keeps being reported (clusters of recent reports)."),
          ("incidents_hotspot", "incidents_category"),
          {"id": _("The hotspot's number."), "category": _("Code of the kind of problem the hotspot is about."),
           "category_name": _("Name of that kind of problem, in the language asked for."),
           "report_count": _("Reports in the cluster in its time window."),
           "open_count": _("How many of them are open."), "open_share": _("open_count / report_count."),
           "previous_count": _("Reports in the same place in the previous window."),
           "trend": _("Relative change against the previous window: 1.0 is twice as many."),
           "window_start": _("Start of the time window, in seconds since 1970-01-01 UTC."),
           "window_end": _("End of the time window, in seconds since 1970-01-01 UTC."),
           "computed_at": _("When the hotspot was computed, in seconds since 1970-01-01 UTC.")}),
    Layer("areas", _("Administrative areas (province, wards…) and their boundaries."), ("geo_area",),
          {"code": _("Code of the area."), "kind": _("Kind of area: province, district, ward…"),
           "name_vi": _("Name in Vietnamese."), "name_en": _("Name in English."),
           "parent": _("Code of the area it belongs to."), "area_km2": _("Area in square kilometres.")}),
)}
