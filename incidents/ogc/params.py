"""The query parameters of OGC API – Features, parsed and checked once. Every mistake is an
OgcError naming the parameter, answered 400 (never 422 or 500); an unknown parameter is a
mistake too, as the standard asks (a client's typo must not silently widen the answer).

Spatial values end up as a lon/lat box in SRID 4326 (the storage CRS); times are aware
datetimes; what a filter means for each collection is collections.py's business."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, Polygon
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _

from incidents.ogc import crs as crs_
from incidents.read.query import parse_bbox, parse_when

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
COMMON = ("f", "lang")  # every resource: output format, language
ITEMS = ("bbox", "bbox-crs", "datetime", "limit", "crs", "cursor")


class OgcError(Exception):
    """An answer other than 200, with the JSON body the standard's exception schema gives."""

    def __init__(self, status: int, code: str, description: str, parameter: str | None = None):
        super().__init__(description)
        self.status, self.code, self.description, self.parameter = status, code, description, parameter

    def body(self) -> dict:
        body = {"code": self.code, "description": self.description}
        if self.parameter:
            body["parameter"] = self.parameter
        return body


def bad(parameter: str, description: str) -> OgcError:
    return OgcError(400, "InvalidParameterValue", f"{parameter}: {description}", parameter)


def not_found(description: str) -> OgcError:
    return OgcError(404, "NotFound", description)


def check_known(query: QueryDict, allowed: tuple[str, ...] | set[str]) -> None:
    """400 for a parameter this resource does not know, or one given twice."""
    for name in query:
        if name not in allowed:
            raise bad(name, _("Unknown parameter. This resource takes: %(all)s.") % {"all": ", ".join(sorted(allowed))})
        if len(query.getlist(name)) > 1:
            raise bad(name, _("Give this parameter once."))
        if "\x00" in query[name]:
            raise bad(name, _("Contains a NUL character."))


@dataclass(frozen=True)
class ItemsQuery:
    """The parsed parameters of an items request. `bbox` is lon/lat in SRID 4326; `start` and
    `end` bound the time inclusively (None: open)."""

    limit: int = DEFAULT_LIMIT
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    crs: crs_.Crs = field(default_factory=lambda: crs_.supported()[crs_.CRS84])
    cursor: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)


def parse_limit(raw: str) -> int:
    """A whole number of at least 1; above MAX_LIMIT it is clamped to MAX_LIMIT."""
    try:
        limit = int(raw)
    except ValueError:
        raise bad("limit", _("Must be a whole number from 1 to %(max)s.") % {"max": MAX_LIMIT}) from None
    if limit < 1:
        raise bad("limit", _("Must be a whole number from 1 to %(max)s.") % {"max": MAX_LIMIT})
    return min(limit, MAX_LIMIT)


def parse_crs(name: str, raw: str) -> crs_.Crs:
    found = crs_.find(raw)
    if found is None:
        raise bad(name, _("Unsupported CRS. Use one of: %(all)s.") % {"all": ", ".join(crs_.supported())})
    return found


def parse_ogc_bbox(raw: str, in_crs: crs_.Crs) -> tuple[float, float, float, float]:
    """Four numbers (or six, with heights, which are ignored) in `in_crs`'s axis order, as a
    lon/lat box in SRID 4326. A box in the metric CRS becomes the lon/lat box around it."""
    try:
        numbers = [float(v) for v in raw.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(v) for v in numbers):
        raise bad("bbox", _("Use four numbers (or six, with heights): lower-left corner, then upper-right."))
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    x1, y1, x2, y2 = numbers
    if in_crs.lat_first:
        x1, y1, x2, y2 = y1, x1, y2, x2
    if in_crs.srid != 4326:
        if x1 > x2 or y1 > y2:
            raise bad("bbox", _("The lower-left corner must come first."))
        try:
            box = Polygon.from_bbox((x1, y1, x2, y2))
            box.srid = in_crs.srid
            x1, y1, x2, y2 = box.transform(4326, clone=True).extent
        except (GDALException, GEOSException, ValueError):
            raise bad("bbox", _("Outside the area this CRS covers.")) from None
    try:
        return parse_bbox(",".join(repr(v) for v in (x1, y1, x2, y2)))
    except ValidationError as exc:
        raise bad("bbox", exc.message_dict["bbox"][0]) from None


def parse_datetime_param(raw: str) -> tuple[datetime | None, datetime | None]:
    """An instant (a date: that whole day) or an interval start/end with '..' or nothing for
    an open end, RFC 3339 times or dates. Inclusive bounds; None is open."""
    def when(text: str, end_of_day: bool) -> datetime:
        try:
            return parse_when("datetime", text, end_of_day)
        except ValidationError as exc:
            raise bad("datetime", exc.message_dict["datetime"][0]) from None

    raw = raw.strip()
    if "/" not in raw:
        if raw in ("", ".."):
            raise bad("datetime", _("Use an instant, or an interval start/end where '..' leaves an end open."))
        return when(raw, False), when(raw, True)
    first, _slash, second = raw.partition("/")
    start = None if first in ("", "..") else when(first, False)
    end = None if second in ("", "..") else when(second, True)
    if start is None and end is None:
        raise bad("datetime", _("At least one end of the interval must be given."))
    if start and end and start > end:
        raise bad("datetime", _("The interval starts after it ends."))
    return start, end


def parse_items(query: QueryDict, queryables: tuple[str, ...], temporal: bool) -> ItemsQuery:
    """The items parameters of a collection with these queryables, and `datetime` if it has time."""
    allowed = set(COMMON) | set(ITEMS) | set(queryables)
    if not temporal:
        allowed.discard("datetime")
    check_known(query, allowed)
    found: dict = {}
    for name in ("limit", "bbox", "datetime", "crs", "bbox-crs"):
        if name in query and not query[name].strip():
            raise bad(name, _("Give a value or leave the parameter out."))
    if "limit" in query:
        found["limit"] = parse_limit(query["limit"])
    if "crs" in query:
        found["crs"] = parse_crs("crs", query["crs"])
    if "bbox" in query:
        bbox_crs = parse_crs("bbox-crs", query["bbox-crs"]) if "bbox-crs" in query else crs_.supported()[crs_.CRS84]
        found["bbox"] = parse_ogc_bbox(query["bbox"], bbox_crs)
    elif "bbox-crs" in query:
        parse_crs("bbox-crs", query["bbox-crs"])
    if "datetime" in query:
        found["start"], found["end"] = parse_datetime_param(query["datetime"])
    if query.get("cursor"):
        found["cursor"] = query["cursor"]
    found["filters"] = {name: [v.strip() for v in query[name].split(",") if v.strip()]
                        for name in queryables if query.get(name, "").strip()}
    return ItemsQuery(**found)
