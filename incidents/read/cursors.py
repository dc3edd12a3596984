"""Keyset cursors: a page ends with the sort-key values of its last row, handed to the client
as an opaque URL-safe token; the next page starts strictly after them. No OFFSET, no COUNT(*):
a row comparison `(a, b) < (x, y)` that a composite index on (a, b) serves."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _

from incidents.read.query import field_error, storable_offset


def encode_cursor(values: Sequence[datetime | int]) -> str:
    text = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(raw: str, kinds: Sequence[str]) -> list[datetime | int]:
    """The values of a cursor whose keys are of `kinds` ("time" or "int"); a ValidationError
    naming `cursor` for anything else."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        # The public list's `next` links were "time|id" before the two lists shared cursors;
        # one a client still holds goes on working.
        values = json.loads(text) if text.startswith("[") else text.split("|")
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return [storable_offset(datetime.fromisoformat(v)) if kind == "time" else int(v)
                for v, kind in zip(values, kinds)]
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise field_error("cursor", _("Invalid cursor; use the 'next' link as given.")) from None


def after_cursor(columns: Sequence[str], values: Sequence, descending: bool, params: dict) -> str:
    """The rows after the cursor `values` in the order of `columns` (all one direction)."""
    names = []
    for i, value in enumerate(values):
        params[f"cursor{i}"] = value
        names.append(f"%(cursor{i})s")
    return f"({', '.join(columns)}) {'<' if descending else '>'} ({', '.join(names)})"

