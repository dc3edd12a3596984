"""The outbox: messages written in a transaction, sent by the worker (`run_worker`).

One module per channel; e-mail goes through Django's e-mail backends (SMTP in production,
the console in development, memory in tests). A failed send is retried with backoff
(1, 2, 4, 8… minutes) and given up after MAX_ATTEMPTS, with the error kept on the row.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from .models import Department, OutboxMessage, Report

MAX_ATTEMPTS = 6
BATCH = 50


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



def send_pending(now=None) -> tuple[int, int]:
    """Send what is due; returns (sent, failed attempts). Safe to run in several workers at
    once: rows are claimed with FOR UPDATE SKIP LOCKED."""
    now = now or timezone.now()
    sent = failed = 0
    with transaction.atomic():
        due = list(OutboxMessage.objects.select_for_update(skip_locked=True)
                   .filter(sent_at__isnull=True, failed_at__isnull=True, send_after__lte=now)
                   .order_by("send_after", "id")[:BATCH])
        for message in due:
            message.attempts += 1
            try:
                send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient])
            except Exception as exc:  # any failure of the backend: keep it, retry later
                failed += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.failed_at = now
                else:
                    message.send_after = now + timedelta(minutes=2 ** (message.attempts - 1))
            else:
                sent += 1
                message.sent_at = now
            message.save(update_fields=["attempts", "last_error", "failed_at", "send_after", "sent_at"])
    return sent, failed
