"""OGC API – Tiles (Part 1: Core 1.0) for the tile layers: the tileset list of a layer, its one
tileset's metadata (the WebMercatorQuad tile matrix set, EPSG:3857, the same tiles as
/tiles/<layer>/<z>/<x>/<y>.mvt), and tiles at the standard's path
.../tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol} (row is y, column is x).

An OGC API – Features collection links here with the relation
http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector.
"""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from gis.tiles import tile_at
from incidents.http.opendata import open_data
from incidents.tiles.layers import LAYERS, Layer
from incidents.tiles.views import (
    MVT,
    TILEJSON_CENTER_ZOOM,
    TILEJSON_MAXZOOM,
    area_bounds,
    error,
    tile_response,
    unknown_layer,
)

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOMETRY_DIMENSION = {"reports": 0, "incidents": 0, "hotspots": 2, "areas": 2}


def json_response(document: dict) -> JsonResponse:
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=300"
    return response


def tileset_summary(request: HttpRequest, layer: Layer) -> dict:
    url = request.build_absolute_uri(reverse("tiles:tileset", args=[layer.name, TMS_ID]))
    return {"title": str(layer.description), "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": TMS_URI,
            "links": [{"rel": "self", "type": "application/json", "href": url},
                      {"rel": TILING_SCHEME, "href": TMS_URI}]}


@open_data
@require_safe
def tileset_list(request: HttpRequest, layer: str) -> HttpResponse:
    found = LAYERS.get(layer)
    if found is None:
        return unknown_layer(layer)
    self_url = request.build_absolute_uri(reverse("tiles:tilesets", args=[found.name]))
    return json_response({"tilesets": [tileset_summary(request, found)],
                          "links": [{"rel": "self", "type": "application/json", "href": self_url}]})


def matrix_limits(bounds: list[float]) -> list[dict]:
    """Per zoom, the rows and columns of tiles that hold data (the areas' box)."""
    limits = []
    for z in range(TILEJSON_MAXZOOM + 1):
        top_left, bottom_right = tile_at(bounds[0], bounds[3], z), tile_at(bounds[2], bounds[1], z)
        limits.append({"tileMatrix": str(z), "minTileRow": top_left.y, "maxTileRow": bottom_right.y,
                       "minTileCol": top_left.x, "maxTileCol": bottom_right.x})
    return limits


@open_data
@require_safe
def tileset(request: HttpRequest, layer: str, tms: str) -> HttpResponse:
    found = LAYERS.get(layer)
    if found is None:
        return unknown_layer(layer)
    if tms != TMS_ID:
        return error(404, "tileMatrixSetId", _("Only %(tms)s is served.") % {"tms": TMS_ID})
    bounds = area_bounds()
    base = request.build_absolute_uri(reverse("tiles:tileset", args=[found.name, TMS_ID]))
    properties = {name: {"description": str(text)} for name, text in found.fields.items()}
    document = tileset_summary(request, found) | {
        "description": str(found.description),
        "tileMatrixSetLimits": matrix_limits(bounds),
        "boundingBox": {"lowerLeft": bounds[:2], "upperRight": bounds[2:], "crs": CRS84},
        "centerPoint": {"coordinates": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6)],
                        "tileMatrix": str(TILEJSON_CENTER_ZOOM), "crs": CRS84},
        "layers": [{"id": found.name, "title": str(found.description), "dataType": "vector",
                    "geometryDimension": GEOMETRY_DIMENSION[found.name], "minTileMatrix": "0",
                    "maxTileMatrix": str(TILEJSON_MAXZOOM),
                    "propertiesSchema": {"type": "object", "properties": properties}}],
    }
    document["links"] += [
        {"rel": "item", "type": MVT, "templated": True, "href": base + "/{tileMatrix}/{tileRow}/{tileCol}"},
        {"rel": "describedby", "type": "application/json",
         "href": request.build_absolute_uri(reverse("tiles:tilejson", args=[found.name])), "title": "TileJSON"},
    ]
    return json_response(document)


@require_safe
@csp_exempt()
def ogc_tile_response(request: HttpRequest, layer: str, tms: str, z: str, row: str, col: str) -> HttpResponse:
    """A tile at OGC API – Tiles' path: the same tile as /tiles/<layer>/<z>/<col>/<row>.mvt."""
    if tms != TMS_ID:
        return error(404, "tileMatrixSetId", _("Only %(tms)s is served.") % {"tms": TMS_ID})
    return tile_response(request, layer, z, col, row)


ogc_tile = open_data(ogc_tile_response, whole=True)
