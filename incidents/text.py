"""Rules for free text that citizens type and the public reads."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# Vietnamese phone numbers (0 or +84, then 8–10 digits, spaced or not), national ID numbers
# (9-digit CMND, 12-digit CCCD) and e-mail addresses. Dates such as 2026-11-25 are left alone.
PHONE_RE = re.compile(r"(?<!\d)(?:\+\s?84|0)(?:[\s.\-()]{0,2}\d){8,10}(?!\d)")
ID_RE = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub_contact_details(text: str) -> str:
    """Hide e-mail addresses, phone numbers and ID numbers in text that becomes public."""
    text = EMAIL_RE.sub("[…]", text)
    text = PHONE_RE.sub("[…]", text)
    return ID_RE.sub("[…]", text)


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be stored (NUL characters, broken Unicode), or None."""
    if "\x00" in value:
        return _("Contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Contains characters that are not valid Unicode.")
    return None
