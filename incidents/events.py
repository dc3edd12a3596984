"""The one writer of report events and of versions.

Every change to a report appends an immutable ReportEvent in the transaction of the change, and
every change staff can make from a page they read bumps the version of the report (or of the
incident) so that a second change made from a stale page is a conflict (workflow.lock_report).
Services call these functions instead of creating events or counting versions themselves, so
an event always carries the department the report is with when it is written, and a version
always moves by exactly one with `updated_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from django.db.models import F

from incidents.models import Incident, Report, ReportEvent
from incidents.prepared import Insert

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class _Of(Enum):
    REPORT = "the report's department"


REPORT_DEPARTMENT = _Of.REPORT  # the default department of an event: the report's, as it is now


def event(report: Report, kind: str, *, actor: AbstractBaseUser | None = None, message: str = "",
          public: bool = False, data: dict[str, Any] | None = None, from_status: str = "", to_status: str = "",
          at: datetime | None = None, department_id: int | None | _Of = REPORT_DEPARTMENT) -> ReportEvent:
    """An event not yet saved, for record_many. `at` None: now. `department_id` None: no
    department (the `created` event names none; the `routed` event after it does)."""
    values: dict[str, Any] = {} if at is None else {"created_at": at}
    return ReportEvent(report=report, kind=kind, actor=actor, message=message, is_public=public, data=data or {},
                       from_status=from_status, to_status=to_status,
                       department_id=report.department_id if department_id is REPORT_DEPARTMENT else department_id,
                       **values)


def record(report: Report, kind: str, *, actor: AbstractBaseUser | None = None, message: str = "",
           public: bool = False, data: dict[str, Any] | None = None, from_status: str = "", to_status: str = "",
           at: datetime | None = None, department_id: int | None | _Of = REPORT_DEPARTMENT) -> ReportEvent:
    """Append one event to the report's history (see `event` for the arguments)."""
    written = event(report, kind, actor=actor, message=message, public=public, data=data, from_status=from_status,
                    to_status=to_status, at=at, department_id=department_id)
    written.save()
    return written


EVENT_INSERT = Insert(ReportEvent)


def record_many(events: Iterable[ReportEvent]) -> list[ReportEvent]:
    """Append several events (built with `event`) in one INSERT."""
    return EVENT_INSERT.save(list(events))


def touch(report: Report, fields: Iterable[str] = ()) -> None:
    """Save the report's changed `fields` with its version one higher and `updated_at` now."""
    report.version += 1
    report.save(update_fields=[*fields, "version", "updated_at"])


def bump_incident_versions(incident_ids: Iterable[int], **changes: Any) -> int:
    """Set `changes` on the incidents and raise each one's version by one, in one UPDATE.
    Returns how many incidents changed."""
    return Incident.objects.filter(pk__in=list(incident_ids)).update(version=F("version") + 1, **changes)
