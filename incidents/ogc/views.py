"""OGC API – Features views: parse (params.py), read (collections.py), respond in JSON or HTML.

The format is `f=json|html`, else the Accept header (a browser gets HTML, a client asking for
JSON or nothing in particular gets JSON). The language is `lang=vi|en`, else the one
LocaleMiddleware chose from the cookie or Accept-Language. Every view is an open-data read
(CORS, a per-IP limit) and answers errors as the standard's JSON exception, 400 or 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache, wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe

from incidents.http.opendata import open_data
from incidents.ogc import crs as crs_
from incidents.ogc.collections import COLLECTIONS, Collection, extent, feature, items_page
from incidents.ogc.openapi import document
from incidents.ogc.params import COMMON, ItemsQuery, OgcError, bad, check_known, not_found, parse_crs, parse_items
from incidents.read.geojson import feature_collection
from incidents.read.sql import language

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
ITEMS_TITLES = {"json": _lazy("This page as GeoJSON"), "html": _lazy("This page as HTML"), "next": _lazy("Next page"),
                "prev": _lazy("Previous page"), "first": _lazy("First page")}
ID_PROPERTIES = ("id", "public_id", "code")  # shown once, as the feature's id, in HTML tables
EXTENT_SECONDS = 60  # how long a collection's extent is reused before it is read again
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)


def ogc_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An open-data GET whose OgcErrors become their JSON answer, in the language asked for."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            lang = request.GET.get("lang")
            if lang is not None and lang not in ("vi", "en"):
                raise bad("lang", _("Use vi or en."))
            with translation.override(lang or translation.get_language()):
                return view(request, *args, **kwargs)
        except OgcError as exc:
            return HttpResponse(json.dumps(exc.body(), ensure_ascii=False), status=exc.status,
                                content_type=JSON)

    return open_data(require_safe(wrapped), whole=True)  # every OGC answer is whole, none streamed


def wants_html(request: HttpRequest) -> bool:
    """HTML or JSON, decided once per request (several links depend on it)."""
    if not hasattr(request, "ogc_html"):
        f = request.GET.get("f")
        if f is not None and f not in ("json", "html"):
            raise bad("f", _("Use json or html."))
        request.ogc_html = f == "html" if f else prefers_html(request.META.get("HTTP_ACCEPT", ""))
    return request.ogc_html


@lru_cache(maxsize=256)
def prefers_html(accept: str) -> bool:
    """Whether an Accept header prefers HTML to JSON and GeoJSON. Clients send few distinct
    headers, so each is parsed once per process, not on every page."""
    request = HttpRequest()
    request.META["HTTP_ACCEPT"] = accept
    return request.get_preferred_type([JSON, GEOJSON, HTML]) == HTML


def url(request: HttpRequest, name: str, query: dict | None = None, **kwargs) -> str:
    path = reverse(f"ogc:{name}", kwargs=kwargs)
    return request.build_absolute_uri(path) + ("?" + urlencode(query) if query else "")


def link(href: str, rel: str, type_: str, title: str = "") -> dict:
    return {"href": href, "rel": rel, "type": type_, **({"title": title} if title else {})}


def self_links(request: HttpRequest, name: str, json_type: str = JSON, **kwargs) -> list[dict]:
    """self and alternate, each way round, keeping the request's other parameters."""
    kept = {k: v for k, v in request.GET.items() if k != "f"}
    html = wants_html(request)
    as_json = link(url(request, name, kept | {"f": "json"}, **kwargs), "alternate" if html else "self", json_type,
                   _("This document as JSON"))
    as_html = link(url(request, name, kept | {"f": "html"}, **kwargs), "self" if html else "alternate", HTML,
                   _("This document as HTML"))
    return [as_json, as_html] if not html else [as_html, as_json]


def respond(request: HttpRequest, body: dict, template: str, context: dict | None = None,
            content_type: str = JSON) -> HttpResponse:
    if wants_html(request):
        return render(request, f"ogc/{template}", {"doc": body, **(context or {})})
    return HttpResponse(json.dumps(body, ensure_ascii=False, default=str), content_type=content_type)


def get_collection(collection_id: str) -> Collection:
    if collection_id not in COLLECTIONS:
        raise not_found(_("No collection %(id)s. There are: %(all)s.") % {
            "id": collection_id[:60], "all": ", ".join(COLLECTIONS)})
    return COLLECTIONS[collection_id]


@ogc_view
def landing(request: HttpRequest) -> HttpResponse:
    check_known(request.GET, COMMON)
    body = {
        "title": _("Citypin open data"),
        "description": _("Reports of urban problems, the incidents they describe, hotspots and the city's areas, "
                         "as OGC API – Features."),
        "links": self_links(request, "landing") + [
            link(url(request, "api"), "service-desc", OPENAPI, _("The API definition (OpenAPI 3.0)")),
            link(url(request, "api-docs"), "service-doc", HTML, _("The API documentation")),
            link(url(request, "conformance"), "conformance", JSON, _("Conformance classes")),
            link(url(request, "collections"), "data", JSON, _("Collections")),
        ] + ([link(settings.CITYPIN_DATA_LICENSE[1], "license", HTML, settings.CITYPIN_DATA_LICENSE[0])]
             if len(settings.CITYPIN_DATA_LICENSE) > 1 else []),
    }
    return respond(request, body, "landing.html")


@ogc_view
def conformance(request: HttpRequest) -> HttpResponse:
    check_known(request.GET, COMMON)
    return respond(request, {"links": self_links(request, "conformance"), "conformsTo": list(CONFORMANCE)},
                   "conformance.html")


@ogc_view
def api(request: HttpRequest) -> HttpResponse:
    check_known(request.GET, ("f",))
    base = request.build_absolute_uri(reverse("ogc:landing")).rstrip("/")
    return HttpResponse(json.dumps(document(base), ensure_ascii=False), content_type=OPENAPI)


@ogc_view
def api_docs(request: HttpRequest) -> HttpResponse:
    check_known(request.GET, COMMON)
    return render(request, "ogc/api_docs.html", {"spec_url": reverse("ogc:api")})


def collection_document(request: HttpRequest, c: Collection) -> dict:
    bbox, times = cache.get_or_set(f"ogc:extent:{c.id}", lambda: extent(c), EXTENT_SECONDS)
    body = {
        "id": c.id, "title": str(c.title), "description": str(c.description),
        "links": [
            link(url(request, "collection", {"f": "json"}, collection_id=c.id), "self", JSON),
            link(url(request, "collection", {"f": "html"}, collection_id=c.id), "alternate", HTML),
            link(url(request, "items", {"f": "json"}, collection_id=c.id), "items", GEOJSON, _("Features as GeoJSON")),
            link(url(request, "items", {"f": "html"}, collection_id=c.id), "items", HTML, _("Features as HTML")),
            link(url(request, "queryables", collection_id=c.id), "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 "application/schema+json", _("Properties to filter by")),
            # the same layer as vector tiles (OGC API - Tiles, served under /tiles/)
            link(request.build_absolute_uri(f"/tiles/{c.id}/tiles"),
                 "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, _("Vector tiles")),
        ],
        "itemType": "feature",
        "crs": list(crs_.supported()),
        "storageCrs": crs_.CRS84,
        "extent": {},
    }
    if bbox:
        body["extent"]["spatial"] = {"bbox": [bbox], "crs": crs_.CRS84}
    if times:
        body["extent"]["temporal"] = {"interval": [times], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return body


@ogc_view
def collections(request: HttpRequest) -> HttpResponse:
    check_known(request.GET, COMMON)
    body = {"links": self_links(request, "collections"), "crs": list(crs_.supported()),
            "collections": [collection_document(request, c) for c in COLLECTIONS.values()]}
    return respond(request, body, "collections.html")


@ogc_view
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    c = get_collection(collection_id)
    check_known(request.GET, COMMON)
    body = collection_document(request, c)
    body["links"][:2] = self_links(request, "collection", collection_id=c.id)
    return respond(request, body, "collection.html", {"collection": c})


@ogc_view
def queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    c = get_collection(collection_id)
    check_known(request.GET, COMMON)
    schema = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url(request, "queryables", collection_id=c.id),
        "type": "object", "title": str(c.title), "additionalProperties": False,
        "properties": {q.name: {"title": q.name, "description": str(q.description),
                                "type": "string" if q.type == "date-time" else q.type} for q in c.queryables},
    }
    return respond(request, schema, "queryables.html", {"collection": c}, "application/schema+json")


def items_links(request: HttpRequest, c: Collection, next_cursor: str | None,
                prev_cursor: str | None = None) -> list[dict]:
    """self, alternate, collection, next, prev and first links of an items page: the request's
    own URL with its parameters, the format and the cursor changed. Built from the request's
    URL alone (no reverse): this runs on every page of the hottest resource."""
    # The kept parameters are encoded once; each link appends its cursor and format to them, in
    # the order urlencode would give (kept, cursor, f).
    kept = urlencode([(k, v) for k, v in request.GET.items() if k not in ("f", "cursor")])
    path = request.build_absolute_uri(request.path)
    base = path + "?" + (kept + "&" if kept else "")
    html = wants_html(request)
    cursor = request.GET.get("cursor")
    here = base + (urlencode({"cursor": cursor}) + "&" if cursor else "")
    own, own_type = ("html", HTML) if html else ("json", GEOJSON)
    titles = items_titles(translation.get_language())
    links = [
        link(here + "f=json", "alternate" if html else "self", GEOJSON, titles["json"]),
        link(here + "f=html", "self" if html else "alternate", HTML, titles["html"]),
        link(path.removesuffix("/items") + "?f=json", "collection", JSON, str(c.title)),
    ]
    for rel, to in (("next", next_cursor), ("prev", prev_cursor)):
        if to:
            links.append(link(f"{base}{urlencode({'cursor': to})}&f={own}", rel, own_type, titles[rel]))
    if cursor:  # back to the start
        links.append(link(f"{base}f={own}", "first", own_type, titles["first"]))
    return links


@lru_cache(maxsize=8)
def items_titles(language: str | None) -> dict[str, str]:
    """The items links' titles in the active language (made once per language: each lazy
    string translated again cost more than the rest of a link)."""
    return {rel: str(title) for rel, title in ITEMS_TITLES.items()}


def geojson_response(text: str, q: ItemsQuery) -> HttpResponse:
    response = HttpResponse(text, content_type=GEOJSON)
    response["Content-Crs"] = f"<{q.crs.uri}>"
    return response


@ogc_view
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    c = get_collection(collection_id)
    q = parse_items(request.GET, tuple(x.name for x in c.queryables), c.time_property is not None)
    html = wants_html(request)
    page = items_page(c, q, language())
    meta = {"links": items_links(request, c, page.next_cursor, page.prev_cursor), "numberReturned": len(page.features),
            "timeStamp": timezone.now().isoformat(timespec="seconds").replace("+00:00", "Z")}
    if page.number_matched is not None:
        meta["numberMatched"] = page.number_matched
    if html:
        features = [json.loads(f) for f in page.features]
        columns = [name for name in (features[0]["properties"] if features else {}) if name not in ID_PROPERTIES]
        rows = [(f["id"], [f["properties"].get(name) for name in columns]) for f in features]
        return render(request, "ogc/items.html", {"doc": meta, "collection": c, "columns": columns, "rows": rows,
                                                  "map_data": {"type": "FeatureCollection", "features": features},
                                                  **map_settings()})
    return geojson_response(feature_collection(page.features, "," + json.dumps(meta, ensure_ascii=False)[1:-1]), q)


@ogc_view
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    c = get_collection(collection_id)
    check_known(request.GET, COMMON + ("crs",))
    q = ItemsQuery(crs=parse_crs("crs", request.GET["crs"])) if request.GET.get("crs") else ItemsQuery()
    text = feature(c, feature_id, q, language())
    if text is None:
        raise not_found(_("No feature %(id)s in %(collection)s.") % {"id": feature_id[:60], "collection": c.id})
    links = self_links(request, "item", GEOJSON, collection_id=c.id, feature_id=feature_id) + [
        link(url(request, "collection", {"f": "json"}, collection_id=c.id), "collection", JSON, str(c.title))]
    if wants_html(request):
        data = json.loads(text)
        return render(request, "ogc/item.html", {"collection": c, "feature": data, "doc": {"links": links},
                                                 "map_data": data, **map_settings()})
    return geojson_response(text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}", q)


def map_settings() -> dict:
    return {"map_config": {"tiles": settings.CITYPIN_TILE_URL, "attribution": settings.CITYPIN_TILE_ATTRIBUTION,
                           "center": list(settings.CITYPIN_MAP_CENTER)[::-1], "zoom": settings.CITYPIN_MAP_ZOOM}}

