"""Open311 GeoReport v2, the protocol alone: the two formats (.xml, which the spec requires, and
.json), documents written as ordered fields, errors, and W3C datetimes. It knows nothing of
reports; services.py, requests.py and submit.py map Citypin's models onto it.

- JSON: a list stays a list even with one element; booleans are booleans; None is null.
- XML: the declaration with encoding="utf-8"; a list is a parent element with one child per
  item, named as in the spec's examples (ITEM_TAGS); a dict's keys are elements in its order;
  booleans read true/false, None an empty element.
- Errors: `[{"code": 400, "description": "…"}]` or `<errors><error><code>…`; several at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from xml.sax.saxutils import escape

from django.http import HttpResponse

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

# The child element of each list element, as in the spec's examples (and FixMyStreet's updates).
ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
    "notes": "note",
    "photos": "photo",
    "service_request_updates": "request_update",
}

# Characters XML 1.0 cannot carry at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """An answer of errors: the HTTP status and one description per problem."""

    def __init__(self, status: int, descriptions: Iterable[str]):
        super().__init__(status)
        self.status = status
        self.descriptions = list(descriptions)


def w3c(value: datetime | None) -> str | None:
    """A W3C datetime with its offset and whole seconds (2026-11-30T14:05:00+07:00)."""
    return None if value is None else value.replace(microsecond=0).isoformat()


def xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return escape(NOT_XML.sub("", str(value)))


def to_xml(tag: str, value) -> str:
    """One element: a dict gives child elements in order, a list one ITEM_TAGS child per item."""
    if isinstance(value, dict):
        inner = "".join(to_xml(key, item) for key, item in value.items())
    elif isinstance(value, list):
        inner = "".join(to_xml(ITEM_TAGS[tag], item) for item in value)
    else:
        inner = xml_text(value)
    return f"<{tag}>{inner}</{tag}>"


def _json_default(value):
    if isinstance(value, datetime):
        return w3c(value)
    raise TypeError(type(value).__name__)


def document(fmt: str, root: str, data, status: int = 200) -> HttpResponse:
    """`data` (a list or a dict) as JSON, or as XML under the element `root`."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, default=_json_default)
    else:
        body = XML_DECLARATION + to_xml(root, data)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def joined(fmt: str, root: str, items: list[str]) -> HttpResponse:
    """Items already rendered in `fmt` (by the database), joined into one list document."""
    if fmt == "json":
        body = "[" + ",".join(items) + "]"
    else:
        body = XML_DECLARATION + f"<{root}>" + "".join(items) + f"</{root}>"
    return HttpResponse(body, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, error: Open311Error) -> HttpResponse:
    return document(fmt, "errors", [{"code": error.status, "description": d} for d in error.descriptions],
                    status=error.status)


def format_of(path: str) -> str:
    """The format a path asks for by its extension; XML (the spec's format) for anything else."""
    return "json" if path.rstrip("/").endswith(".json") else "xml"
