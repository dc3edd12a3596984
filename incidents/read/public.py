"""The public projection of a report as flat fields: what open data (OGC API Features, vector
tiles, CSV and GeoJSON exports, the daily snapshot, Open311) publishes of a report, one value
per field, and the data dictionary that documents it.

Each field is a SQL expression over a report r joined with its category c, department d and
ward w (sql.REPORT_FROM_SQL). Nothing else of a report is public: reporter contact data
(name, e-mail, phone, IP), internal fields (priority, assignment, routing rule, notes) and
photos awaiting approval are simply not selected here. Text is the scrubbed copy made at intake
(text.scrub_contact_details); the point is PUBLIC_POINT, the location snapped to the category's
public precision (metres), or the ward's point for a ward-only category, SRID 4326.

geojson.py keeps the API's nested Feature shape; both read the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.read.sql import localized

PUBLIC_POINT = "public_location"  # a column of reports and incidents; SRID 4326


@dataclass(frozen=True)
class PublicField:
    """One public field: its name, its SQL over r/c/d/w, its type (a JSON Schema type, or
    "date-time") and what it means, for the data dictionary and the queryables."""

    name: str
    sql: str
    type: str
    description: Promise

    def select(self) -> str:
        return f"{self.sql} AS {self.name}"


REPORT_FIELDS: tuple[PublicField, ...] = (
    PublicField("public_id", "r.public_id", "string", _("The report's public number, as on its tracking page.")),
    PublicField("status", "r.status", "string",
                _("new, acknowledged, in_progress, resolved, closed, rejected, duplicate or reopened.")),
    PublicField("category", "c.code", "string", _("Code of the kind of problem.")),
    PublicField("category_name", localized("c"), "string", _("Name of the kind of problem, in the language asked for.")),
    PublicField("department", "d.code", "string", _("Code of the department responsible.")),
    PublicField("department_name", localized("d"), "string", _("Name of the department responsible.")),
    PublicField("ward", "w.code", "string", _("Code of the ward (phường/xã) the report is in, if known.")),
    PublicField("ward_name", localized("w"), "string", _("Name of that ward.")),
    PublicField("description", "r.public_description", "string",
                _("What the citizen wrote, with phone numbers, e-mail addresses, ID numbers and licence plates "
                  "removed.")),
    PublicField("address", "r.address", "string", _("The address given, if any, scrubbed the same way.")),
    PublicField("incident", "r.incident_id", "integer",
                _("Id of the incident (one real-world problem) the report belongs to.")),
    PublicField("supporter_count", "r.supporter_count", "integer", _("How many people said they have the same problem.")),
    PublicField("source", "r.source", "string", _("How it was reported: web, api, open311, staff or phone.")),
    PublicField("location_precision_m",
                "CASE WHEN c.public_location_ward_only AND r.ward_id IS NOT NULL THEN NULL "
                "ELSE c.public_location_precision_m END", "integer",
                _("Metres the published point was snapped to (0: exact; empty: only the ward is published, "
                  "the point is the ward's).")),
    PublicField("created_at", "r.created_at", "date-time", _("When it was reported (ISO 8601, with time zone).")),
    PublicField("updated_at", "r.updated_at", "date-time", _("When it last changed.")),
    PublicField("resolved_at", "r.resolved_at", "date-time", _("When it was resolved, if it was.")),
)

def report_field(name: str) -> PublicField:
    """The public field `name` (KeyError for a name that is not public)."""
    return {f.name: f for f in REPORT_FIELDS}[name]


# The columns to SELECT for the flat fields, in the data dictionary's order; needs %(lang)s.
REPORT_COLUMNS_SQL = ",\n       ".join(f.select() for f in REPORT_FIELDS)

# The same fields as a JSON object (a GeoJSON Feature's properties); needs %(lang)s.
REPORT_PROPERTIES_SQL = "json_build_object(" + ", ".join(f"'{f.name}', {f.sql}" for f in REPORT_FIELDS) + ")"

# Public photos of a report: only those staff approved.
PUBLIC_PHOTOS_WHERE = "ph.report_id = r.id AND ph.is_public"

# A report's public timeline: the events (incidents_reportevent e) that tell the public something
# (received, a status change, a reply) and that were written public; an internal note never is.
PUBLIC_EVENT_KINDS = ("created", "status_changed", "comment")
PUBLIC_EVENTS_WHERE = "e.is_public AND e.kind = ANY(%(public_event_kinds)s)"  # needs public_event_kinds


# The public fields of an incident i (one real-world problem) joined with its category c and
# department d (geojson.INCIDENT_FROM_SQL), flat, for open data; its point is i.PUBLIC_POINT.
INCIDENT_FIELDS: tuple[PublicField, ...] = (
    PublicField("id", "i.id", "integer", _("The incident's number.")),
    PublicField("status", "i.status", "string", _("Status of the incident; its reports follow it.")),
    PublicField("category", "c.code", "string", _("Code of the kind of problem.")),
    PublicField("category_name", localized("c"), "string", _("Name of the kind of problem, in the language asked for.")),
    PublicField("department", "d.code", "string", _("Code of the department responsible.")),
    PublicField("department_name", localized("d"), "string", _("Name of the department responsible.")),
    PublicField("report_count", "i.report_count", "integer", _("How many reports describe it.")),
    PublicField("supporter_count", "i.supporter_count", "integer", _("How many people said they have the same problem.")),
    PublicField("first_reported_at", "i.first_reported_at", "date-time", _("When it was first reported.")),
    PublicField("last_reported_at", "i.last_reported_at", "date-time", _("When it was last reported.")),
    PublicField("resolved_at", "i.resolved_at", "date-time", _("When it was resolved, if it was.")),
    PublicField("merged_into", "i.merged_into_id", "integer", _("The incident it was merged into, if any.")),
)
INCIDENT_PROPERTIES_SQL = "json_build_object(" + ", ".join(f"'{f.name}', {f.sql}" for f in INCIDENT_FIELDS) + ")"
