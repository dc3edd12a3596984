"""The one report query: every filter the public API and the staff console take, parsed and
checked once, then compiled to a SQL WHERE clause with named parameters.

`ReportQuery.parse(query)` reads the public filters: bbox, category, status, department, area,
created_after and created_before. `ReportQuery.parse(query, scope)` reads them for staff and
also the staff-only ones: q (free text), priority, overdue, escalated and assigned (me, none);
it limits the reports to the scope's departments. Without a scope the staff-only parameters are
never read, so the public API ignores them, as it always has. Staff statuses also know "open"
(every open status, the default) and "all".

Spatial filters test the public point (geojson.PUBLIC_POINT) for the public, the exact
`location` for staff, both SRID 4326: a public filter cannot narrow down an exact point.

Each predicate is index-friendly: department and status use report_status_department and
report_department_created; bbox is `&&` on the GiST index of the point; free text the GIN index
report_search over citypin_unaccent(...); area is ST_Covers with the area's boundary.

Errors name the query parameter; parse collects them all and raises one ValidationError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TypeVar

import shapely
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from incidents.access import StaffScope
from incidents.models import Report
from incidents.read.geojson import PUBLIC_POINT

T = TypeVar("T")
Query = Mapping[str, str]  # a QueryDict (repeated parameters add up) or a plain dict

OPEN_STATUSES = list(Report.OPEN_STATUSES)

# A report is overdue while open past its resolve-by time, or still unacknowledged past its
# acknowledge-by time. A filter whose statuses are all open tests the times only: the status
# again made the planner count it twice and expect one row (bench/scale.py at 10,000,000: a
# department's every report of a status walked, 14,311 buffers, instead of its open reports in
# the box from report_open_location).
DUE_PASSED_SQL = "(r.resolve_due_at < %(now)s OR (r.acknowledged_at IS NULL AND r.acknowledge_due_at < %(now)s))"
OVERDUE_SQL = f"(r.status = ANY(%(open_statuses)s) AND {DUE_PASSED_SQL})"

SEARCH_SQL = ("to_tsvector('simple'::regconfig, citypin_unaccent(r.public_id || ' ' || r.description || ' ' || r.address))"
              " @@ websearch_to_tsquery('simple'::regconfig, citypin_unaccent(%(q)s))")

# Inside an area (any kind) with that code; ST_Covers uses the point's GiST index.
AREA_SQL = "EXISTS (SELECT 1 FROM geo_area a WHERE a.code = %(area)s AND ST_Covers(a.boundary, {point}))"

# A bbox (SRID 4326) as a `&&` test, served by the column's GiST index.
BBOX_SQL = "{column} && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"

WORLD = shapely.box(-180, -90, 180, 90)  # lon/lat, SRID 4326

MAX_TEXT = 200  # characters of free text


class Errors(dict):
    """Errors by query parameter, gathered from several parsers so that one answer names them all."""

    def check(self, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except ValidationError as exc:
            self.update(exc.message_dict)
            return None

    def raise_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def field_error(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


def values(query: Query, name: str) -> list[str]:
    """The comma-separated values of a parameter, all its repetitions included."""
    raws = query.getlist(name) if isinstance(query, QueryDict) else [query.get(name) or ""]
    return [v.strip() for raw in raws for v in raw.split(",") if v.strip()]


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """min_lon,min_lat,max_lon,max_lat (SRID 4326): a box inside the world, min not above max (a
    box of no width or height, a line or a point, is allowed as before). Corners are not swapped
    for the client (shapely's box would)."""
    try:
        minx, miny, maxx, maxy = (float(v) for v in raw.split(","))
    except ValueError:
        raise field_error("bbox", _("Use four numbers: min_lon,min_lat,max_lon,max_lat.")) from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise field_error("bbox", _("Use four numbers: min_lon,min_lat,max_lon,max_lat."))
    if not (minx <= maxx and miny <= maxy and WORLD.covers(shapely.box(minx, miny, maxx, maxy))):
        raise field_error("bbox", _("Out of range or min above max: longitudes -180..180, latitudes -90..90."))
    return minx, miny, maxx, maxy


def bbox_sql(column: str, bbox: tuple[float, float, float, float], params: dict) -> str:
    params.update(zip(("minx", "miny", "maxx", "maxy"), bbox))
    return BBOX_SQL.format(column=column)


# PostgreSQL takes a UTC offset of whole seconds below 16 hours either way (+15:59:59 at most);
# Python parses offsets up to ±23:59:59.999999, which the database would refuse mid-query.
MAX_UTC_OFFSET = timedelta(hours=16)  # exclusive


def storable_offset(value: datetime) -> datetime:
    """`value` if PostgreSQL can take its UTC offset (naive: no offset, fine); else ValueError."""
    offset = value.utcoffset()
    if offset is not None and (abs(offset) >= MAX_UTC_OFFSET or offset.microseconds):
        raise ValueError("UTC offset out of PostgreSQL's range")
    return value


def parse_when(name: str, raw: str, end_of_day: bool) -> datetime:
    """A date (its first or, with `end_of_day`, last instant, local time) or an ISO 8601 time."""
    try:
        # A date first: parse_datetime would read 2026-05-01 as its midnight (fromisoformat).
        day = parse_date(raw)
        value = parse_datetime(raw) if day is None else None
    except ValueError:  # well-formed but impossible, like 2026-02-30
        raise field_error(name, _("Use a date (2026-05-01) or a date and time (ISO 8601).")) from None
    if value is None:
        if day is None:
            raise field_error(name, _("Use a date (2026-05-01) or a date and time (ISO 8601)."))
        value = datetime.combine(day, time.max if end_of_day else time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return storable_offset(value)
    except ValueError:
        raise field_error(name, _("Time-zone offsets run from -15:59 to +15:59.")) from None


def _public_statuses(codes: list[str]) -> tuple[str, ...] | None:
    if not codes:  # the usual case, answered without walking the Status enum (it costs on every read)
        return None
    bad = sorted(set(codes) - set(Report.Status.values))
    if bad:
        raise field_error("status", _("Unknown status: %(v)s. Use: %(all)s.") % {
            "v": ", ".join(bad), "all": ", ".join(Report.Status.values)})
    return tuple(codes) or None


def _staff_statuses(codes: list[str]) -> tuple[str, ...] | None:
    codes = codes or ["open"]
    if codes == ["all"]:
        return None
    wanted = set()
    for code in codes:
        if code == "open":
            wanted |= set(Report.OPEN_STATUSES)
        elif code in Report.Status.values:
            wanted.add(code)
        else:
            raise field_error("status", _("Unknown status: %(v)s.") % {"v": code[:40]})
    return tuple(sorted(wanted))


def _priorities(codes: list[str]) -> tuple[int, ...]:
    try:
        priorities = tuple(int(p) for p in codes)
        if not set(priorities) <= set(Report.Priority.values):
            raise ValueError
    except ValueError:
        raise field_error("priority", _("Choose one of: %(all)s.") % {
            "all": ", ".join(str(p) for p in Report.Priority.values)}) from None
    return priorities


def _assigned(raw: str) -> str:
    if raw not in ("", "me", "none"):
        raise field_error("assigned", _("Use 'me' or 'none'."))
    return raw


def _text(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_TEXT:
        raise field_error("q", _("At most %(n)s characters.") % {"n": MAX_TEXT})
    return text


def _with_nul(query: Query) -> list[str]:
    pairs = query.lists() if isinstance(query, QueryDict) else ((k, [v]) for k, v in query.items())
    return [name for name, vs in pairs if any("\x00" in v for v in vs)]


@dataclass(frozen=True)
class ReportQuery:
    """Parsed report filters. An empty tuple or string means "no filter"; `statuses` None
    means any status. The staff-only fields stay empty without a scope."""

    scope: StaffScope | None = None  # None: the public
    bbox: tuple[float, float, float, float] | None = None  # lon/lat, SRID 4326
    categories: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    statuses: tuple[str, ...] | None = None
    area: str = ""  # an area code, any kind (a ward, a district…)
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None  # not parsed from a query string: set by faces that take it (Open311)
    updated_before: datetime | None = None
    public_ids: tuple[str, ...] = ()  # these reports only (Open311 service_request_id)
    text: str = ""
    priorities: tuple[int, ...] = ()
    overdue: bool = False
    escalated: bool = False
    assigned: str = ""  # "me", "none" (unassigned) or "" (anyone)
    now: datetime = field(default_factory=timezone.now)  # when "overdue" is judged

    @property
    def point(self) -> str:
        """The report column spatial filters test: the exact location for staff only."""
        return PUBLIC_POINT if self.scope is None else "location"

    @classmethod
    def parse(cls, query: Query, scope: StaffScope | None = None) -> ReportQuery:
        """The filters of `query`, for the public or (with a scope) for staff. Raises one
        ValidationError naming every bad parameter."""
        errors, found = Errors(), {}
        if query.get("bbox"):
            found["bbox"] = errors.check(lambda: parse_bbox(query["bbox"]))
        found["categories"] = tuple(values(query, "category"))
        found["departments"] = tuple(values(query, "department"))
        statuses = _public_statuses if scope is None else _staff_statuses
        found["statuses"] = errors.check(lambda: statuses(values(query, "status")))
        found["area"] = query.get("area") or ""
        for name, end_of_day in (("created_after", False), ("created_before", True)):
            if query.get(name):
                found[name] = errors.check(lambda: parse_when(name, query[name], end_of_day))
        if scope is not None:
            found["text"] = errors.check(lambda: _text(query.get("q") or ""))
            found["priorities"] = errors.check(lambda: _priorities(values(query, "priority")))
            found["overdue"] = bool(query.get("overdue"))
            found["escalated"] = bool(query.get("escalated"))
            found["assigned"] = errors.check(lambda: _assigned(query.get("assigned") or ""))
        for name in _with_nul(query):
            errors[name] = [_("Contains a NUL character.")]
        errors.raise_any()
        return cls(scope=scope, **found)

    def where(self, params: dict, alias: str = "r", created: str = "created_at") -> str:
        """The WHERE clause on reports (or incidents) aliased `alias`, joined with c (category)
        and d (department); its values go into `params`. `created` is the time column the date
        filters test (incidents: first_reported_at). Staff queries are on reports, alias r."""
        t, parts = alias, []
        if self.scope is not None and self.scope.department_ids is not None:
            params["scope"] = self.scope.department_ids
            parts.append(f"{t}.department_id = ANY(%(scope)s)")
        if self.statuses is not None:
            params["statuses"] = list(self.statuses)
            parts.append(f"{t}.status = ANY(%(statuses)s)")
        if self.categories:
            params["categories"] = list(self.categories)
            parts.append("c.code = ANY(%(categories)s)")
        if self.departments:
            params["departments"] = list(self.departments)
            parts.append("d.code = ANY(%(departments)s)")
        if self.area:
            params["area"] = self.area
            parts.append(AREA_SQL.format(point=f"{t}.{self.point}"))
        if self.priorities:
            params["priorities"] = list(self.priorities)
            parts.append("r.priority = ANY(%(priorities)s)")
        if self.overdue:
            params.update(now=self.now, open_statuses=OPEN_STATUSES)
            only_open = self.statuses is not None and set(self.statuses) <= set(OPEN_STATUSES)
            parts.append(DUE_PASSED_SQL if only_open else OVERDUE_SQL)
        if self.escalated:
            parts.append("r.escalated_at IS NOT NULL AND r.status = 'new'")
        if self.assigned == "me":
            params["me"] = self.scope.user_id
            parts.append("r.assigned_to_id = %(me)s")
        elif self.assigned == "none":
            parts.append("r.assigned_to_id IS NULL")
        for name, column, op in (("created_after", created, ">="), ("created_before", created, "<="),
                                 ("updated_after", "updated_at", ">="), ("updated_before", "updated_at", "<=")):
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
                parts.append(f"{t}.{column} {op} %({name})s")
        if self.public_ids:
            params["public_ids"] = list(self.public_ids)
            parts.append(f"{t}.public_id = ANY(%(public_ids)s)")
        if self.text:
            params["q"] = self.text
            parts.append(SEARCH_SQL)
        if self.bbox:
            parts.append(bbox_sql(f"{t}.{self.point}", self.bbox, params))
        return " AND ".join(parts) or "TRUE"
