"""The e-mail channel: one outbox row is one message through Django's mail backend (SMTP in
production, locmem in the tests): the text the notice rendered, and the same text as HTML
(incidents/email/message.html: escaped, so a reporter's words never become markup; Citypin's
own links made clickable; the English part after the Vietnamese one marked lang="en"). One
connection (one SMTP session) carries a whole share of a batch, and every message has a
Message-ID derived from its row, so a receiver (or a mailing list) can drop the duplicate sent
again after a worker crashed before recording it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from incidents.delivery.channels import Channel, Send, delivery_id
from incidents.models import OutboxMessage


def message_id(message: OutboxMessage) -> str:
    domain = urlsplit(settings.CITYPIN_SITE_URL).hostname or "citypin.localhost"
    return f"<{delivery_id(message)}@{domain}>"


BILINGUAL_SEPARATOR = "\n---\n\n"  # between the Vietnamese and the English text (incidents.notices)


@lru_cache(maxsize=4)
def _own_links(site: str) -> re.Pattern:
    """Citypin's own URLs (under `site`), compiled once per site, not once per mail."""
    return re.compile(re.escape(site.rstrip("/")) + r"(?:/[^\s<>\"']*)?")


def linked(text: str) -> SafeString:
    """`text` escaped for HTML, with Citypin's own links (under CITYPIN_SITE_URL: the report, the
    console, unsubscribing) made clickable. Any other URL stays text: a reporter's words may hold
    one, and a notice should not turn it into a link. (Django's urlize, which linked every URL,
    took most of the time a mail took to build.)"""
    parts, start = [], 0
    for match in _own_links(settings.CITYPIN_SITE_URL).finditer(text):
        url = match.group().rstrip(".,;:!?)")
        parts += [escape(text[start:match.start()]), format_html('<a href="{}">{}</a>', url, url)]
        start = match.start() + len(url)
    parts.append(escape(text[start:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above


def build_email(message: OutboxMessage) -> EmailMultiAlternatives:
    # Django refuses a subject or address with a line break (BadHeaderError): no header injection.
    email = EmailMultiAlternatives(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient],
                                   headers={**message.headers, "Message-ID": message_id(message),
                                            "X-Citypin-Delivery": delivery_id(message)})
    # A citizen's mail is in one language (Content-Language); staff mail is Vietnamese then English.
    language = message.headers.get("Content-Language")
    html = render_to_string("incidents/email/message.html", {
        "subject": message.subject, "language": language if language in ("vi", "en") else "vi",
        "parts": [linked(part) for part in ([message.body] if language else message.body.split(BILINGUAL_SEPARATOR))]})
    email.attach_alternative(html, "text/html")
    return email


class NotAccepted(RuntimeError):
    """The mail backend took the message but said it sent nothing."""


class EmailChannel(Channel):
    def endpoint(self, message: OutboxMessage) -> str:
        return "smtp"  # one mail server for the installation

    @contextmanager
    def connection(self) -> Iterator[Send]:
        with get_connection(fail_silently=False) as backend:  # opens the SMTP session once
            def send(message: OutboxMessage) -> None:
                if backend.send_messages([build_email(message)]) != 1:
                    raise NotAccepted("the mail backend sent nothing")

            yield send

    def send(self, message: OutboxMessage) -> None:
        with self.connection() as send:
            send(message)
