"""The OpenAPI 3.0 description of the OGC API (its `service-desc`), made from the collections
themselves so that it cannot drift from what the views accept: one path per collection, each
with exactly the parameters that collection takes (anything else answers 400)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from incidents.ogc import crs as crs_
from incidents.ogc.collections import COLLECTIONS, Collection
from incidents.ogc.params import DEFAULT_LIMIT, MAX_LIMIT

JSON_TYPES = {"string": "string", "integer": "integer", "date-time": "string", "number": "number"}


def _link() -> dict:
    return {"type": "object", "required": ["href", "rel"],
            "properties": {name: {"type": "string"} for name in ("href", "rel", "type", "title", "hreflang")}}


def _param(name: str, description: str, schema: dict, style: str | None = None) -> dict:
    param = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    if style:
        param |= {"style": style, "explode": False}
    return param


def _components() -> dict:
    crs_enum = list(crs_.supported())
    ref = {"$ref": "#/components/schemas/link"}
    return {
        "parameters": {
            "f": _param("f", _("Output format (also chosen by the Accept header)."),
                        {"type": "string", "enum": ["json", "html"]}),
            "lang": _param("lang", _("Language of names and titles (also chosen by Accept-Language)."),
                           {"type": "string", "enum": ["vi", "en"]}),
            "bbox": _param("bbox", _("Only features whose geometry meets this box: lower-left then upper-right "
                                     "corner, in bbox-crs (default CRS84, longitude first)."),
                           {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}, "form"),
            "bbox-crs": _param("bbox-crs", _("CRS of bbox."), {"type": "string", "format": "uri", "enum": crs_enum}),
            "crs": _param("crs", _("CRS of the geometries in the answer (named in its Content-Crs header)."),
                          {"type": "string", "format": "uri", "enum": crs_enum}),
            "limit": _param("limit", _("Features per page; above the maximum, the maximum."),
                            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}, "form"),
            "datetime": _param("datetime", _("An instant or an interval (RFC 3339; '..' leaves an end open), "
                                             "e.g. 2026-01-01/.. or ../2026-01-01T00:00:00Z."), {"type": "string"}),
            "cursor": _param("cursor", _("Where a page starts: use the 'next' or 'prev' link as given."),
                               {"type": "string"}),
        },
        "schemas": {
            "link": _link(),
            "exception": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string"}, "description": {"type": "string"}, "parameter": {"type": "string"}}},
            "landingPage": {"type": "object", "required": ["links"], "properties": {
                "title": {"type": "string"}, "description": {"type": "string"},
                "links": {"type": "array", "items": ref}}},
            "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
                "conformsTo": {"type": "array", "items": {"type": "string"}}}},
            "collection": {"type": "object", "required": ["id", "links"], "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                "links": {"type": "array", "items": ref}, "extent": {"type": "object"},
                "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}},
                "storageCrs": {"type": "string"}}},
            "collections": {"type": "object", "required": ["links", "collections"], "properties": {
                "links": {"type": "array", "items": ref},
                "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}}},
            "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
                "type": {"type": "string", "enum": ["Feature"]}, "id": {"oneOf": [{"type": "string"},
                                                                                  {"type": "integer"}]},
                "geometry": {"type": "object", "nullable": True}, "properties": {"type": "object", "nullable": True},
                "links": {"type": "array", "items": ref}}},
            "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"], "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                "links": {"type": "array", "items": ref}, "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0}}},
        },
        "responses": {
            "400": {"description": _("A parameter is malformed or unknown; the body names it."),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
            "404": {"description": _("No such collection or feature."),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
            "429": {"description": _("Too many requests from this address; see Retry-After."),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
        },
    }


def _ok(schema: str, media: str = "application/json", description: str = "OK") -> dict:
    return {"description": description, "content": {
        media: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
        "text/html": {"schema": {"type": "string"}}}}


def _errors(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/{code}"} for code in codes}


def _get(summary: str, operation_id: str, tag: str, parameters: list, responses: dict) -> dict:
    return {"get": {"summary": summary, "operationId": operation_id, "tags": [tag], "parameters": parameters,
                    "responses": responses}}


def _collection_paths(c: Collection) -> dict:
    common = [{"$ref": "#/components/parameters/f"}, {"$ref": "#/components/parameters/lang"}]
    items_params = [{"$ref": f"#/components/parameters/{name}"}
                    for name in ("bbox", "bbox-crs", "limit", "crs", "cursor")]
    if c.time_property:  # declared per collection: which time it filters on
        datetime_param = _components()["parameters"]["datetime"] | {"description": _(
            "An instant or an interval (RFC 3339; '..' leaves an end open), e.g. 2026-01-01/.. or "
            "../2026-01-01T00:00:00Z, on %(property)s.") % {"property": c.time_property}}
        items_params.insert(2, datetime_param)
    for q in c.queryables:
        items_params.append(_param(q.name, str(q.description) + " " + _("Several values: separated by commas."),
                                   {"type": "string"}))
    feature_id = {"name": "featureId", "in": "path", "required": True, "description": _("The feature's id."),
                  "schema": {"type": "string"}}
    base = f"/collections/{c.id}"
    geojson_feature = _ok("featureGeoJSON", "application/geo+json")
    return {
        base: _get(str(c.title), f"describe_{c.id}", c.id, common, {"200": _ok("collection")} | _errors("400", "404")),
        f"{base}/queryables": _get(_("Properties %(id)s can be filtered by") % {"id": c.id}, f"queryables_{c.id}",
                                   c.id, common, {"200": {"description": "JSON Schema", "content": {
                                       "application/schema+json": {"schema": {"type": "object"}}}}}
                                   | _errors("400", "404")),
        f"{base}/items": _get(_("Features of %(id)s") % {"id": c.id}, f"items_{c.id}", c.id, common + items_params,
                              {"200": _ok("featureCollectionGeoJSON", "application/geo+json")}
                              | _errors("400", "404", "429")),
        f"{base}/items/{{featureId}}": _get(_("One feature of %(id)s") % {"id": c.id}, f"feature_{c.id}", c.id,
                                            [feature_id, *common, {"$ref": "#/components/parameters/crs"}],
                                            {"200": geojson_feature} | _errors("400", "404", "429")),
    }


def document(base_url: str) -> dict:
    """The OpenAPI 3.0 document of the OGC API served at `base_url` (…/ogc)."""
    common = [{"$ref": "#/components/parameters/f"}, {"$ref": "#/components/parameters/lang"}]
    paths = {
        "/": _get(_("Landing page"), "landing", "server", common, {"200": _ok("landingPage")} | _errors("400")),
        "/conformance": _get(_("Conformance classes"), "conformance", "server", common,
                             {"200": _ok("confClasses")} | _errors("400")),
        "/api": _get(_("This API description"), "api", "server", [], {"200": {
            "description": "OpenAPI 3.0", "content": {"application/vnd.oai.openapi+json;version=3.0": {
                "schema": {"type": "object"}}}}}),
        "/collections": _get(_("Collections"), "collections", "server", common,
                             {"200": _ok("collections")} | _errors("400")),
    }
    for collection in COLLECTIONS.values():
        paths |= _collection_paths(collection)
    return {
        "openapi": "3.0.3",
        "info": {"title": _("Citypin open data: OGC API – Features"), "version": "1.0.0",
                 "description": _("Public reports, incidents, hotspots and areas as OGC API – Features "
                                  "collections (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS; queryables)."),
                 "license": {"name": settings.CITYPIN_DATA_LICENSE[0],
                             **({"url": settings.CITYPIN_DATA_LICENSE[1]} if len(settings.CITYPIN_DATA_LICENSE) > 1
                                else {})}},
        "servers": [{"url": base_url}],
        "tags": [{"name": "server"}] + [{"name": c.id, "description": str(c.description)}
                                        for c in COLLECTIONS.values()],
        "paths": paths,
        "components": _components(),
    }
