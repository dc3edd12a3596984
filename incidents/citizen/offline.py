"""Installable and usable with no connection: the web app manifest, the service worker and the
page shown offline for a page this phone never opened.

The service worker is a template served from the site's root (/sw.js), so its scope is the
whole site without a Service-Worker-Allowed header, and it names the files it precaches by the
URLs the pages use: in production those carry their content hash (ManifestStaticFilesStorage),
so a new static file makes a new precache list, a new worker version and a new cache. In
development the names carry no hash, so the files' modification times stand in.

A report made with no connection waits in the browser (static/citypin/outbox.js, IndexedDB) and
is sent to the report form's own endpoint, photos and all, with the form's one-time submission
token as its Idempotency-Key; the API takes no photos (JSON only)."""

from __future__ import annotations

import hashlib
import json
import os

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import PrefixNode, static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gis.maps import MARKERCLUSTER_CSS, MARKERCLUSTER_JS
from incidents.citizen.layers import ward_layer_url

THEME = "#0b6e4f"  # site.css --brand
BACKGROUND = "#f7f9fa"  # site.css --bg

# Static files (under static/) the citizen pages need to open with no connection.
SHELL_STATIC = (
    "citypin/site.css", "citypin/citypin.js", "citypin/offline.js", "citypin/outbox.js",
    "citypin/icon.svg", "citypin/icon-192.png",
    "vendor/leaflet/dist/leaflet.js", "vendor/leaflet/dist/leaflet.css",
    "vendor/leaflet/dist/images/marker-icon.png", "vendor/leaflet/dist/images/marker-icon-2x.png",
    "vendor/leaflet/dist/images/marker-shadow.png",
    f"vendor/{MARKERCLUSTER_JS}", *(f"vendor/{css}" for css in MARKERCLUSTER_CSS),
    "vendor/exifr/dist/lite.umd.js",
)
WORKER_TEMPLATE = "citypin/sw.js"


def shell_urls() -> list[str]:
    """What the worker precaches: the map, the form, the offline page, the ward outlines and
    the static files above, by the URLs the pages name them with."""
    return ["/", reverse("report"), reverse("offline"), ward_layer_url(), *(static(p) for p in SHELL_STATIC)]


def _version(precache: list[str]) -> str:
    digest = hashlib.sha256(json.dumps(precache).encode())
    if settings.DEBUG or not settings.STATIC_ROOT or "Manifest" not in settings.STORAGES["staticfiles"]["BACKEND"]:
        for path in SHELL_STATIC:
            found = finders.find(path)
            if found:
                digest.update(str(os.stat(found).st_mtime_ns).encode())
    template = get_template(WORKER_TEMPLATE).origin.name
    digest.update(str(os.stat(template).st_mtime_ns).encode())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    precache = shell_urls()
    response = render(request, WORKER_TEMPLATE, {
        "version": _version(precache), "precache": json.dumps(precache),
        "static_prefix": PrefixNode.handle_simple("STATIC_URL"),  # static("") has no manifest entry
        "outbox_js": static("citypin/outbox.js"), "offline_url": reverse("offline")},
        content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # the browser asks for a new worker on every visit
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest in the page's language (?lang=, which the page's link carries:
    browsers fetch a manifest without cookies), else the request's."""
    language = request.GET.get("lang", "")
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    with translation.override(language):
        body = {
            "name": _("Citypin: report urban problems"), "short_name": "Citypin",
            "description": _("Report urban problems on a map; see what the city did."),
            "lang": language, "dir": "ltr", "id": "/", "start_url": "/", "scope": "/",
            "display": "standalone", "background_color": BACKGROUND, "theme_color": THEME,
            "icons": [
                {"src": static("citypin/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("citypin/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": static("citypin/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
                {"src": static("citypin/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
            ],
        }
    response = JsonResponse(body, content_type="application/manifest+json",
                            json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "citypin/offline.html")
