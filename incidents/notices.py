"""Notices: the messages a change owes people (the department's notice of a new report, the
reporter's receipt, status updates and replies to reporters and supporters, escalations), and
the webhooks departments asked for (routed, rerouted, reopened), queued in the outbox inside
the transaction that caused them. Sending is incidents.delivery's."""

from __future__ import annotations

import json

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from incidents.forwarding import enqueue_open311_forward
from incidents.models import Department, OutboxMessage, Report, WebhookEndpoint

Event = WebhookEndpoint.Event


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


def enqueue_department_notice(report: Report, department: Department, event: str = Event.ROUTED) -> int:
    """Tell a department that a report was routed (or rerouted) to it: by e-mail and webhook."""
    mails = _queue(report, [department.email] if department.email else [], "routed", {"department": department})
    return mails + enqueue_department_webhooks(report, department, event) + enqueue_open311_forward(report, department)


def enqueue_department_webhooks(report: Report, department: Department, event: str) -> int:
    """Queue one signed POST per active endpoint of the department that wants `event`."""
    endpoints = [e for e in department.webhooks.filter(active=True) if e.wants(event)]
    if not endpoints:
        return 0
    body = json.dumps(webhook_payload(report, department, event), ensure_ascii=False, separators=(",", ":"))
    OutboxMessage.objects.bulk_create([
        OutboxMessage(channel=OutboxMessage.Channel.WEBHOOK, recipient=endpoint.url[:254], subject=event, body=body,
                      report=report, endpoint=endpoint) for endpoint in endpoints])
    return len(endpoints)


def webhook_payload(report: Report, department: Department, event: str) -> dict:
    """What a department's system gets: what its staff see of the report in the console's list,
    the exact point included, and never the reporter's contact details (the console has them)."""
    point = report.location
    return {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "department": {"code": department.code, "name_vi": department.name_vi, "name_en": department.name_en},
        "report": {
            "public_id": report.public_id,
            "console_url": f"{settings.CITYPIN_SITE_URL}/console/r/{report.public_id}/",
            "public_url": f"{settings.CITYPIN_SITE_URL}/r/{report.public_id}/",
            "status": report.status,
            "category": {"code": report.category.code, "name_vi": report.category.name_vi,
                         "name_en": report.category.name_en},
            "created_at": report.created_at.isoformat(),
            "location": {"type": "Point", "coordinates": [point.x, point.y]} if point else None,
            "location_accuracy_m": report.location_accuracy_m,
            "address": report.address,
            "description": report.public_description,
            "attributes": report.attributes,
            "routing": report.routing,
            "incident": report.incident_id,
        },
    }


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


