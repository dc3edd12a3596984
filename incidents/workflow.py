"""The report workflow: states and allowed transitions are one table, and every change goes
through transition_report, which locks the row, checks the version, and appends the event in
the same transaction."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents.events import bump_incident_versions, record, touch
from incidents.models import Incident, Report, ReportEvent, Supporter
from incidents.notices import enqueue_reopen_notice, enqueue_status_update, enqueue_supporter_milestone
from incidents.sla import due_times
from incidents.text import scrub_contact_details, text_problem

S = Report.Status

TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.DUPLICATE},
    S.ACKNOWLEDGED: {S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.DUPLICATE},
    S.IN_PROGRESS: {S.RESOLVED, S.REJECTED, S.DUPLICATE},
    S.RESOLVED: {S.CLOSED, S.REOPENED},
    S.CLOSED: {S.REOPENED},
    S.REOPENED: {S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.DUPLICATE},
    S.REJECTED: {S.REOPENED},
    S.DUPLICATE: {S.REOPENED},
}
NEEDS_PUBLIC_MESSAGE = {S.RESOLVED, S.REJECTED, S.REOPENED}
REOPEN_DAYS = 30  # a citizen may say "still not fixed" this long after a report was resolved
MAX_MESSAGE = 2000


class Conflict(Exception):
    """Someone else changed it first; `current` is the report or incident as it is now."""

    def __init__(self, current):
        super().__init__(str(current))
        self.current = current


def clean_message(value: str, field: str, required: bool = True) -> str:
    """A staff message: stripped, required unless told, at most MAX_MESSAGE characters."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    problem = text_problem(value)
    if problem:
        raise ValidationError({field: [problem]})
    if len(value) > MAX_MESSAGE:
        raise ValidationError({field: [_("At most %(n)s characters.") % {"n": MAX_MESSAGE}]})
    return value


def lock_report(report_id: int, expected_version: int | None = None) -> Report:
    """Lock a report for a change (inside a transaction): its incident first, then the report,
    as everywhere, so two actions cannot wait on each other. Raises Conflict when the report's
    version is no longer `expected_version`."""
    while True:
        incident_id = Report.objects.values_list("incident_id", flat=True).get(pk=report_id)
        Incident.objects.select_for_update().filter(pk=incident_id).first()
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.incident_id == incident_id:
            break  # else a merge or split moved it meanwhile: lock its new incident too
    if expected_version is not None and report.version != expected_version:
        raise Conflict(report)
    return report


@transaction.atomic
def transition_report(report_id: int, to_status: str, *, actor=None, message: str = "", is_public: bool = True,
                      expected_version: int | None = None, sync_incident: bool = True) -> Report:
    """Move one report to `to_status`, append its event and tell its reporter and supporters.

    With sync_incident, the incident follows when the report is alone in it, or when the report
    is reopened (a reopened report reopens its incident). set_incident_status passes False.
    """
    if to_status not in S.values:
        raise ValidationError({"status": [_("Unknown status \"%(s)s\".") % {"s": str(to_status)[:40]}]})
    report = lock_report(report_id, expected_version)
    if to_status not in TRANSITIONS.get(report.status, set()):
        raise ValidationError({"status": [_("A report that is %(from)s cannot become %(to)s.") % {
            "from": S(report.status).label, "to": S(to_status).label}]})
    message = clean_message(message, "message", required=False)
    if to_status in NEEDS_PUBLIC_MESSAGE and not (message and is_public):
        raise ValidationError({"message": [_("Say publicly why: this change needs a message to the citizen.")]})
    now = timezone.now()
    from_status, report.status = report.status, to_status
    if to_status == S.RESOLVED:
        report.resolved_at = now
    elif to_status == S.REOPENED:  # open again: not resolved, and a new target to resolve it
        report.resolved_at = None
        report.resolve_due_at = due_times(report.category, now)[1]
    if report.acknowledged_at is None and to_status != S.REOPENED:
        report.acknowledged_at = now  # the first answer by staff, whatever it is, acknowledges
    touch(report, ["status", "resolved_at", "resolve_due_at", "acknowledged_at"])
    record(report, ReportEvent.Kind.STATUS_CHANGED, actor=actor, from_status=from_status, to_status=to_status,
           message=message, public=is_public, at=now)
    # The incident's version changes with any of its reports' status, so a change to the whole
    # incident made from a stale page is a conflict.
    incident_change: dict[str, object] = {}
    if sync_incident:
        alone = not Report.objects.filter(incident_id=report.incident_id).exclude(pk=report.pk).exists()
        if alone or to_status == S.REOPENED:
            incident_change = {"status": to_status, **({"resolved_at": now} if to_status == S.RESOLVED else {})}
    bump_incident_versions([report.incident_id], **incident_change)
    if is_public:
        enqueue_status_update(report, message)
    if to_status == S.REOPENED:  # the department hears of it (mail as its rules say, its system by webhook)
        enqueue_reopen_notice(report, message if is_public else "")
    return report


def can_reopen(report: Report, now=None) -> bool:
    """A citizen's "still not fixed?" is offered within REOPEN_DAYS of the resolution."""
    now = now or timezone.now()
    return (report.status in (S.RESOLVED, S.CLOSED) and report.resolved_at is not None
            and now - report.resolved_at <= timedelta(days=REOPEN_DAYS))


@transaction.atomic
def reopen_by_citizen(report: Report, comment: str) -> Report:
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": [_("Tell the department what is still wrong.")]})
    if len(comment) > 2000:
        raise ValidationError({"comment": [_("At most %(n)s characters.") % {"n": 2000}]})
    report = lock_report(report.pk)  # decide on the current state
    if not can_reopen(report):
        raise ValidationError({"comment": [_("This report can no longer be reopened; please submit a new one.")]})
    return transition_report(report.pk, S.REOPENED, message=scrub_contact_details(comment), is_public=True)


@transaction.atomic
def support_report(report: Report, *, email: str = "", browser: str = "", ip: str | None = None,
                   language: str | None = None) -> Supporter:
    """Record a "me too" on an open report: one per e-mail address and one per browser. The
    supporter's mail is in `language` (by default the request's)."""
    report = lock_report(report.pk)  # decide on the current state
    if not report.is_open:
        raise ValidationError({"report": [_("This report is closed; if the problem is back, submit a new one.")]})
    email = email.strip().lower()
    if len(email) > 254:
        raise ValidationError({"email": [_("Enter a valid e-mail address.")]})
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from None
    already = Q(browser=browser) if browser else Q(pk__in=[])
    if email:
        already |= Q(email=email)
    if Supporter.objects.filter(report=report).filter(already).exists():
        raise ValidationError({"report": [_("You already support this report. Thank you!")]})
    try:
        with transaction.atomic():
            supporter = Supporter.objects.create(report=report, email=email, browser=browser, ip=ip,
                                                 language=((get_language() or "") if language is None else language)[:8])
    except IntegrityError:
        raise ValidationError({"report": [_("You already support this report. Thank you!")]}) from None
    Report.objects.filter(pk=report.pk).update(supporter_count=F("supporter_count") + 1)
    # The incident's count is its reports' sum: kept as it goes, not only when a refresh recounts it.
    Incident.objects.filter(pk=report.incident_id).update(supporter_count=F("supporter_count") + 1)
    record(report, ReportEvent.Kind.SUPPORTED)
    enqueue_supporter_milestone(report, report.supporter_count + 1)  # the row is locked: this is the new count
    return supporter
