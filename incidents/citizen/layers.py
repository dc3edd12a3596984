"""The ward outlines every map page draws under its reports, as one cacheable file.

Its URL carries the areas' data version and the zoom it is simplified for
(/map/wards-<version>-<zoom>.geojson), so a browser keeps it for a year and reuses it from page
to page and visit to visit, and a changed boundary gets a new URL. The view reads no session
and no user, so the answer varies on nothing but the language header Django always names (the
file carries both names). The pages ask for it after their first paint."""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from incidents.read.geojson import feature_collection
from incidents.read.layers import area_features, areas_version

WARD_ZOOM = 11  # simplified to half a pixel at zoom 11 (~38 m a pixel): the city-wide views
YEAR = 365 * 24 * 3600


def ward_layer_url() -> str:
    return reverse("ward-layer", kwargs={"version": areas_version(), "zoom": WARD_ZOOM})


@require_GET
def ward_layer(request, version: int, zoom: int):
    if not 8 <= zoom <= 16:
        raise Http404
    current = areas_version()
    if version != current:  # an old page: the current file, under its own URL
        return redirect("ward-layer", version=current, zoom=zoom)
    etag = f'"wards-{current}-{zoom}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        body = feature_collection(area_features({"kind": "ward", "zoom": str(zoom)}))
        response = HttpResponse(body, content_type="application/geo+json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
