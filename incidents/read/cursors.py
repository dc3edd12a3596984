"""Keyset cursors: a page ends with the sort-key values of its last row, handed to the client
as an opaque URL-safe token; the next page starts strictly after them. No OFFSET, no COUNT(*):
a row comparison `(a, b) < (x, y)` that a composite index on (a, b) serves. A backwards cursor
(OGC API's `prev` link) holds a page's first row: the previous page is the rows strictly before
it, read in reverse order with the comparison inverted, then reversed."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _

from incidents.read.query import field_error, storable_offset


def encode_cursor(values: Sequence[datetime | int], backwards: bool = False) -> str:
    """A cursor to the rows after `values`; `backwards`: to the rows before them (a `prev` link)."""
    keys = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    text = json.dumps({"before": keys} if backwards else keys)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(raw: str, kinds: Sequence[str]) -> list[datetime | int]:
    """The values of a cursor whose keys are of `kinds` ("time" or "int"); a ValidationError
    naming `cursor` for anything else (a backwards cursor too: the lists that take this one
    page forwards only)."""
    values, backwards = decode_paging_cursor(raw, kinds)
    if backwards:
        raise field_error("cursor", _("Invalid cursor; use the 'next' link as given."))
    return values


def decode_paging_cursor(raw: str, kinds: Sequence[str]) -> tuple[list[datetime | int], bool]:
    """The values of a cursor whose keys are of `kinds` ("time" or "int") and whether it pages
    backwards (encode_cursor(backwards=True)); a ValidationError naming `cursor` for anything else."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        # The public list's `next` links were "time|id" before the two lists shared cursors;
        # one a client still holds goes on working.
        values = json.loads(text) if text[:1] in ("[", "{") else text.split("|")
        backwards = isinstance(values, dict)
        if backwards:
            if set(values) != {"before"}:
                raise ValueError
            values = values["before"]
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return [storable_offset(datetime.fromisoformat(v)) if kind == "time" else int(v)
                for v, kind in zip(values, kinds)], backwards
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise field_error("cursor", _("Invalid cursor; use the 'next' link as given.")) from None


def after_cursor(columns: Sequence[str], values: Sequence, descending: bool, params: dict) -> str:
    """The rows after the cursor `values` in the order of `columns` (all one direction); the
    rows before them with `descending` inverted (a backwards page, read in reverse order)."""
    names = []
    for i, value in enumerate(values):
        params[f"cursor{i}"] = value
        names.append(f"%(cursor{i})s")
    return f"({', '.join(columns)}) {'<' if descending else '>'} ({', '.join(names)})"

