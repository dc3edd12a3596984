"""Public reads of incidents: a page of the list and one incident, GeoJSON built in SQL from
the public projection (geojson.py), filtered like reports (query.py; dates apply to an
incident's first report)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from incidents.read.geojson import INCIDENT_FEATURE_SQL, INCIDENT_FROM_SQL, base_params
from incidents.read.query import Errors, Query, ReportQuery, field_error
from incidents.read.replicas import read_connection
from incidents.read.reports import DEFAULT_PAGE, Page, parse_limit

# Newest first; the cursor is the last id shown.
INCIDENT_PAGE_SQL = f"""
SELECT i.id, {INCIDENT_FEATURE_SQL}
{INCIDENT_FROM_SQL}
WHERE i.report_count > 0 AND {{where}}
ORDER BY i.id DESC
LIMIT %(limit)s
"""


def _incident_cursor(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise field_error("cursor", _("Invalid cursor; use the 'next' link as given.")) from None


def incident_page(query: Query, lang: str) -> Page:
    """Public incidents, newest first, with the report filters."""
    errors = Errors()
    report_query = errors.check(lambda: ReportQuery.parse(query))
    limit = errors.check(lambda: parse_limit(query.get("limit", DEFAULT_PAGE)))
    after = errors.check(lambda: _incident_cursor(query["cursor"])) if query.get("cursor") else None
    errors.raise_any()
    params = base_params(lang)
    where = report_query.where(params, alias="i", created="first_reported_at")
    if after is not None:
        params["cursor_id"] = after
        where += " AND i.id < %(cursor_id)s"
    params["limit"] = limit + 1
    with read_connection().cursor() as cursor:
        cursor.execute(INCIDENT_PAGE_SQL.format(where=where), params)
        rows = cursor.fetchall()
    return Page([row[1] for row in rows[:limit]], str(rows[limit - 1][0]) if len(rows) > limit else None)


def incident_feature(incident_id: int, lang: str) -> str | None:
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT {INCIDENT_FEATURE_SQL} {INCIDENT_FROM_SQL} WHERE i.id = %(id)s",
                       base_params(lang) | {"id": incident_id})
        row = cursor.fetchone()
    return row[0] if row else None
