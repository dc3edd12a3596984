"""The four collections of the OGC API: what each is, its queryables, its time property, how
its filters compile to SQL and how it pages.

Features are GeoJSON built in SQL (json_build_object over the public projection of
read/public.py, ST_AsGeoJSON of the public geometry) and handed on as text, never parsed in
Python. Geometries are stored in SRID 4326, lon/lat; the requested CRS (crs.py) transforms or
flips them in the same query.

Paging is keyset, never OFFSET: each collection has a unique sort key (reports: newest first
on (created_at, id), served by the report_created_keyset index; incidents: newest id first;
hotspots and areas: id), and the `next` cursor is the key of a page's last row. A report that
arrives while a client pages lands before the first page, so following `next` to the end
neither repeats nor skips anything. The `prev` cursor is the key of a page's first row, marked
backwards: the rows before it, read in reverse order (the same index, scanned the other way)
and reversed, so following `prev` returns exactly the page before; the first page has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.ogc.params import DEFAULT_LIMIT, MAX_LIMIT, ItemsQuery, bad
from incidents.prepared import execute
from incidents.read.cursors import after_cursor, decode_paging_cursor, encode_cursor
from incidents.read.geojson import INCIDENT_FROM_SQL
from incidents.read.public import (
    INCIDENT_FIELDS,
    INCIDENT_PROPERTIES_SQL,
    PUBLIC_POINT,
    REPORT_FIELDS,
    REPORT_PROPERTIES_SQL,
)
from incidents.read.query import ReportQuery, bbox_sql
from incidents.read.replicas import read_connection
from incidents.read.sql import REPORT_FROM_SQL, localized

# One page: the sort key of each row, then its Feature as text. {geometry} is the public
# geometry column in the requested CRS, {digits} its decimals.
PAGE_SQL = """
SELECT {keys}, json_build_object('type', 'Feature', 'id', {id},
                                 'geometry', ST_AsGeoJSON({geometry}, {digits}, 0)::json,
                                 'properties', {properties})::text
{from_}
WHERE {where}
ORDER BY {order}
LIMIT {limit}
"""

# Hotspots (DBSCAN clusters, SRID 4326 footprints) and areas (boundaries, SRID 4326): neither
# holds anything about a reporter, so their public fields are simply these.
HOTSPOT_PROPERTIES_SQL = f"""json_build_object(
    'id', h.id, 'category', c.code, 'category_name', {localized('c')},
    'report_count', h.report_count, 'open_count', h.open_count,
    'open_share', round(h.open_count::numeric / greatest(h.report_count, 1), 3),
    'previous_count', h.previous_count,
    'trend', round((h.report_count - h.previous_count)::numeric / greatest(h.previous_count, 1), 3),
    'window_start', h.window_start, 'window_end', h.window_end, 'computed_at', h.computed_at)"""
AREA_PROPERTIES_SQL = f"""json_build_object(
    'code', a.code, 'kind', a.kind, 'name', {localized('a')}, 'name_vi', a.name_vi, 'name_en', a.name_en,
    'parent', p.code, 'area_km2', round((a.area_m2 / 1e6)::numeric, 2))"""

# Extents, cheap enough for every collection request (and cached briefly besides): the
# planner's estimate of the point column's extent (ST_EstimatedExtent reads the statistics
# ANALYZE keeps, never the table; until there are statistics, the areas' extent, a few hundred
# rows), and the first and last creation times from the ends of a b-tree index.
REPORT_EXTENT_SQL = """
SELECT coalesce(ST_EstimatedExtent('incidents_report', 'public_location')::geometry,
                (SELECT ST_Extent(boundary)::geometry FROM geo_area)),
       (SELECT min(created_at) FROM incidents_report), (SELECT max(created_at) FROM incidents_report)
"""
INCIDENT_EXTENT_SQL = """
SELECT coalesce(ST_EstimatedExtent('incidents_incident', 'public_location')::geometry,
                (SELECT ST_Extent(boundary)::geometry FROM geo_area)),
       (SELECT min(created_at) FROM incidents_report), (SELECT max(last_reported_at) FROM incidents_incident)
"""
HOTSPOT_EXTENT_SQL = """
SELECT ST_Extent(footprint)::geometry, min(window_start), max(window_end) FROM incidents_hotspot
"""
AREA_EXTENT_SQL = "SELECT ST_Extent(boundary)::geometry, NULL::timestamptz, NULL::timestamptz FROM geo_area"


@dataclass(frozen=True)
class Queryable:
    name: str
    type: str
    description: Promise


@dataclass(frozen=True)
class Collection:
    id: str
    title: Promise
    description: Promise
    from_sql: str
    id_sql: str  # the feature id
    id_kind: str  # "str" or "int"
    geometry_column: str  # SRID 4326
    geometry_type: str  # what the geometry is, for the collection's description
    properties_sql: str
    keys: tuple[tuple[str, str], ...]  # the sort key: (column, "time" | "int"), unique together
    descending: bool
    extent_sql: str
    queryables: tuple[Queryable, ...]
    where: Callable[[ItemsQuery, dict], str]
    time_property: str | None = None  # what `datetime` tests, None: the collection has no time
    cheap_count: bool = False  # a small table: numberMatched is worth a count

    def page_sql(self, where: str, crs_geometry: str, digits: int, limit: int, backwards: bool = False) -> str:
        """The page's SQL, `limit` rows at most; `backwards`: in reverse order (a previous page,
        read from its end). The limit is a literal: a prepared statement's generic plan with
        LIMIT $n would be costed for a tenth of the table, so PostgreSQL would plan every time."""
        descending = self.descending != backwards
        order = ", ".join(f"{column} {'DESC' if descending else 'ASC'}" for column, _kind in self.keys)
        return PAGE_SQL.format(keys=", ".join(c for c, _k in self.keys), id=self.id_sql, geometry=crs_geometry,
                               digits=digits, properties=self.properties_sql, from_=self.from_sql, where=where,
                               order=order, limit=int(limit))


@dataclass
class Page:
    features: list[str]
    next_cursor: str | None
    number_matched: int | None
    prev_cursor: str | None = None  # None on the first page


def _report_query(q: ItemsQuery) -> ReportQuery:
    """The one report query (read/query.py) with the queryables it knows, OGC's bbox and datetime."""
    filters = {name: ",".join(q.filters.get(name, [])) for name in ("category", "status", "department")}
    try:
        report_query = ReportQuery.parse(filters)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise bad(name, messages[0]) from None
    return replace(report_query, bbox=q.bbox, created_after=q.start, created_before=q.end)


def _report_where(q: ItemsQuery, params: dict) -> str:
    """`ward` is the report's ward property, so it is compared with that, exactly."""
    where = _report_query(q).where(params)
    if q.filters.get("ward"):
        params["wards"] = q.filters["ward"]
        where += " AND w.code = ANY(%(wards)s)"
    return where


def _incident_where(q: ItemsQuery, params: dict) -> str:
    report_query = _report_query(q)
    return "i.report_count > 0 AND " + report_query.where(params, alias="i", created="first_reported_at")


def _hotspot_where(q: ItemsQuery, params: dict) -> str:
    parts = ["TRUE"]
    if q.filters.get("category"):
        params["categories"] = q.filters["category"]
        parts.append("c.code = ANY(%(categories)s)")
    if q.start:  # the hotspot's window overlaps the interval asked for
        params["start"] = q.start
        parts.append("h.window_end >= %(start)s")
    if q.end:
        params["end"] = q.end
        parts.append("h.window_start <= %(end)s")
    if q.bbox:
        parts.append(bbox_sql("h.footprint", q.bbox, params))
    return " AND ".join(parts)


def _area_where(q: ItemsQuery, params: dict) -> str:
    parts = ["TRUE"]
    if q.filters.get("kind"):
        params["kinds"] = q.filters["kind"]
        parts.append("a.kind = ANY(%(kinds)s)")
    if q.filters.get("parent"):
        params["parents"] = q.filters["parent"]
        parts.append("p.code = ANY(%(parents)s)")
    if q.bbox:
        parts.append(bbox_sql("a.boundary", q.bbox, params))
    return " AND ".join(parts)


def _queryables(fields, names: tuple[str, ...]) -> tuple[Queryable, ...]:
    by_name = {f.name: f for f in fields}
    return tuple(Queryable(n, by_name[n].type, by_name[n].description) for n in names)


REPORTS = Collection(
    id="reports", title=_("Reports"),
    description=_("Problems citizens reported (potholes, dark streetlights, flooding…): their public fields "
                  "and their public point, snapped to each category's public precision."),
    from_sql=REPORT_FROM_SQL, id_sql="r.public_id", id_kind="str",
    geometry_column=f"r.{PUBLIC_POINT}", geometry_type="Point", properties_sql=REPORT_PROPERTIES_SQL,
    keys=(("r.created_at", "time"), ("r.id", "int")), descending=True, extent_sql=REPORT_EXTENT_SQL,
    queryables=_queryables(REPORT_FIELDS, ("category", "status", "department", "ward")),
    where=_report_where, time_property="created_at",
)
INCIDENTS = Collection(
    id="incidents", title=_("Incidents"),
    description=_("Real-world problems, each reported once or many times: the public point, the counts and "
                  "the status the city works on."),
    from_sql=INCIDENT_FROM_SQL, id_sql="i.id", id_kind="int",
    geometry_column=f"i.{PUBLIC_POINT}", geometry_type="Point", properties_sql=INCIDENT_PROPERTIES_SQL,
    keys=(("i.id", "int"),), descending=True, extent_sql=INCIDENT_EXTENT_SQL,
    queryables=_queryables(INCIDENT_FIELDS, ("category", "status", "department")),
    where=_incident_where, time_property="first_reported_at",
)
HOTSPOTS = Collection(
    id="hotspots", title=_("Hotspots"),
    description=_("Places where one kind of problem keeps being reported: clusters of recent reports, with "
                  "their counts, open share and trend against the previous window."),
    from_sql="FROM incidents_hotspot h JOIN incidents_category c ON c.id = h.category_id",
    id_sql="h.id", id_kind="int", geometry_column="h.footprint", geometry_type="Polygon",
    properties_sql=HOTSPOT_PROPERTIES_SQL, keys=(("h.id", "int"),), descending=False,
    extent_sql=HOTSPOT_EXTENT_SQL,
    queryables=(Queryable("category", "string", _("Code of the kind of problem.")),),
    where=_hotspot_where, time_property="window_start/window_end", cheap_count=True,
)
AREAS = Collection(
    id="areas", title=_("Areas"),
    description=_("Boundaries of the province, its wards and communes, and the other areas routing uses."),
    from_sql="FROM geo_area a LEFT JOIN geo_area p ON p.id = a.parent_id",
    id_sql="a.code", id_kind="str", geometry_column="a.boundary", geometry_type="MultiPolygon",
    properties_sql=AREA_PROPERTIES_SQL, keys=(("a.id", "int"),), descending=False, extent_sql=AREA_EXTENT_SQL,
    queryables=(Queryable("kind", "string", _("Kind of area: province, ward, commune…")),
                Queryable("parent", "string", _("Code of the area it lies in."))),
    where=_area_where, cheap_count=True,
)
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (REPORTS, INCIDENTS, HOTSPOTS, AREAS)}


# The PostgreSQL types of a page's parameters other than its cursor's (prepared pages); the
# property filters are lists of codes.
PAGE_TYPES = {"lang": "text", "categories": "text[]", "statuses": "text[]",
              "departments": "text[]", "wards": "text[]", "kinds": "text[]", "parents": "text[]"}
CURSOR_TYPES = {"time": "timestamptz", "int": "bigint"}
PREPARED_LIMITS = frozenset({10, DEFAULT_LIMIT, 1000, MAX_LIMIT})  # the page sizes clients use most


def prepares(q: ItemsQuery) -> bool:
    """Whether the page runs as a prepared statement. Without a bbox or a time interval its best
    plan is the same whatever the values (the sort index, walked from the cursor): prepared once
    per session, not planned each time, for the usual page sizes (the limit is part of the
    statement; any other is planned)."""
    return q.bbox is None and q.start is None and q.end is None and q.limit in PREPARED_LIMITS


def page_types(collection: Collection) -> dict[str, str]:
    return PAGE_TYPES | {f"cursor{i}": CURSOR_TYPES[kind] for i, (_column, kind) in enumerate(collection.keys)}


def items_page(collection: Collection, q: ItemsQuery, lang: str) -> Page:
    """One page of `collection`'s features matching `q`, in `q.crs`."""
    params: dict = {"lang": lang}
    where = collection.where(q, params)
    count_where = where
    backwards = False
    if q.cursor:
        try:
            key, backwards = decode_paging_cursor(q.cursor, [kind for _column, kind in collection.keys])
        except ValidationError:
            raise bad("cursor", str(_("Invalid cursor; use the 'next' link as given."))) from None
        # A backwards cursor: the rows before its key, in reverse order (inverted comparison).
        where += " AND " + after_cursor([c for c, _k in collection.keys], key, collection.descending != backwards,
                                        params)
    # One more than the page: is there a page beyond?
    sql = collection.page_sql(where, q.crs.geometry_sql(collection.geometry_column), q.crs.digits, q.limit + 1,
                              backwards)
    n_keys = len(collection.keys)
    types = page_types(collection) if prepares(q) else None
    with read_connection().cursor() as cursor:
        execute(cursor, sql, params, types)
        rows = cursor.fetchall()
        matched = None
        if collection.cheap_count:
            cursor.execute(f"SELECT count(*) {collection.from_sql} WHERE {count_where}", params)
            matched = cursor.fetchone()[0]
    more = len(rows) > q.limit  # beyond this page, in the direction read
    rows = rows[:q.limit]
    if backwards:
        rows.reverse()
        # The page a backwards cursor came from follows this one; earlier rows, if any, precede it.
        next_cursor = encode_cursor(rows[-1][:n_keys]) if rows else None
        prev_cursor = encode_cursor(rows[0][:n_keys], backwards=True) if more else None
    else:
        next_cursor = encode_cursor(rows[-1][:n_keys]) if more else None
        # A page reached by a cursor has rows before it (the ones the cursor was made after).
        prev_cursor = encode_cursor(rows[0][:n_keys], backwards=True) if q.cursor and rows else None
    return Page([row[n_keys] for row in rows], next_cursor, matched, prev_cursor)


def feature(collection: Collection, feature_id: str, q: ItemsQuery, lang: str) -> str | None:
    """One feature by its id, as text, or None."""
    if collection.id_kind == "int":
        if not feature_id.isdigit() or len(feature_id) > 18:
            return None
        feature_id = int(feature_id)
    params = {"lang": lang, "id": feature_id}
    extra = " AND i.report_count > 0" if collection is INCIDENTS else ""
    sql = collection.page_sql(f"{collection.id_sql} = %(id)s{extra}",
                              q.crs.geometry_sql(collection.geometry_column), q.crs.digits, 1)
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[len(collection.keys)] if row else None


def extent(collection: Collection) -> tuple[list[float] | None, list[str | None] | None]:
    """([minx, miny, maxx, maxy] lon/lat or None, [first, last] ISO 8601 or None)."""
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 FROM ({collection.extent_sql}) "
                       "AS x(e, t0, t1)")
        minx, miny, maxx, maxy, t0, t1 = cursor.fetchone()
    bbox = [round(v, 6) for v in (minx, miny, maxx, maxy)] if minx is not None else None
    times = [t.isoformat() if t else None for t in (t0, t1)] if collection.time_property else None
    return bbox, times
