"""Notices: the messages a change owes people (the department's notice of a new report, the
reporter's receipt, status updates and replies to reporters and supporters, escalations),
queued in the outbox inside the transaction that caused them. Sending is incidents.delivery's."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import override

from incidents.models import Department, OutboxMessage, Report


def _bilingual(name: str, context: dict) -> tuple[str, str]:
    """Subject (Vietnamese) and body (Vietnamese, then English) from incidents/email/<name>_*.txt."""
    context = {**context, "site_url": settings.CITYPIN_SITE_URL}
    with override("vi"):
        subject = render_to_string(f"incidents/email/{name}_subject.txt", context).strip()[:200]
        body = render_to_string(f"incidents/email/{name}_body.txt", context)
    with override("en"):
        body += "\n---\n\n" + render_to_string(f"incidents/email/{name}_body.txt", context)
    return subject, body


def _queue(report: Report, recipients: list[str], name: str, context: dict) -> int:
    if not recipients:
        return 0
    subject, body = _bilingual(name, {"report": report, **context})
    OutboxMessage.objects.bulk_create([OutboxMessage(recipient=email, subject=subject, body=body, report=report)
                                       for email in recipients])
    return len(recipients)


def enqueue_department_notice(report: Report, department: Department) -> int:
    """Tell a department that a report was routed to it."""
    return _queue(report, [department.email] if department.email else [], "routed", {"department": department})


def enqueue_reporter_receipt(report: Report) -> int:
    """Tell the reporter their report arrived, with the tracking link."""
    return _queue(report, [report.reporter_email] if report.reporter_email else [], "receipt", {})


def enqueue_status_update(report: Report, message: str) -> int:
    """Tell the reporter and every supporter with an e-mail that the report changed status."""
    return _queue(report, _followers(report), "status", {"message": message})


def _followers(report: Report) -> list[str]:
    recipients = {report.reporter_email.lower()} | set(report.supporters.exclude(email="").values_list("email", flat=True))
    recipients.discard("")
    return sorted(recipients)


def enqueue_reply(report: Report, message: str) -> int:
    """Tell the reporter and every supporter what the department answered."""
    return _queue(report, _followers(report), "reply", {"message": message})


def enqueue_escalation_notice(report: Report, operations_center: Department) -> int:
    """Tell the operations center that a report was not acknowledged in time."""
    return _queue(report, [operations_center.email] if operations_center.email else [], "escalated",
                  {"department": report.department})


