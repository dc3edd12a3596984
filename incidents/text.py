"""Rules for free text that citizens type and the public reads."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# Phone numbers, spaced, dotted or bracketed or not: Vietnamese ones (0, +84 or a bare 84, then
# 8–10 digits; after a bare 84 only spaces or hyphens, as 84.000.000.000 is an amount of đồng)
# and any international one (+, then 8–15 digits). Dates such as 2026-11-25, times, house and
# road numbers are too short or split by other signs, and stay; so do the thousands of an
# amount (1.000.000.000 đồng), as a number never starts right after digits and a dot or comma.
PHONE_RE = re.compile(r"(?<!\d)(?<!\d[.,])(?:\+\s?84|0)(?:[\s.\-()]{0,2}\d){8,10}(?!\d)"
                      r"|(?<![\d+])(?<!\d[.,])84(?:[\s\-]?\d){9,10}(?!\d)"
                      r"|\+\s?\d(?:[\s.\-()]{0,2}\d){7,14}(?!\d)")
# National ID numbers: 9-digit CMND, 12-digit CCCD.
ID_RE = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")
# E-mail addresses, also written "x at gmail dot com", "x[at]gmail.com" or "x @ gmail.com"
# (written so, the domain must end in letters: "giá @ 5.000đ" stays). An address starts where a
# word starts, so a long word costs one attempt, not one per character.
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AT = r"(?:\s*@\s*|\s*[\[(]\s*(?i:at)\s*[\])]\s*|\s+(?i:at)\s+)"
_DOT = r"(?:\.|\s*[\[(]\s*(?i:dot)\s*[\])]\s*|\s+(?i:dot)\s+)"
WRITTEN_EMAIL_RE = re.compile(rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[^\W\d_]{{2,}}\b")
# Vietnamese licence plates: a province number (11–99), a series of one or two letters and
# maybe a digit, then 4 or 5 digits (the 5 written 123.45): "51F-123.45", "65A-12345",
# "29-B1 123.45", "51F12345". A series followed by a bare space and plain digits ("căn hộ 12A
# 1205") stays, as do dates, times, house numbers ("123/4", "45A-47") and road names ("QL91B").
_SERIES = r"(?i:[a-zđ]{1,2})\d?"
_PLATE_NUMBER = r"(?:\d{3}\.\d{2}|\d{4,5})"
PLATE_RE = re.compile(rf"(?<![\w.,/])[1-9]\d(?:\s?-\s?{_SERIES}(?:\s?[-.]\s?|\s)?{_PLATE_NUMBER}"
                      rf"|{_SERIES}\s?-\s?{_PLATE_NUMBER}|{_SERIES}\s?\d{{3}}\.\d{{2}}|{_SERIES}\d{{4,5}})"
                      r"(?!\w|[.,]\d)")
CONTACT_RES = (EMAIL_RE, WRITTEN_EMAIL_RE, PHONE_RE, ID_RE, PLATE_RE)

# Full-width digits and signs (as typed with an East Asian keyboard) read as their ASCII
# twins, one character for one so that positions in the original text stay the same.
_FOLD = str.maketrans("０１２３４５６７８９＋＠．－（）", "0123456789+@.-()")


def scrub_contact_details(text: str) -> str:
    """Hide e-mail addresses, phone numbers, ID numbers and licence plates in text that becomes public."""
    folded = text.translate(_FOLD)
    spans = sorted(m.span() for pattern in CONTACT_RES for m in pattern.finditer(folded))
    parts, end = [], 0
    for start, stop in spans:
        if start >= end:
            parts.append(text[end:start] + "[…]")
        end = max(end, stop)
    return "".join(parts) + text[end:]


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be stored (NUL characters, broken Unicode), or None."""
    if "\x00" in value:
        return _("Contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Contains characters that are not valid Unicode.")
    return None
