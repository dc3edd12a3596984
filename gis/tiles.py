"""Web-mercator tile math (the XYZ scheme of slippy maps and of Mapbox vector tiles), knowing
nothing of what is drawn on the tiles.

A tile z/x/y covers 1/2^z of the world's width and height in EPSG:3857 (metres of the
spherical mercator), x from the antimeridian eastwards, y from the top (about 85.0511° N)
southwards, exactly what PostGIS's ST_TileEnvelope(z, x, y) returns. Longitudes and latitudes
here are WGS-84 degrees (SRID 4326).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6378137.0  # the sphere of EPSG:3857
WORLD_WIDTH_M = 2 * math.pi * EARTH_RADIUS_M  # 40,075,016.69 m: the width of tile 0/0/0 in EPSG:3857
MAX_LATITUDE = 85.0511287798066  # where mercator's square world ends, degrees
MAX_ZOOM = 22


class TileError(ValueError):
    """A tile address that is not a tile: `part` names the bad coordinate ('z', 'x' or 'y')."""

    def __init__(self, part: str, message: str):
        super().__init__(message)
        self.part = part


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int, max_zoom: int = MAX_ZOOM) -> Tile:
        """The tile z/x/y if it exists (0 <= z <= max_zoom, 0 <= x, y < 2^z); else TileError."""
        if not 0 <= z <= max_zoom:
            raise TileError("z", f"z must be from 0 to {max_zoom}")
        for part, value in (("x", x), ("y", y)):
            if not 0 <= value < 2**z:
                raise TileError(part, f"{part} must be from 0 to {2**z - 1} at zoom {z}")
        return cls(z, x, y)

    @property
    def width_m(self) -> float:
        """Width (and height) of the tile in EPSG:3857 metres."""
        return WORLD_WIDTH_M / 2**self.z

    @property
    def origin_m(self) -> tuple[float, float]:
        """The tile's south-west corner in EPSG:3857 metres."""
        half = WORLD_WIDTH_M / 2
        return -half + self.x * self.width_m, half - (self.y + 1) * self.width_m

    def bounds(self) -> tuple[float, float, float, float]:
        """min_lon, min_lat, max_lon, max_lat of the tile (SRID 4326)."""
        n = 2**self.z
        return (self.x / n * 360 - 180, _latitude(self.y + 1, n), (self.x + 1) / n * 360 - 180, _latitude(self.y, n))


def _latitude(y: int, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def tile_at(lon: float, lat: float, z: int) -> Tile:
    """The tile of zoom z holding lon/lat (SRID 4326); latitudes beyond mercator's are clamped."""
    n = 2**z
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return Tile(z, min(max(x, 0), n - 1), min(max(y, 0), n - 1))


def tiles_covering(bbox: tuple[float, float, float, float], z: int) -> list[Tile]:
    """Every tile of zoom z that a lon/lat box (min_lon, min_lat, max_lon, max_lat) touches."""
    top_left, bottom_right = tile_at(bbox[0], bbox[3], z), tile_at(bbox[2], bbox[1], z)
    return [Tile(z, x, y) for x in range(top_left.x, bottom_right.x + 1) for y in range(top_left.y, bottom_right.y + 1)]


def cell_size_m(z: int, cells_per_tile: int) -> float:
    """Side in EPSG:3857 metres of a grid cell when a tile of zoom z is cut into
    cells_per_tile × cells_per_tile cells: cells then never straddle two tiles."""
    return WORLD_WIDTH_M / 2**z / cells_per_tile
