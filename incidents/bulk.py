"""Bulk actions: one action applied to many reports, each in its own transaction, so one
failure leaves the others done and is reported with why. Merging is the exception: the chosen
reports' incidents become one, in one transaction, or none do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from incidents.access import StaffScope, authorize_assignment, lock_in_scope
from incidents.incident_ops import merge_reports_into
from incidents.models import Report
from incidents.triage import active_department_id, assign_report, reroute_report
from incidents.workflow import Conflict, transition_report

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

BULK_ACTIONS = ("assign", "status", "reroute", "merge")
MAX_BULK = 500  # reports in one bulk action


@dataclass
class BulkResult:
    done: list[str]
    failed: dict[str, str]  # public id → why


@dataclass(frozen=True)
class BulkChange:
    """One of BULK_ACTIONS with its inputs as the console's form sends them; a bad input fails
    each report with the reason, as an action on one report would."""

    action: str
    assignee: str = ""  # a user id; "": unassigned
    status: str = ""
    message: str = ""  # public, with a status
    department: str = ""  # a department code
    reason: str = ""  # internal, with a reroute


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for messages in exc.message_dict.values() for m in messages)


def bulk_apply(reports: list[Report], action: Callable[[Report], object]) -> BulkResult:
    result = BulkResult([], {})
    for report in reports:
        try:
            with transaction.atomic():
                action(report)
            result.done.append(report.public_id)
        except Conflict:
            result.failed[report.public_id] = _("Changed by someone else meanwhile.")
        except ValidationError as exc:
            result.failed[report.public_id] = _messages(exc)
    return result


def apply_bulk_change(change: BulkChange, reports: list[Report], *, scope: StaffScope,
                      actor: AbstractBaseUser) -> BulkResult:
    """Apply the change to the reports (all in the member's scope); those of a department where
    the member only reads fail with that reason, the others are changed or fail with theirs."""
    result = BulkResult([], {})
    actable = []
    for report in reports:
        if scope.can_act(report.department_id):
            actable.append(report)
        else:
            result.failed[report.public_id] = _("Your role in this department is read-only.")
    if change.action == "merge":
        partial = _merge(actable, scope=scope, actor=actor)
    else:
        step = STEPS[change.action]
        partial = bulk_apply(actable, lambda r: (lock_in_scope(scope, r.pk), step(change, r, scope, actor)))
    result.done += partial.done
    result.failed |= partial.failed
    return result


def _merge(reports: list[Report], *, scope: StaffScope, actor: AbstractBaseUser) -> BulkResult:
    """All or nothing: the reports' incidents become one."""
    try:
        if len(reports) < 2:
            raise ValidationError({"ids": [_("Select at least two reports to merge.")]})
        merge_reports_into(reports, actor=actor, departments=scope.acting_department_ids)
    except ValidationError as exc:
        return BulkResult([], {r.public_id: _messages(exc) for r in reports})
    return BulkResult([r.public_id for r in reports], {})


def _assign(change: BulkChange, report: Report, scope: StaffScope, actor: AbstractBaseUser) -> object:
    try:
        assignee = None if change.assignee == "" else int(change.assignee)
    except ValueError:
        raise ValidationError({"assignee": [_("Choose a colleague.")]}) from None
    authorize_assignment(scope, Report.objects.get(pk=report.pk), assignee)  # as it is now, locked
    return assign_report(report.pk, assignee, actor=actor)


def _status(change: BulkChange, report: Report, scope: StaffScope, actor: AbstractBaseUser) -> object:
    return transition_report(report.pk, change.status, actor=actor, message=change.message)


def _reroute(change: BulkChange, report: Report, scope: StaffScope, actor: AbstractBaseUser) -> object:
    return reroute_report(report.pk, active_department_id(change.department), change.reason, actor=actor)


STEPS: dict[str, Callable[[BulkChange, Report, StaffScope, AbstractBaseUser], object]] = {
    "assign": _assign, "status": _status, "reroute": _reroute}
