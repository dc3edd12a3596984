"""Map widgets for the admin that work with no CDN and no public tile server reachable:
OpenLayers comes from the npm package served as static files, tiles from the tile setting."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.forms.widgets import OSMWidget


class OfflineMapWidget(OSMWidget):
    template_name = "geo/openlayers-tiles.html"

    class Media:
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/dist/ol.js", "gis/js/OLMapWidget.js")

    def __init__(self, attrs=None):
        lon, lat = settings.CITYPIN_MAP_CENTER
        super().__init__({"default_lon": lon, "default_lat": lat, "default_zoom": settings.CITYPIN_MAP_ZOOM,
                          **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tile_url"] = settings.CITYPIN_TILE_URL
        context["tile_attribution"] = settings.CITYPIN_TILE_ATTRIBUTION
        return context
