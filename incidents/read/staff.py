"""The console's read queries: the list (keyset-paginated on the chosen sort), the map points
and the CSV export, all filtered by the one report query (query.py) with a staff scope, so
always limited to the staff member's departments. Staff see exact locations (`location`,
SRID 4326), not the public points. The zoomed-out map's grid counts are read/cells.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.access import StaffScope
from incidents.models import Report
from incidents.read.cursors import after_cursor, decode_cursor, encode_cursor
from incidents.read.query import OPEN_STATUSES, OVERDUE_SQL, Errors, Query, ReportQuery, field_error
from incidents.read.sql import REPORT_FROM_SQL, language, localized

PAGE = 50
MAP_LIMIT = 5000  # points; the map asks for a bbox, and says "zoom in" past this

FROM_SQL = REPORT_FROM_SQL + "LEFT JOIN auth_user u ON u.id = r.assigned_to_id\n"

# Open work in a map view (the list and map with open statuses, the console's default) is read
# from report_open_location, GiST on (location, department_id) over open reports (migration
# 0027), without the closed history around it (bench/scale.py: 931 buffers at 10,000,000
# reports against 24 at 1,000,000). The planner takes a partial index when the query implies
# its predicate: `r.status = ANY(%(statuses)s)` reaches PostgreSQL as a constant array
# (psycopg2 binds on the client), which it proves within the open statuses. Repeating the
# predicate literally was measured worse: the planner counted the status twice, expected one
# row and walked a department's every report of that status (7,507 buffers over bench/scale's
# 40 console queries at 1,000,000 against 2,912).

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


def staff_params(report_query: ReportQuery, lang: str) -> dict:
    """What every staff query takes besides its filters: the language and when "overdue" is."""
    return {"lang": language(lang), "now": report_query.now, "open_statuses": OPEN_STATUSES}


def _sort(raw: str | None) -> Sort:
    sort = SORTS.get(raw or "newest")
    if sort is None:
        raise field_error("sort", _("Sort by one of: %(all)s.") % {"all": ", ".join(SORTS)})
    return sort


def report_list(query: Query, scope: StaffScope, lang: str) -> ListPage:
    errors = Errors()
    report_query = errors.check(lambda: ReportQuery.parse(query, scope))
    sort = errors.check(lambda: _sort(query.get("sort"))) or SORTS["newest"]
    kinds = [kind for _, kind in sort.keys]
    after = errors.check(lambda: decode_cursor(query["cursor"], kinds)) if query.get("cursor") else None
    errors.raise_any()
    params = staff_params(report_query, lang)
    where = report_query.where(params)
    columns = [e for e, _ in sort.keys]
    if after:
        where += " AND " + after_cursor(columns, after, sort.descending, params)
    direction = " DESC" if sort.descending else ""
    sql = LIST_SQL.format(where=where, sort_keys=", ".join(columns), order=", ".join(e + direction for e in columns))
    params["limit"] = PAGE + 1
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = len(Row.__dataclass_fields__)
    page = [Row(*row[:width]) for row in rows[:PAGE]]
    next_cursor = encode_cursor(rows[PAGE - 1][width:]) if len(rows) > PAGE else None
    return ListPage(page, next_cursor)


def map_features(query: Query, scope: StaffScope, lang: str) -> tuple[list[str], bool]:
    """The map's points for the filters (and bbox): at most MAP_LIMIT, newest first, and
    whether there were more."""
    report_query = ReportQuery.parse(query, scope)
    params = staff_params(report_query, lang)
    where = report_query.where(params)
    params["limit"] = MAP_LIMIT + 1
    with connection.cursor() as cursor:
        cursor.execute(MAP_SQL.format(where=where), params)
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


def export_rows(query: Query, scope: StaffScope, lang: str, batch: int = 2000) -> Iterator[tuple]:
    """Every matching row, fetched in batches through a server-side cursor (constant memory).
    Bad filters raise ValidationError here, before the first row."""
    report_query = ReportQuery.parse(query, scope)
    params = staff_params(report_query, lang)
    return _batches(EXPORT_SQL.format(where=report_query.where(params)), params, batch)


def _batches(sql: str, params: dict, batch: int) -> Iterator[tuple]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
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
    params = {"id": report.pk, "radius_m": radius_m, "lang": language(lang), "scope": scope.department_ids}
    clause = "" if scope.department_ids is None else "AND r.department_id = ANY(%(scope)s)"
    with connection.cursor() as cursor:
        cursor.execute(NEARBY_SQL.format(scope=clause), params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
