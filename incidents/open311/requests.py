"""Open311 service requests from Citypin's reports: GET requests (a list, one, by token) and
FixMyStreet's servicerequestupdates, each document built in SQL from the public projection.

A request is one report as the public sees it (read/public.py): its public id, the public point
(snapped to the category's public precision, SRID 4326), the scrubbed description and address,
the category, the department and times. `status_notes` is the last public message staff wrote
(a status change or a reply); `expected_datetime` the target to resolve; `media_url` the first
photo staff approved. Nothing else of a report is selected, so nothing private can appear.

Each field is one SQL expression (REQUEST_FIELDS, in the spec's order); JSON and XML are both
made from that one list by PostgreSQL (json_build_object, xmlforest, which escapes), so a page
of a thousand requests is rendered without a Python loop over its rows.

The list is filtered by the one report query (read/query.py's ReportQuery, built from the
Open311 parameters in params.py) and ordered newest first on the report_created_keyset index.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidents.models import Report
from incidents.read.public import PUBLIC_PHOTOS_WHERE, PUBLIC_POINT, report_field
from incidents.read.query import ReportQuery
from incidents.read.replicas import read_connection
from incidents.read.sql import REPORT_FROM_SQL, language

OPEN = "'{" + ",".join(Report.OPEN_STATUSES) + "}'::text[]"


def w3c_sql(column: str) -> str:
    """A timestamptz column as W3C text with its offset, whole seconds (session time zone)."""
    return f"to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"


PHOTO_URL_SQL = "%(site)s || '/photos/' || ph.uuid || '/'"

# Messages the public sees on the timeline: replies and status changes with a public message.
NOTE_KINDS = "('created', 'status_changed', 'comment')"
STATUS_NOTES_SQL = """(SELECT e.message FROM incidents_reportevent e
  WHERE e.report_id = r.id AND e.is_public AND e.message <> '' AND e.kind IN ('status_changed', 'comment')
  ORDER BY e.created_at DESC, e.id DESC LIMIT 1)"""

# (element, SQL), in the spec's order; lat and long are numbers, the rest text or null.
REQUEST_FIELDS: tuple[tuple[str, str], ...] = (
    ("service_request_id", report_field("public_id").sql),
    ("status", f"CASE WHEN r.status = ANY({OPEN}) THEN 'open' ELSE 'closed' END"),
    ("status_notes", STATUS_NOTES_SQL),
    ("service_name", report_field("category_name").sql),
    ("service_code", report_field("category").sql),
    ("description", report_field("description").sql),
    ("agency_responsible", report_field("department_name").sql),
    ("service_notice", "NULL::text"),
    ("requested_datetime", w3c_sql(report_field("created_at").sql)),
    ("updated_datetime", w3c_sql(report_field("updated_at").sql)),
    ("expected_datetime", w3c_sql("r.resolve_due_at")),
    ("address", f"nullif({report_field('address').sql}, '')"),
    ("address_id", "NULL::text"),
    ("zipcode", "NULL::text"),
    ("lat", f"round(ST_Y(r.{PUBLIC_POINT})::numeric, 6)"),
    ("long", f"round(ST_X(r.{PUBLIC_POINT})::numeric, 6)"),
    ("media_url", f"(SELECT {PHOTO_URL_SQL} FROM incidents_photo ph WHERE {PUBLIC_PHOTOS_WHERE} ORDER BY ph.id LIMIT 1)",
     ),
)

# extensions=true: the detailed status, the incident, supporters, every approved photo and the
# public timeline (notes).
EXTENDED_JSON_SQL = f"""json_build_object(
    'detailed_status', r.status,
    'incident', r.incident_id,
    'supporter_count', r.supporter_count,
    'photos', (SELECT coalesce(json_agg({PHOTO_URL_SQL} ORDER BY ph.id), '[]')
               FROM incidents_photo ph WHERE {PUBLIC_PHOTOS_WHERE}),
    'notes', (SELECT coalesce(json_agg(json_build_object(
                  'datetime', {w3c_sql('e.created_at')}, 'kind', e.kind, 'status', nullif(e.to_status, ''),
                  'description', e.message) ORDER BY e.created_at, e.id), '[]')
              FROM incidents_reportevent e WHERE e.report_id = r.id AND e.is_public AND e.kind IN {NOTE_KINDS}))"""

EXTENDED_XML_SQL = f"""xmlelement(name extended_attributes,
    xmlforest(r.status AS detailed_status, r.incident_id AS incident, r.supporter_count AS supporter_count),
    xmlelement(name photos, (SELECT xmlagg(xmlelement(name photo, {PHOTO_URL_SQL}) ORDER BY ph.id)
                             FROM incidents_photo ph WHERE {PUBLIC_PHOTOS_WHERE})),
    xmlelement(name notes, (SELECT xmlagg(xmlelement(name note, xmlforest(
                                {w3c_sql('e.created_at')} AS datetime, e.kind AS kind, e.to_status AS status,
                                e.message AS description)) ORDER BY e.created_at, e.id)
                            FROM incidents_reportevent e
                            WHERE e.report_id = r.id AND e.is_public AND e.kind IN {NOTE_KINDS})))"""


def json_object_sql(fields: tuple[tuple[str, str], ...], extra: str = "") -> str:
    pairs = ", ".join(f"'{name}', {sql}" for name, sql in fields)
    return f"json_build_object({pairs}{extra})::text"


def xml_element_sql(root: str, fields: tuple[tuple[str, str], ...], extra: str = "") -> str:
    """xmlforest leaves out null values: coalesce to '' keeps every element, empty."""
    forest = ", ".join(f'coalesce(({sql})::text, \'\') AS "{name}"' for name, sql in fields)
    return f"xmlelement(name {root}, xmlforest({forest}){extra})::text"


def request_document_sql(fmt: str, extended: bool) -> str:
    if fmt == "json":
        return json_object_sql(REQUEST_FIELDS, f", 'extended_attributes', {EXTENDED_JSON_SQL}" if extended else "")
    return xml_element_sql("request", REQUEST_FIELDS, f", {EXTENDED_XML_SQL}" if extended else "")


REQUESTS_SQL = """
SELECT {document}
{source}
WHERE {where}
ORDER BY r.created_at DESC, r.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True)
class Page:
    size: int  # at most MAX_PAGE_SIZE
    number: int = 1  # from 1

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def request_documents(fmt: str, query: ReportQuery, page: Page, extended: bool, lang: str, site: str) -> list[str]:
    """The requests matching `query`, newest first, each rendered in `fmt` by the database."""
    params = {"lang": language(lang), "site": site, "limit": page.size, "offset": page.offset}
    sql = REQUESTS_SQL.format(document=request_document_sql(fmt, extended), source=REPORT_FROM_SQL,
                              where=query.where(params))
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


TOKEN_SQL = """
SELECT r.public_id FROM incidents_clientsubmission s JOIN incidents_report r ON r.id = s.report_id
WHERE s.token = %(token)s
"""


def request_id_for_token(token: str) -> str | None:
    with read_connection().cursor() as cursor:
        cursor.execute(TOKEN_SQL, {"token": token})
        row = cursor.fetchone()
    return row[0] if row else None


# FixMyStreet's servicerequestupdates: each public status change or reply in a time window,
# oldest first, with the report's status after it in FixMyStreet's states. A reply changes no
# status: it carries the status the last change before it set. Served by event_public_created.
FMS_STATES = {"new": "OPEN", "acknowledged": "INVESTIGATING", "in_progress": "IN_PROGRESS", "resolved": "FIXED",
              "closed": "CLOSED", "rejected": "NO_FURTHER_ACTION", "duplicate": "DUPLICATE", "reopened": "OPEN"}
FMS_STATE_SQL = "CASE {status} " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in FMS_STATES.items()) + " END"
STATUS_AFTER_SQL = """coalesce(nullif(e.to_status, ''), (
    SELECT p.to_status FROM incidents_reportevent p
    WHERE p.report_id = e.report_id AND p.to_status <> '' AND (p.created_at, p.id) < (e.created_at, e.id)
    ORDER BY p.created_at DESC, p.id DESC LIMIT 1), r.status)"""

UPDATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("update_id", "e.id::text"),
    ("service_request_id", report_field("public_id").sql),
    ("status", FMS_STATE_SQL.format(status=STATUS_AFTER_SQL)),
    ("updated_datetime", w3c_sql("e.created_at")),
    ("description", "e.message"),
    ("media_url", "NULL::text"),
)

UPDATES_SQL = """
SELECT {document}
FROM incidents_reportevent e JOIN incidents_report r ON r.id = e.report_id
WHERE e.is_public AND e.kind IN ('status_changed', 'comment')
  AND e.created_at >= %(start)s AND e.created_at <= %(end)s
ORDER BY e.created_at, e.id
LIMIT %(limit)s OFFSET %(offset)s
"""


def update_documents(fmt: str, start, end, page: Page) -> list[str]:
    document = json_object_sql(UPDATE_FIELDS) if fmt == "json" else xml_element_sql("request_update", UPDATE_FIELDS)
    params = {"start": start, "end": end, "limit": page.size, "offset": page.offset}
    with read_connection().cursor() as cursor:
        cursor.execute(UPDATES_SQL.format(document=document), params)
        return [row[0] for row in cursor.fetchall()]
