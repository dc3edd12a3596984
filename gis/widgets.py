"""Map widgets for the admin that work with no CDN and no public tile server reachable:
OpenLayers comes from the npm package served as static files, tiles from the tile setting."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.forms.widgets import OSMWidget


class OfflineMapWidget(OSMWidget):
    template_name = "geo/openlayers-tiles.html"

    class Media:
        extend = False  # Django's own Media loads OpenLayers from a CDN
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/dist/ol.js", "gis/js/OLMapWidget.js", "geo/map-widget.js")

    def __init__(self, attrs=None):
        lon, lat = settings.CITYPIN_MAP_CENTER
        super().__init__({"default_lon": lon, "default_lat": lat, "default_zoom": settings.CITYPIN_MAP_ZOOM,
                          **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget_options_id"] = f"{context['id']}_options"
        context["widget_options"] = {
            "geom_name": context["geom_type"], "id": context["id"], "map_id": f"{context['id']}_map",
            "map_srid": context["map_srid"], "name": context["name"], "module": context["module"],
            "default_lon": context["default_lon"], "default_lat": context["default_lat"],
            "default_zoom": context["default_zoom"],
            "tile_url": settings.CITYPIN_TILE_URL, "tile_attribution": settings.CITYPIN_TILE_ATTRIBUTION,
        }
        return context
