"""The tile tests' world: tests/world.py's wards, departments and categories, with reports placed
by hand near lon 105.72, lat 10.02 (SRID 4326), one of them in a sensitive category published on
a 100 m grid, whose every private field holds a marker that must never reach a tile."""

from __future__ import annotations

import math

import mapbox_vector_tile
from django.contrib.auth import get_user_model

from gis.tiles import Tile, tile_at
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Category
from incidents.triage import add_note
from tests.world import build_world, project

HOME = (105.72, 10.02)
MARKERS = ("MARKER-NAME", "marker-email@example.vn", "0987 111 222", "203.0.113.77", "MARKER-NOTE")
OPEN_ONLY = "status=new,acknowledged,in_progress,reopened"


def build_tile_world(c) -> None:
    build_world(c)
    c.reports = [submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                                           description=f"report {i}",
                                           reporter=Reporter(name="Secret Name", email="secret@example.vn")))
                 for i, (lon, lat) in enumerate(project(*HOME, i * 150, 90) for i in range(4))]
    Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100)
    c.exact = (105.7234567, 10.0234567)
    c.sensitive = submit_report(ReportDraft(
        category_code="illegal-construction", lon=c.exact[0], lat=c.exact[1], description="xây thêm tầng",
        reporter=Reporter(name=MARKERS[0], email=MARKERS[1], phone=MARKERS[2]), reporter_ip=MARKERS[3]))
    c.operator = get_user_model().objects.create_user("operator", "operator@example.vn", "pw-operator")
    add_note(c.sensitive.pk, MARKERS[4], actor=c.operator)
    c.sensitive.refresh_from_db()


def url(layer: str, tile: Tile, query: str = "") -> str:
    return f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.mvt" + (f"?{query}" if query else "")


def home_tile(z: int) -> Tile:
    return tile_at(*HOME, z)


def decode(content: bytes) -> dict:
    """The layers of an MVT, coordinates in tile units with y growing downwards (as encoded)."""
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})


def lonlat(tile: Tile, x: float, y: float, extent: int = 4096) -> tuple[float, float]:
    """A tile-unit position (y downwards) as lon/lat (SRID 4326)."""
    n = 2**tile.z
    lon = (tile.x + x / extent) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (tile.y + y / extent) / n))))
    return lon, lat
