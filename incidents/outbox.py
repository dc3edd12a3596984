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


def enqueue_department_notice(report: Report, department: Department) -> OutboxMessage | None:
    """Tell a department that a report was routed to it (Vietnamese, then English)."""
    if not department.email:
        return None
    context = {"report": report, "department": department, "site_url": settings.CITYPIN_SITE_URL}
    with override("vi"):
        subject = render_to_string("incidents/email/routed_subject.txt", context).strip()
        body = render_to_string("incidents/email/routed_body.txt", context)
    with override("en"):
        body += "\n---\n\n" + render_to_string("incidents/email/routed_body.txt", context)
    return OutboxMessage.objects.create(recipient=department.email, subject=subject[:200], body=body, report=report)


def enqueue_reporter_receipt(report: Report) -> OutboxMessage | None:
    """Tell the reporter their report arrived, with the tracking link (in Vietnamese and English)."""
    if not report.reporter_email:
        return None
    context = {"report": report, "site_url": settings.CITYPIN_SITE_URL}
    with override("vi"):
        subject = render_to_string("incidents/email/receipt_subject.txt", context).strip()
        body = render_to_string("incidents/email/receipt_body.txt", context)
    with override("en"):
        body += "\n---\n\n" + render_to_string("incidents/email/receipt_body.txt", context)
    return OutboxMessage.objects.create(recipient=report.reporter_email, subject=subject[:200], body=body,
                                        report=report)


def enqueue_status_update(report: Report, message: str) -> int:
    """Tell the reporter and every supporter with an e-mail that the report changed status."""
    recipients = {report.reporter_email.lower()} | set(report.supporters.exclude(email="").values_list("email", flat=True))
    recipients.discard("")
    context = {"report": report, "message": message, "site_url": settings.CITYPIN_SITE_URL}
    with override("vi"):
        subject = render_to_string("incidents/email/status_subject.txt", context).strip()
        body = render_to_string("incidents/email/status_body.txt", context)
    with override("en"):
        body += "\n---\n\n" + render_to_string("incidents/email/status_body.txt", context)
    OutboxMessage.objects.bulk_create([OutboxMessage(recipient=email, subject=subject[:200], body=body, report=report)
                                       for email in sorted(recipients)])
    return len(recipients)


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
