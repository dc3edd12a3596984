"""Delivery of the outbox: the domain queues messages (incidents.notices) in the transaction
that caused them; the worker sends the pending ones here, each through the sender of its
channel (incidents.delivery.channels), with retries and backoff. A row whose channel has no
sender fails like any failed send: kept with the error, retried, given up after MAX_ATTEMPTS."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from incidents.delivery.channels import channel_for
from incidents.models import OutboxMessage

MAX_ATTEMPTS = 6


BATCH = 50


def send_pending(now: datetime | None = None) -> tuple[int, int]:
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
                channel_for(message.channel).send(message)
            except Exception as exc:  # any failure of the channel, or no channel: keep it, retry later
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
