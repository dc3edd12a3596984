"""Vector tiles and their TileJSON documents: parse, run the layer's one query, respond.

Caching: a tile's ETag is strong and made of the data version of the tables the layer draws on
(read in the same snapshot as the tile) and of what else decides the bytes (layer, z/x/y,
language, filters, TILE_FORMAT). Responses say `Cache-Control: public, no-cache`: anyone may
store a tile but must revalidate it before each use, so a report made private, rejected or
moved never lingers in a cache; revalidating costs one tiny query (the version) and answers
304 while nothing under the layer changed.
"""

from __future__ import annotations

import hashlib
import json

from csp.decorators import csp_exempt
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from gis.tiles import MAX_ZOOM, Tile, TileError
from incidents.http.opendata import open_data
from incidents.prepared import execute
from incidents.read.query import ReportQuery
from incidents.read.replicas import read_connection
from incidents.read.sql import language
from incidents.read.versions import data_version
from incidents.tiles.layers import LAYERS, POINTS_FROM_ZOOM, TILE_TYPES, Layer

MVT = "application/vnd.mapbox-vector-tile"
TILE_FORMAT = "1"  # bump when the tiles' bytes change for the same data (a new field, another grid)
TILE_CACHE_CONTROL = "public, no-cache"
TILEJSON_MAXZOOM = 18  # clients overzoom beyond it; points are no finer
TILEJSON_CENTER_ZOOM = 12

# The lon/lat box of every area (SRID 4326), for TileJSON's bounds.
BOUNDS_SQL = "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(boundary) AS e FROM geo_area) q"


def error(status: int, name: str, message: str) -> JsonResponse:
    return JsonResponse({name: [message]}, status=status, json_dumps_params={"ensure_ascii": False})


def find_layer(name: str) -> Layer | None:
    return LAYERS.get(name)


def unknown_layer(name: str) -> JsonResponse:
    return error(404, "layer", _("Unknown layer: %(name)s. Use one of: %(all)s.") % {
        "name": name[:40], "all": ", ".join(LAYERS)})


class BadTile(Exception):
    """A tile address that is no tile: the status to answer (400: not a whole number, 404: no
    such tile) and the coordinate and message to name."""

    def __init__(self, status: int, part: str, message: str):
        super().__init__(message)
        self.status, self.part, self.message = status, part, message


def parse_tile(z: str, x: str, y: str) -> Tile:
    numbers = {}
    for part, raw in (("z", z), ("x", x), ("y", y)):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 8:
            raise BadTile(400, part, _("Must be a whole number from 0."))
        numbers[part] = int(raw)
    try:
        return Tile.checked(numbers["z"], numbers["x"], numbers["y"])
    except TileError as exc:
        message = (_("Zoom levels run from 0 to %(max)s.") % {"max": MAX_ZOOM} if exc.part == "z" else
                   _("At zoom %(z)s, %(part)s runs from 0 to %(max)s.") % {
                       "z": numbers["z"], "part": exc.part, "max": 2 ** numbers["z"] - 1})
        raise BadTile(404, exc.part, message) from None


def etag(layer: Layer, tile: Tile, lang: str, query: str, version: int) -> str:
    key = f"{TILE_FORMAT}|{layer.name}|{tile.z}/{tile.x}/{tile.y}|{lang}|{query}"
    return f'"{version:x}-{hashlib.blake2b(key.encode(), digest_size=10).hexdigest()}"'


def matches(request: HttpRequest, tag: str) -> bool:
    """If-None-Match names this ETag (weak comparison, as RFC 9110 says for If-None-Match)."""
    header = request.META.get("HTTP_IF_NONE_MATCH")  # not request.headers: that builds a dict of every header
    if not header:
        return False
    tags = [t.removeprefix("W/") for t in parse_etags(header)]
    return "*" in tags or tag in tags


def no_content() -> HttpResponse:
    """204: nothing in the tile, so no Content-Type either (Django would say text/html)."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


def cached_headers(response: HttpResponse, tag: str) -> HttpResponse:
    response["ETag"] = tag
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response


def tile_response(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    """One Mapbox vector tile: 200 with the MVT, 204 if nothing is in it, 304 if unchanged."""
    found = find_layer(layer)
    if found is None:
        return unknown_layer(layer)
    try:
        address = parse_tile(z, x, y)
        # Most tiles are asked for without filters: no query string to parse (None: no filter).
        filtered = found.filtered and request.META.get("QUERY_STRING")
        report_query = ReportQuery.parse(request.GET) if filtered else None
    except BadTile as exc:
        return error(exc.status, exc.part, exc.message)
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400, json_dumps_params={"ensure_ascii": False})
    lang = language(get_language())
    query = "&".join(sorted(request.GET.urlencode().split("&"))) if filtered else ""
    if request.META.get("HTTP_IF_NONE_MATCH"):
        tag = etag(found, address, lang, query, data_version(found.tables))
        if matches(request, tag):
            return cached_headers(HttpResponse(status=304), tag)
    sql, params = found.query(address, lang, report_query)
    with read_connection().cursor() as cursor:
        # Unfiltered (most tiles), the query is one of a few shapes: prepared once per session.
        execute(cursor, sql, params, TILE_TYPES if report_query is None else None)
        version, mvt = cursor.fetchone()
    tag = etag(found, address, lang, query, int(version))
    if not mvt:
        return cached_headers(no_content(), tag)
    return cached_headers(HttpResponse(bytes(mvt), content_type=MVT), tag)


# A tile is no document: no Content-Security-Policy header to build for it.
tile = open_data(require_safe(csp_exempt()(tile_response)), whole=True)


def area_bounds() -> list[float]:
    with read_connection().cursor() as cursor:
        cursor.execute(BOUNDS_SQL)
        bounds = cursor.fetchone()
    return [round(v, 6) for v in bounds] if bounds and bounds[0] is not None else [-180, -85.051129, 180, 85.051129]


@open_data
@require_safe
def tilejson(request: HttpRequest, layer: str) -> HttpResponse:
    """TileJSON 3.0.0 for one layer: where its tiles are, their zooms, bounds and fields.
    Report filters given here (category, status…) are carried into the tile URL."""
    found = find_layer(layer)
    if found is None:
        return unknown_layer(layer)
    query = ""
    if found.filtered and request.GET:
        try:
            ReportQuery.parse(request.GET)
        except ValidationError as exc:
            return JsonResponse(exc.message_dict, status=400, json_dumps_params={"ensure_ascii": False})
        query = "?" + request.GET.urlencode()
    base = request.build_absolute_uri(reverse("tiles:index") + found.name + "/")
    bounds = area_bounds()
    document = {
        "tilejson": "3.0.0",
        "name": f"Citypin {found.name}",
        "description": str(found.description),
        "scheme": "xyz",
        "tiles": [base + "{z}/{x}/{y}.mvt" + query],
        "minzoom": 0,
        "maxzoom": TILEJSON_MAXZOOM,
        "bounds": bounds,
        "center": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), TILEJSON_CENTER_ZOOM],
        "vector_layers": [{
            "id": found.name,
            "description": str(found.description),
            "minzoom": 0,
            "maxzoom": TILEJSON_MAXZOOM,
            "fields": {name: str(text) for name, text in found.fields.items()},
        }],
    }
    if found.filtered:
        document["points_from_zoom"] = POINTS_FROM_ZOOM  # below it, the layer carries grid counts
    response = HttpResponse(json.dumps(document, ensure_ascii=False), content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response


@open_data
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The tile layers and their TileJSON documents."""
    layers = [{"id": layer.name, "description": str(layer.description),
               "tilejson": request.build_absolute_uri(reverse("tiles:tilejson", args=[layer.name]))}
              for layer in LAYERS.values()]
    return JsonResponse({"layers": layers}, json_dumps_params={"ensure_ascii": False})
