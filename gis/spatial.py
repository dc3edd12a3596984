"""Spatial helpers that know nothing of reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

# A point snapped to a square grid of `precision_m` metres in the deployment's metric SRID
# (CITYPIN_METRIC_SRID), returned in SRID 4326. Used to publish sensitive locations coarsely.
SNAP_SQL = """
SELECT ST_X(p), ST_Y(p)
FROM ST_Transform(ST_SnapToGrid(ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(srid)s),
                                %(precision_m)s), 4326) AS p
"""


def snap_point(point: Point | None, precision_m: float) -> Point | None:
    """`point` (SRID 4326) on a grid of `precision_m` metres; unchanged when precision_m is 0."""
    if point is None or not precision_m:
        return point
    with connection.cursor() as cursor:
        cursor.execute(SNAP_SQL, {"lon": point.x, "lat": point.y, "srid": settings.CITYPIN_METRIC_SRID,
                                  "precision_m": precision_m})
        x, y = cursor.fetchone()
    return Point(x, y, srid=4326)


# A point inside an area (ST_PointOnSurface: inside even when the area is not convex, and the
# same for the same boundary), SRID 4326. Publishes "somewhere in this ward" as one point.
AREA_POINT_SQL = "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) AS p FROM geo_area WHERE id = %(id)s) s"


def area_point(area_id: int) -> Point | None:
    """A representative point of the area (SRID 4326), or None if there is no such area."""
    with connection.cursor() as cursor:
        cursor.execute(AREA_POINT_SQL, {"id": area_id})
        row = cursor.fetchone()
    return Point(*row, srid=4326) if row else None


# The point `metres` away from a point towards `azimuth_deg` (0 = north), on the ellipsoid.
PROJECT_SQL = """
SELECT ST_X(p::geometry), ST_Y(p::geometry)
FROM ST_Project(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(metres)s, radians(%(azimuth)s)) AS p
"""


def offset_point(point: Point, metres: float, azimuth_deg: float) -> Point:
    with connection.cursor() as cursor:
        cursor.execute(PROJECT_SQL, {"lon": point.x, "lat": point.y, "metres": metres, "azimuth": azimuth_deg})
        x, y = cursor.fetchone()
    return Point(x, y, srid=4326)
