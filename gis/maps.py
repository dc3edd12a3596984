"""Folium map builders that work offline: Leaflet and its plugins come from npm packages
served as our own static files (never a CDN), tiles from the tile setting. Pages embed a map
as three parts (head, body, script) so it sits inside a normal Django template."""

from __future__ import annotations

import re
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from django.conf import settings
from django.templatetags.static import static
from folium.plugins import Draw
from jinja2 import Template


def _vendor(path: str) -> str:
    return static(f"vendor/{path}")


class OfflineMap(folium.Map):
    """folium.Map without its CDN assets (jQuery, Bootstrap, awesome-markers are not needed)."""

    def render(self, **kwargs):
        self.default_js = [("leaflet", _vendor("leaflet/dist/leaflet.js"))]
        self.default_css = [("leaflet_css", _vendor("leaflet/dist/leaflet.css"))]
        return super().render(**kwargs)


class PageScript(MacroElement):
    """Our own JavaScript, run after folium has created the map. `call` is a JS expression in
    which `MAP` stands for the map variable, e.g. "Citypin.publicMap(MAP)"."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.call_js }}{% endmacro %}")

    def __init__(self, call: str, js: list[str] = (), css: list[str] = ()):
        super().__init__()
        self._name = "PageScript"
        self.call = call
        self.default_js = [(f"js{i}", url) for i, url in enumerate(js)]
        self.default_css = [(f"css{i}", url) for i, url in enumerate(css)]

    def render(self, **kwargs):
        self.call_js = self.call.replace("MAP", self._parent.get_name())
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(folium.JavascriptLink(url), name=f"{self.get_name()}_{name}")
        for name, url in self.default_css:
            figure.header.add_child(folium.CssLink(url), name=f"{self.get_name()}_{name}")
        super().render(**kwargs)


class OfflineDraw(Draw):
    """folium's Draw (Leaflet.draw) from our static files. Drawing a shape fires Leaflet's
    "draw:created" event on the map, which page scripts listen to (e.g. for a lasso)."""

    def render(self, **kwargs):
        self.default_js = [("leaflet_draw_js", _vendor("leaflet-draw/dist/leaflet.draw.js"))]
        self.default_css = [("leaflet_draw_css", _vendor("leaflet-draw/dist/leaflet.draw.css"))]
        return super().render(**kwargs)


def lasso(m: folium.Map) -> folium.Map:
    """Add a drawing tool for selecting by polygon or rectangle (nothing else to draw)."""
    OfflineDraw(show_geometry_on_click=False, position="topleft",
                draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False,
                              "polygon": {"allowIntersection": False, "showArea": False}, "rectangle": {}},
                edit_options={"edit": False, "remove": False}).add_to(m)
    return m


MARKERCLUSTER_JS = "leaflet.markercluster/dist/leaflet.markercluster.js"
MARKERCLUSTER_CSS = ("leaflet.markercluster/dist/MarkerCluster.css", "leaflet.markercluster/dist/MarkerCluster.Default.css")


def base_map(center: tuple[float, float] | None = None, zoom: int | None = None) -> OfflineMap:
    """A map at `center` (lon, lat; WGS-84) with the configured tile layer."""
    lon, lat = center or settings.CITYPIN_MAP_CENTER
    m = OfflineMap(location=[lat, lon], zoom_start=zoom or settings.CITYPIN_MAP_ZOOM, tiles=None,
                   control_scale=True, width="100%", height="100%")
    folium.TileLayer(tiles=settings.CITYPIN_TILE_URL, attr=settings.CITYPIN_TILE_ATTRIBUTION, name="tiles",
                     max_zoom=19).add_to(m)
    return m


def with_script(m: folium.Map, call: str, js: list[str] = (), css: list[str] = (), vendor_js: list[str] = (),
                vendor_css: list[str] = ()) -> folium.Map:
    """Attach our page script (static paths under static/) plus vendor files (under node_modules)."""
    PageScript(call, js=[_vendor(p) for p in vendor_js] + [static(p) for p in js],
               css=[_vendor(p) for p in vendor_css] + [static(p) for p in css]).add_to(m)
    return m


@dataclass
class MapParts:
    head: str
    body: str
    script: str


ASSET_TAG = re.compile(r'<script src="[^"]+"></script>|<link rel="stylesheet" href="[^"]+"/>')


def render_parts(m: folium.Map) -> MapParts:
    """The map's asset tags (scripts deferred: run the script part on DOMContentLoaded), its div
    and its script. folium's page-level head (a viewport that
    forbids zooming, full-page html/body styles) is left out: our base template owns the page."""
    figure = m.get_root()
    figure.render()
    tags = list(dict.fromkeys(ASSET_TAG.findall(figure.header.render())))
    # Scripts are deferred, so they never hold up the page's first paint; they still run in order,
    # before DOMContentLoaded, which is when the page runs the map's own script.
    tags = [t.replace("<script src=", "<script defer src=") for t in tags]
    return MapParts(head="\n".join(tags), body=figure.html.render(), script=figure.script.render())
