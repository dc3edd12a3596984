"""The worker's escalation job: reports nobody acknowledged in time are flagged for their
operations center, with an event and a notice."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents.events import record
from incidents.models import Department, Report, ReportEvent
from incidents.notices import enqueue_escalation_notice
from incidents.routing import operations_center_at


# Reports still new after their acknowledge-by time, not yet escalated: served by the partial
# index report_awaiting_escalation.
def escalate_overdue(now: datetime | None = None) -> int:
    """Flag each report nobody acknowledged in time, tell its operations center, and write the
    event. Returns how many were escalated."""
    now = now or timezone.now()
    escalated = 0
    pending = Report.objects.filter(status=Report.Status.NEW, acknowledged_at__isnull=True, escalated_at__isnull=True,
                                    acknowledge_due_at__lt=now)
    for report_id in pending.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            report = Report.objects.select_for_update(skip_locked=True).filter(
                pk=report_id, status=Report.Status.NEW, acknowledged_at__isnull=True, escalated_at__isnull=True).first()
            if report is None:
                continue
            report.escalated_at = now
            report.save(update_fields=["escalated_at"])  # no version bump: it changes nothing staff edit
            location = report.location
            center = Department.objects.filter(pk=operations_center_at(
                location.x if location else None, location.y if location else None)).first()
            record(report, ReportEvent.Kind.ESCALATED, data={
                "due": report.acknowledge_due_at.isoformat(), "to": center.code if center else None})
            if center is not None:
                enqueue_escalation_notice(report, center)
            escalated += 1
    return escalated
