"""The e-mail channel: one outbox row is one plain-text message through Django's mail backend
(SMTP in production, locmem in the tests)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from incidents.models import OutboxMessage


class EmailChannel:
    def send(self, message: OutboxMessage) -> None:
        send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient])
