"""Staff operations on incidents: merge incidents (or a selection of reports) into one, split a
report out into an incident of its own, and give a whole incident a status that its reports
follow. Every report, supporter and event is kept."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.events import bump_incident_versions, event, record, record_many
from incidents.matching import refresh_incident
from incidents.models import Incident, Report, ReportEvent


@transaction.atomic
def merge_incidents(target_id: int, source_ids: list[int], actor=None, departments: list[int] | None = None) -> Incident:
    """Move every report of the sources into the target. Reporters and supporters belong to the
    reports, so all stay subscribed; the sources remain, empty, pointing at the target.
    With `departments`, every report of these incidents must belong to one of them."""
    source_ids = [i for i in dict.fromkeys(source_ids) if i != target_id]
    if not source_ids:
        raise ValidationError({"incidents": [_("Choose at least one other incident to merge.")]})
    # Lock in id order, so two merges touching the same incidents cannot deadlock.
    locked = {i.pk: i for i in Incident.objects.select_for_update().filter(pk__in=[target_id, *source_ids])
              .order_by("pk")}
    if len(locked) != len(source_ids) + 1:
        raise ValidationError({"incidents": [_("Some of these incidents do not exist.")]})
    if any(locked[i].merged_into_id for i in [target_id, *source_ids]):
        raise ValidationError({"incidents": [_("An incident that was merged into another cannot be merged again.")]})
    if departments is not None and Report.objects.filter(incident_id__in=locked).exclude(
            department_id__in=departments).exists():
        raise ValidationError({"incidents": [_("Some reports of these incidents belong to a department you do not "
                                               "act for.")]})
    if locked[target_id].status not in Report.OPEN_STATUSES:
        raise ValidationError({"incidents": [_("Merge into an open incident; reopen it first.")]})
    moved = list(Report.objects.filter(incident_id__in=source_ids))
    Report.objects.filter(incident_id__in=source_ids).update(incident_id=target_id)
    record_many(event(r, ReportEvent.Kind.MERGED, actor=actor,
                      data={"from_incident": r.incident_id, "to_incident": target_id}) for r in moved)
    bump_incident_versions(source_ids, merged_into_id=target_id, status=Report.Status.DUPLICATE, report_count=0,
                           supporter_count=0)
    refresh_incident(target_id)
    return Incident.objects.get(pk=target_id)


@transaction.atomic
def split_report_from_incident(report_id: int, actor=None) -> Incident:
    """Take one report out of its incident into a new incident of its own."""
    incident_id = Report.objects.values_list("incident_id", flat=True).get(pk=report_id)
    old = Incident.objects.select_for_update().get(pk=incident_id)  # incident first, then report, everywhere
    report = Report.objects.select_for_update().get(pk=report_id, incident_id=incident_id)
    if Report.objects.filter(incident=old).count() <= 1:
        raise ValidationError({"report": [_("This report is already alone in its incident.")]})
    new = Incident.objects.create(category_id=report.category_id, department_id=report.department_id,
                                  status=report.status, description=report.public_description,
                                  first_reported_at=report.created_at, last_reported_at=report.created_at)
    Report.objects.filter(pk=report.pk).update(incident=new, incident_score=None)
    record(report, ReportEvent.Kind.SPLIT, actor=actor, data={"from_incident": old.pk, "to_incident": new.pk})
    refresh_incident(old.pk)
    refresh_incident(new.pk)
    return Incident.objects.get(pk=new.pk)


@dataclass
class IncidentChange:
    incident: Incident
    changed: list[str]  # public ids of the reports that took the new status
    skipped: dict[str, str]  # public id → why not


@transaction.atomic
def set_incident_status(incident_id: int, to_status: str, *, actor=None, message: str = "",
                        expected_version: int | None = None) -> IncidentChange:
    """Give the incident a status and each of its reports the same one, with one public event
    (and one notice to its reporter and supporters) per report."""
    from incidents.workflow import TRANSITIONS, Conflict, transition_report

    if to_status not in Report.Status.values:
        raise ValidationError({"status": [_("Unknown status \"%(s)s\".") % {"s": str(to_status)[:40]}]})
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if incident.merged_into_id:
        raise ValidationError({"status": [_("This incident was merged into #%(id)s; act on that one.") % {
            "id": incident.merged_into_id}]})
    if expected_version is not None and incident.version != expected_version:
        raise Conflict(incident)
    if to_status not in TRANSITIONS.get(incident.status, set()):
        raise ValidationError({"status": [_("A report that is %(from)s cannot become %(to)s.") % {
            "from": Report.Status(incident.status).label, "to": Report.Status(to_status).label}]})
    changed, skipped = [], {}
    for report in Report.objects.filter(incident=incident).order_by("id"):
        if to_status not in TRANSITIONS.get(report.status, set()):
            skipped[report.public_id] = report.get_status_display()
            continue
        transition_report(report.pk, to_status, actor=actor, message=message, is_public=True, sync_incident=False)
        changed.append(report.public_id)
    bump_incident_versions(
        [incident.pk], status=to_status, updated_at=timezone.now(),
        resolved_at=timezone.now() if to_status == Report.Status.RESOLVED else incident.resolved_at)
    incident.refresh_from_db()
    return IncidentChange(incident, changed, skipped)


def merge_reports_into(reports: list[Report], *, actor, departments: list[int] | None = None) -> Incident:
    """Bulk merge: the incidents of the chosen reports become one, the oldest open one."""
    incident_ids = sorted({r.incident_id for r in reports})
    open_ids = list(Incident.objects.filter(pk__in=incident_ids, merged_into__isnull=True,
                                            status__in=Report.OPEN_STATUSES).order_by("first_reported_at", "pk")
                    .values_list("pk", flat=True))
    if not open_ids:
        raise ValidationError({"incidents": [_("Merge into an open incident; reopen it first.")]})
    return merge_incidents(open_ids[0], [i for i in incident_ids if i != open_ids[0]], actor=actor,
                           departments=departments)
