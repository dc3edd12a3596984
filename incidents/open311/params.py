"""The parameters of Open311 GET requests and servicerequestupdates, checked all at once: every
problem becomes one error of the answer (400), an unknown service_code a 404.

- service_request_id: a comma list (at most MAX_PAGE_SIZE); it overrides every other filter.
- service_code: a comma list; status: open, closed or both.
- start_date / end_date on when a request was made, W3C datetimes (a date alone means its
  first or last instant, local time). Default: the last DEFAULT_SPAN; a span may not exceed it.
  Given one end only, the other is DEFAULT_SPAN away.
- Extensions: page / page_size (at most MAX_PAGE_SIZE, the default), updated_after /
  updated_before, extensions=true.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Category, Report
from incidents.open311.protocol import Open311Error
from incidents.open311.requests import Page
from incidents.read.query import ReportQuery, parse_when, values

DEFAULT_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10_000
CLOSED_STATUSES = tuple(s for s in Report.Status.values if s not in Report.OPEN_STATUSES)


@dataclass(frozen=True)
class RequestsQuery:
    query: ReportQuery
    page: Page
    extended: bool


def _when(raw: QueryDict, name: str, end_of_day: bool, problems: list[str]) -> datetime | None:
    if not raw.get(name):
        return None
    try:
        return parse_when(name, raw[name], end_of_day)
    except ValidationError:
        problems.append(_("%(name)s: use a W3C datetime such as 2026-05-01T08:30:00+07:00.") % {"name": name})
        return None


def _whole(raw: QueryDict, name: str, default: int, high: int, problems: list[str]) -> int:
    value = raw.get(name) or ""
    if not value:
        return default
    try:
        number = int(value)
        if 1 <= number <= high:
            return number
    except ValueError:
        pass
    problems.append(_("%(name)s: a whole number from 1 to %(max)s.") % {"name": name, "max": high})
    return default


def window(raw: QueryDict, problems: list[str]) -> tuple[datetime, datetime]:
    """start_date and end_date with their defaults, at most DEFAULT_SPAN apart."""
    start = _when(raw, "start_date", False, problems)
    end = _when(raw, "end_date", True, problems)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = (end or timezone.now()) - DEFAULT_SPAN
    if end is None:
        end = start + DEFAULT_SPAN
    if end < start:
        problems.append(_("end_date is before start_date."))
    elif end - start > DEFAULT_SPAN:
        problems.append(_("start_date to end_date spans more than %(days)s days.") % {"days": DEFAULT_SPAN.days})
    return start, end


def page_of(raw: QueryDict, problems: list[str]) -> Page:
    return Page(size=_whole(raw, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE, problems),
                number=_whole(raw, "page", 1, MAX_PAGE, problems))


def parse_requests_query(raw: QueryDict) -> RequestsQuery:
    problems: list[str] = []
    page = page_of(raw, problems)
    extended = (raw.get("extensions") or "false").lower()
    if extended not in ("true", "false", "1", "0"):
        problems.append(_("extensions: true or false."))
    ids = values(raw, "service_request_id")
    if len(ids) > MAX_PAGE_SIZE:
        problems.append(_("service_request_id: at most %(n)s ids.") % {"n": MAX_PAGE_SIZE})
    updated_after = _when(raw, "updated_after", False, problems)
    updated_before = _when(raw, "updated_before", True, problems)
    if ids:
        query = ReportQuery(public_ids=tuple(i[:40] for i in ids))
    else:
        start, end = window(raw, problems)
        query = ReportQuery(categories=_service_codes(raw), statuses=_statuses(raw, problems),
                            created_after=start, created_before=end)
    if problems:
        raise Open311Error(400, problems)
    query = replace(query, updated_after=updated_after, updated_before=updated_before)
    return RequestsQuery(query=query, page=page, extended=extended in ("true", "1"))


def _statuses(raw: QueryDict, problems: list[str]) -> tuple[str, ...] | None:
    wanted = {v.lower() for v in values(raw, "status")}
    if wanted - {"open", "closed"}:
        problems.append(_("status: open, closed, or both (open,closed)."))
        return None
    if wanted == {"open"}:
        return tuple(Report.OPEN_STATUSES)
    if wanted == {"closed"}:
        return CLOSED_STATUSES
    return None


def _service_codes(raw: QueryDict) -> tuple[str, ...]:
    """The codes asked for; a code no category has is a 404, as the spec says."""
    codes = values(raw, "service_code")
    unknown = set(codes) - set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown:
        raise Open311Error(404, [_("service_code not found: %(codes)s.") % {
            "codes": ", ".join(sorted(c[:40] for c in unknown))}])
    return tuple(codes)
