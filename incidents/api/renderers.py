"""The GeoJSON renderer of the API: GeoJSON bodies are built in SQL (incidents.read.geojson)
and passed through as they are."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer


class GeoJSONRenderer(JSONRenderer):
    """Lets clients ask for application/geo+json, which is what these endpoints return."""

    media_type = "application/geo+json"
    format = "geojson"
