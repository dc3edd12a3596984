"""What the feeds read: the latest public reports of a ward, a category or a drawn area, and one
report's public timeline, each in ONE SQL query that also says whether the target exists.

Everything selected comes from the public projection (read/public.py): the public id, status,
category and ward names in the language asked, the scrubbed description and address, the times,
and the PUBLIC point (snapped to the category's public precision, or the ward's point for a
ward-only category), as lon/lat in SRID 4326. Reporter contact data, internal notes, priority,
assignment and photos are never selected. Of the events, only the public timeline
(read/public.PUBLIC_EVENTS_WHERE: received, status changes, replies written public).

Query shape: a CTE finds the ward/category/report (no row: 404), and a LEFT JOIN LATERAL takes
its newest entries, LIMIT %(limit)s, so an existing target with nothing yet still gives one row
(its entry columns NULL). Indexes: a ward's reports by report_ward_created (ward, created_at
DESC, id DESC: without it a quiet ward walked the whole created_at index), a category's by
report_hotspot_cover (category_id, created_at) read backwards, a report's events by their
report_id index; the ward and the category by their unique codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from gis.models import Area
from incidents.read.public import PUBLIC_EVENT_KINDS, PUBLIC_EVENTS_WHERE, PUBLIC_POINT, report_field
from incidents.read.sql import REPORT_FROM_SQL, language, localized

MAX_ENTRIES = 50


@dataclass(frozen=True)
class ReportRow:
    """A report as a feed shows it: public fields only; lon/lat of the public point (SRID 4326)."""

    public_id: str
    status: str
    category: str
    category_name: str
    ward_name: str | None
    description: str
    address: str
    created_at: datetime
    updated_at: datetime
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class EventRow:
    """One public event of a report's timeline."""

    id: int
    kind: str
    to_status: str
    message: str
    created_at: datetime


REPORT_ENTRY_COLUMNS = ", ".join([
    *(report_field(name).select() for name in ("public_id", "status", "category", "category_name", "ward_name",
                                              "description", "address", "created_at", "updated_at")),
    f"ST_X(r.{PUBLIC_POINT}) AS lon", f"ST_Y(r.{PUBLIC_POINT}) AS lat",
])
N_REPORT_COLUMNS = 11


# The newest public reports of the target (the row `t` of {target}) by {where}, target first.
LATEST_REPORTS_SQL = f"""
WITH target AS ({{target}})
SELECT t.name, e.*
FROM target t
LEFT JOIN LATERAL (
    SELECT {REPORT_ENTRY_COLUMNS}
    {REPORT_FROM_SQL}
    WHERE {{where}}
    ORDER BY r.created_at DESC, r.id DESC
    LIMIT %(limit)s
) e ON TRUE
"""

WARD_SQL = LATEST_REPORTS_SQL.format(
    target=f"SELECT a.id, {localized('a')} AS name FROM geo_area a WHERE a.kind = %(ward_kind)s AND a.code = %(code)s",
    where="r.ward_id = t.id")

CATEGORY_SQL = LATEST_REPORTS_SQL.format(
    target=f"SELECT k.id, {localized('k')} AS name FROM incidents_category k WHERE k.code = %(code)s",
    where="r.category_id = t.id")

# A drawn area (incidents_drawnarea, by its public slug): the reports whose PUBLIC point is in
# its polygon, as area alerts match them (ST_Intersects: on the outline counts), both SRID 4326;
# the GiST index of the point or the created_at keyset, as the planner finds cheaper.
AREA_SQL = LATEST_REPORTS_SQL.format(
    target="SELECT da.id, da.slug AS name, da.geom FROM incidents_drawnarea da WHERE da.slug = %(code)s",
    where=f"ST_Intersects(t.geom, r.{PUBLIC_POINT})")

# One report (public fields, public point) and its newest public events.
TIMELINE_SQL = f"""
WITH target AS (
    SELECT r.id, {REPORT_ENTRY_COLUMNS}
    {REPORT_FROM_SQL}
    WHERE r.public_id = %(public_id)s
)
SELECT t.*, e.*
FROM target t
LEFT JOIN LATERAL (
    SELECT e.id, e.kind, e.to_status, e.message, e.created_at
    FROM incidents_reportevent e
    WHERE e.report_id = t.id AND {PUBLIC_EVENTS_WHERE}
    ORDER BY e.created_at DESC, e.id DESC
    LIMIT %(limit)s
) e ON TRUE
"""


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _latest(sql: str, code: str, lang: str, **extra) -> tuple[str, list[ReportRow]] | None:
    rows = _fetch(sql, {"code": code, "lang": language(lang), "limit": MAX_ENTRIES, **extra})
    if not rows:
        return None
    return rows[0][0], [ReportRow(*row[1:]) for row in rows if row[1] is not None]


def ward_reports(code: str, lang: str) -> tuple[str, list[ReportRow]] | None:
    """The ward's name and its newest public reports; None if no ward has that code."""
    return _latest(WARD_SQL, code, lang, ward_kind=Area.Kind.WARD)


def category_reports(code: str, lang: str) -> tuple[str, list[ReportRow]] | None:
    """The category's name and its newest public reports; None if no category has that code."""
    return _latest(CATEGORY_SQL, code, lang)


def area_reports(slug: str, lang: str) -> tuple[str, list[ReportRow]] | None:
    """The drawn area's slug and the newest public reports in it; None if no area has that slug."""
    return _latest(AREA_SQL, slug, lang)


def report_timeline(public_id: str, lang: str) -> tuple[ReportRow, list[EventRow]] | None:
    """The report (public fields) and its newest public events; None if there is no such report."""
    rows = _fetch(TIMELINE_SQL, {"public_id": public_id, "lang": language(lang), "limit": MAX_ENTRIES,
                                 "public_event_kinds": list(PUBLIC_EVENT_KINDS)})
    if not rows:
        return None
    first = 1 + N_REPORT_COLUMNS
    report = ReportRow(*rows[0][1:first])
    return report, [EventRow(*row[first:]) for row in rows if row[first] is not None]
