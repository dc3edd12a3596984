"""Coordinate reference systems the OGC API offers (Part 2: CRS by reference): CRS84 (lon/lat,
the default and GeoJSON's), EPSG:4326 (the same datum, latitude first as EPSG defines it) and
the deployment's metric SRID (settings.CITYPIN_METRIC_SRID, e.g. EPSG:3405 VN-2000 / UTM 48N,
easting/northing in metres). Data is stored in SRID 4326 with longitude first, i.e. CRS84."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int  # the PostGIS SRID of the same datum and units
    lat_first: bool  # axis order as the CRS defines it (EPSG:4326: latitude, longitude)
    digits: int  # decimals written: 6 for degrees (~0.1 m), 2 for metres

    def geometry_sql(self, column: str) -> str:
        """SQL for `column` (SRID 4326, lon/lat) in this CRS, in its axis order."""
        if self.srid != 4326:
            return f"ST_Transform({column}, {self.srid})"
        return f"ST_FlipCoordinates({column})" if self.lat_first else column


@cache
def supported() -> dict[str, Crs]:
    """The CRSs offered, by URI (fixed for the process: the metric SRID is a setting)."""
    metric = settings.CITYPIN_METRIC_SRID
    crses = [Crs(CRS84, 4326, False, 6), Crs(EPSG.format(4326), 4326, True, 6)]
    if metric != 4326:
        crses.append(Crs(EPSG.format(metric), metric, False, 2))
    return {c.uri: c for c in crses}


def find(uri: str) -> Crs | None:
    """The supported CRS a URI (or its safe-CURIE form `[EPSG:4326]`) names, else None."""
    uri = uri.strip()
    if uri.startswith("[") and uri.endswith("]"):
        authority, _, code = uri[1:-1].partition(":")
        uri = CRS84 if (authority, code) == ("OGC", "CRS84") else EPSG.format(code) if authority == "EPSG" else uri
    return supported().get(uri.replace("https://", "http://"))
