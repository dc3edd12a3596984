"""The console's read queries: the list (keyset-paginated on the chosen sort) and the map
points, both filtered by the same parsed filters and always limited to the staff member's
scope. Staff see exact locations (`location`, SRID 4326), not the public points.

One SQL shape serves every filter combination: the WHERE clause is built from the filters
below, each an index-friendly predicate (department and status: report_status_department and
report_department_created; bbox: `&&` on the GiST index of location; free text: the GIN index
report_search over citypin_unaccent(...); area: ST_Covers with the area's boundary).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.access import StaffScope
from incidents.models import Report
from incidents.read.geojson import localized
from incidents.read.selectors import CELL_PX, MAX_CELLS, Filters, _parse_when, _zoom, add_bbox, storable_offset

PAGE = 50
MAP_LIMIT = 5000  # points; the map asks for a bbox, and says "zoom in" past this

# A report is overdue while open past its resolve-by time, or still unacknowledged past its
# acknowledge-by time.
OVERDUE_SQL = ("(r.status = ANY(%(open_statuses)s) AND (r.resolve_due_at < %(now)s "
               "OR (r.acknowledged_at IS NULL AND r.acknowledge_due_at < %(now)s)))")

SEARCH_SQL = ("to_tsvector('simple'::regconfig, citypin_unaccent(r.public_id || ' ' || r.description || ' ' || r.address))"
              " @@ websearch_to_tsquery('simple'::regconfig, citypin_unaccent(%(q)s))")

FROM_SQL = """
FROM incidents_report r
JOIN incidents_category c ON c.id = r.category_id
JOIN incidents_department d ON d.id = r.department_id
LEFT JOIN geo_area w ON w.id = r.ward_id
LEFT JOIN auth_user u ON u.id = r.assigned_to_id
"""

LIST_SQL = f"""
SELECT r.id, r.public_id, r.created_at, r.status, r.priority, left(r.description, 160), r.address,
       {localized('c')}, {localized('d')}, CASE WHEN w.id IS NULL THEN '' ELSE {localized('w')} END,
       coalesce(u.username, ''), r.acknowledge_due_at, r.resolve_due_at, r.escalated_at IS NOT NULL,
       r.recurrence_of_id IS NOT NULL, r.supporter_count, {OVERDUE_SQL},
       {{sort_keys}}
{FROM_SQL}
WHERE {{where}}
ORDER BY {{order}}
LIMIT %(limit)s
"""

MAP_SQL = f"""
SELECT json_build_object(
    'type', 'Feature',
    'id', r.public_id,
    'geometry', ST_AsGeoJSON(r.location, 6)::json,
    'properties', json_build_object(
        'status', r.status, 'priority', r.priority, 'overdue', {OVERDUE_SQL},
        'category', {localized('c')}, 'created_at', r.created_at)
)::text
{FROM_SQL}
WHERE r.location IS NOT NULL AND {{where}}
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Sort:
    label: object  # lazily translated
    keys: tuple[tuple[str, str], ...]  # (SQL expression, "int" or "time"); all one direction
    descending: bool


SORTS = {
    "newest": Sort(gettext_lazy("newest first"), (("r.created_at", "time"), ("r.id", "int")), True),
    "oldest": Sort(gettext_lazy("oldest first"), (("r.created_at", "time"), ("r.id", "int")), False),
    # Reports without a target sort last: year 9999 is representable in Python, 'infinity' is not.
    "due": Sort(gettext_lazy("due soonest"), (("coalesce(r.resolve_due_at, '9999-12-31'::timestamptz)", "time"), ("r.id", "int")),
                False),
    "priority": Sort(gettext_lazy("highest priority"), (("r.priority", "int"), ("r.created_at", "time"), ("r.id", "int")), True),
}


@dataclass
class Row:
    id: int
    public_id: str
    created_at: datetime
    status: str
    priority: int
    description: str
    address: str
    category: str
    department: str
    ward: str
    assignee: str
    acknowledge_due_at: datetime | None
    resolve_due_at: datetime | None
    escalated: bool
    recurrence: bool
    supporter_count: int
    overdue: bool

    @property
    def status_label(self) -> str:
        return Report.Status(self.status).label

    @property
    def priority_label(self) -> str:
        return Report.Priority(self.priority).label


@dataclass
class ListPage:
    rows: list[Row]
    next_cursor: str | None
    filters: dict = field(default_factory=dict)


def _values(query: QueryDict, name: str) -> list[str]:
    return [v.strip() for raw in query.getlist(name) for v in raw.split(",") if v.strip()]


def console_filters(query: QueryDict, scope: StaffScope, user_id: int, lang: str) -> Filters:
    """Parse the console's filters. Errors name the query parameter."""
    now = timezone.now()
    f = Filters(["TRUE"], {"lang": "en" if lang.startswith("en") else "vi", "now": now,
                           "open_statuses": list(Report.OPEN_STATUSES)}, {})
    if scope.department_ids is not None:
        f.params["scope"] = scope.department_ids
        f.where.append("r.department_id = ANY(%(scope)s)")
    statuses = _values(query, "status") or ["open"]
    if statuses != ["all"]:
        wanted = set()
        for status in statuses:
            if status == "open":
                wanted |= set(Report.OPEN_STATUSES)
            elif status in Report.Status.values:
                wanted.add(status)
            else:
                f.errors["status"] = [_("Unknown status: %(v)s.") % {"v": status[:40]}]
        f.params["statuses"] = sorted(wanted)
        f.where.append("r.status = ANY(%(statuses)s)")
    if _values(query, "category"):
        f.params["categories"] = _values(query, "category")
        f.where.append("c.code = ANY(%(categories)s)")
    if _values(query, "department"):
        f.params["departments"] = _values(query, "department")
        f.where.append("d.code = ANY(%(departments)s)")
    if query.get("area"):
        f.params["area"] = query["area"][:40]
        f.where.append("EXISTS (SELECT 1 FROM geo_area a WHERE a.code = %(area)s AND ST_Covers(a.boundary, r.location))")
    if _values(query, "priority"):
        try:
            f.params["priorities"] = [int(p) for p in _values(query, "priority")]
            if not set(f.params["priorities"]) <= set(Report.Priority.values):
                raise ValueError
            f.where.append("r.priority = ANY(%(priorities)s)")
        except ValueError:
            f.errors["priority"] = [_("Choose one of: %(all)s.") % {"all": "1, 2, 3, 4"}]
    if query.get("overdue"):
        f.where.append(OVERDUE_SQL)
    if query.get("escalated"):
        f.where.append("r.escalated_at IS NOT NULL AND r.status = 'new'")
    assigned = query.get("assigned", "")
    if assigned == "me":
        f.params["me"] = user_id
        f.where.append("r.assigned_to_id = %(me)s")
    elif assigned == "none":
        f.where.append("r.assigned_to_id IS NULL")
    elif assigned:
        f.errors["assigned"] = [_("Use 'me' or 'none'.")]
    for name, end_of_day, op in (("created_after", False, ">="), ("created_before", True, "<=")):
        if query.get(name):
            f.params[name] = f.check(lambda name=name, end_of_day=end_of_day: _parse_when(name, query[name], end_of_day))
            f.where.append(f"r.created_at {op} %({name})s")
    text = query.get("q", "").strip()
    if text:
        if len(text) > 200:
            f.errors["q"] = [_("At most %(n)s characters.") % {"n": 200}]
        f.params["q"] = text
        f.where.append(SEARCH_SQL)
    add_bbox(f, query, "r.location")
    bad = [name for name, values in query.lists() if any("\x00" in value for value in values)]
    for name in bad:
        f.errors[name] = [_("Contains a NUL character.")]
    return f


def _encode(values: list) -> str:
    text = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(raw: str, sort: Sort) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
        if not isinstance(values, list) or len(values) != len(sort.keys):
            raise ValueError
        return [storable_offset(datetime.fromisoformat(v)) if kind == "time" else int(v)
                for v, (_, kind) in zip(values, sort.keys)]
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise ValueError from None


def report_list(query: QueryDict, scope: StaffScope, user_id: int, lang: str) -> ListPage:
    f = console_filters(query, scope, user_id, lang)
    sort = SORTS.get(query.get("sort") or "newest")
    if sort is None:
        f.errors["sort"] = [_("Sort by one of: %(all)s.") % {"all": ", ".join(SORTS)}]
        sort = SORTS["newest"]
    if query.get("cursor"):
        try:
            values = _decode(query["cursor"], sort)
            op = "<" if sort.descending else ">"
            names = [f"%(cursor{i})s" for i in range(len(values))]
            f.params.update({f"cursor{i}": v for i, v in enumerate(values)})
            f.where.append(f"({', '.join(e for e, _ in sort.keys)}) {op} ({', '.join(names)})")
        except ValueError:
            f.errors["cursor"] = [_("Invalid cursor; use the 'next' link as given.")]
    where = f.sql()
    direction = " DESC" if sort.descending else ""
    sql = LIST_SQL.format(where=where, sort_keys=", ".join(e for e, _ in sort.keys),
                          order=", ".join(e + direction for e, _ in sort.keys))
    f.params["limit"] = PAGE + 1
    with connection.cursor() as cursor:
        cursor.execute(sql, f.params)
        rows = cursor.fetchall()
    width = len(Row.__dataclass_fields__)
    page = [Row(*row[:width]) for row in rows[:PAGE]]
    next_cursor = _encode(list(rows[PAGE - 1][width:])) if len(rows) > PAGE else None
    return ListPage(page, next_cursor)


def map_features(query: QueryDict, scope: StaffScope, user_id: int, lang: str) -> tuple[list[str], bool]:
    """The map's points for the filters (and bbox): at most MAP_LIMIT, newest first, and
    whether there were more."""
    f = console_filters(query, scope, user_id, lang)
    where = f.sql()
    f.params["limit"] = MAP_LIMIT + 1
    with connection.cursor() as cursor:
        cursor.execute(MAP_SQL.format(where=where), f.params)
        rows = [row[0] for row in cursor.fetchall()]
    return rows[:MAP_LIMIT], len(rows) > MAP_LIMIT


EXPORT_SQL = f"""
SELECT r.public_id, r.created_at, r.status, r.priority, {localized('c')}, {localized('d')},
       CASE WHEN w.id IS NULL THEN '' ELSE {localized('w')} END, r.address, r.description,
       coalesce(u.username, ''), r.acknowledge_due_at, r.resolve_due_at, {OVERDUE_SQL},
       round(ST_X(r.location)::numeric, 6), round(ST_Y(r.location)::numeric, 6),
       r.reporter_name, r.reporter_email, r.reporter_phone
{FROM_SQL}
WHERE {{where}}
ORDER BY r.created_at DESC, r.id DESC
"""


def export_rows(where: str, params: dict, batch: int = 2000):
    """Every matching row, fetched in batches through a server-side cursor (constant memory)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(EXPORT_SQL.format(where=where), params)
        while rows := cursor.fetchmany(batch):
            yield from rows


# Reports near one report, for the detail page: within 250 m (ST_DWithin on geography, served
# by the GiST index on location::geography), reported in the 90 days before it or since, any
# category, nearest first, in the staff member's scope.
NEARBY_SQL = f"""
SELECT r.public_id, r.status, {localized('c')} AS category, r.created_at,
       round(ST_Distance(r.location::geography, me.location::geography)) AS distance_m,
       r.incident_id = me.incident_id AS same_incident
FROM incidents_report me
JOIN incidents_report r ON r.id <> me.id
     AND ST_DWithin(r.location::geography, me.location::geography, %(radius_m)s)
     AND r.created_at >= me.created_at - interval '90 days'
JOIN incidents_category c ON c.id = r.category_id
WHERE me.id = %(id)s {{scope}}
ORDER BY distance_m, r.id
LIMIT 12
"""


def nearby_reports(report: Report, scope: StaffScope, lang: str, radius_m: float = 250) -> list[dict]:
    params = {"id": report.pk, "radius_m": radius_m, "lang": lang, "scope": scope.department_ids}
    clause = "" if scope.department_ids is None else "AND r.department_id = ANY(%(scope)s)"
    with connection.cursor() as cursor:
        cursor.execute(NEARBY_SQL.format(scope=clause), params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


# Counts on a grid for a zoomed-out console map, like the public map's (selectors.AGGREGATE_SQL):
# exact locations in web-mercator metres (EPSG:3857) snapped to cells of about CELL_PX screen
# pixels, one feature per non-empty cell at the mean position of its reports, with how many are
# open and overdue. At most MAX_CELLS cells, whatever the zoom.
CELLS_SQL = f"""
SELECT json_build_object(
    'type', 'Feature',
    'geometry', ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(q.m)), avg(ST_Y(q.m))), 3857), 4326), 6)::json,
    'properties', json_build_object('count', count(*), 'open', count(*) FILTER (WHERE q.is_open),
                                    'overdue', count(*) FILTER (WHERE q.overdue))
)::text
FROM (
    SELECT ST_Transform(r.location, 3857) AS m, r.status = ANY(%(open_statuses)s) AS is_open, {OVERDUE_SQL} AS overdue
    {FROM_SQL}
    WHERE r.location IS NOT NULL AND {{where}}
) q
GROUP BY ST_SnapToGrid(q.m, %(cell_m)s)
ORDER BY count(*) DESC
LIMIT %(max_cells)s
"""


def map_cells(query: QueryDict, scope: StaffScope, user_id: int, lang: str) -> list[str]:
    """Grid counts of the reports matching the filters, for the map's `zoom` and `bbox`."""
    f = console_filters(query, scope, user_id, lang)
    zoom = f.check(lambda: _zoom(query.get("zoom", "10")))
    if not query.get("bbox"):
        f.errors["bbox"] = [_("Use four numbers: min_lon,min_lat,max_lon,max_lat.")]
    where = f.sql()
    f.params.update(cell_m=156543.03392 / 2**zoom * CELL_PX, max_cells=MAX_CELLS)
    with connection.cursor() as cursor:
        cursor.execute(CELLS_SQL.format(where=where), f.params)
        return [row[0] for row in cursor.fetchall()]
