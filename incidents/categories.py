"""Category services that touch what is published: after a category's public location
precision changes, its reports' public points and incidents follow (the admin and the console
call republish_category; saving the model does no workflow)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction

from gis.spatial import area_point, snap_point
from incidents.matching import refresh_incident
from incidents.models import Category, Report

# After a category's public precision changes: its reports' public points are snapped again
# (metres, in the metric SRID; 0 publishes the exact point; a ward-only category publishes the
# ward's point, gis.spatial.area_point, and the grid outside every ward), the incidents holding them get a
# new public point, and its hotspots are dropped until the next (then full) refresh.
REPUBLISH_SQL = """
UPDATE incidents_report r
SET public_location = CASE WHEN c.public_location_ward_only AND r.ward_id IS NOT NULL
                           THEN (SELECT ST_PointOnSurface(w.boundary) FROM geo_area w WHERE w.id = r.ward_id)
                           WHEN c.public_location_precision_m > 0
                           THEN ST_Transform(ST_SnapToGrid(ST_Transform(r.location, %(metric_srid)s),
                                                           c.public_location_precision_m), 4326)
                           ELSE r.location END
FROM incidents_category c
WHERE c.id = r.category_id AND r.category_id = %(category_id)s AND r.location IS NOT NULL;
DELETE FROM incidents_hotspot WHERE category_id = %(category_id)s;
DELETE FROM incidents_hotspotrun WHERE category_id = %(category_id)s;
"""


@transaction.atomic
def republish_category(category_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(REPUBLISH_SQL, {"category_id": category_id, "metric_srid": settings.CITYPIN_METRIC_SRID})
    for incident_id in Report.objects.filter(category_id=category_id).values_list("incident_id", flat=True).distinct():
        refresh_incident(incident_id)


@transaction.atomic
def save_category(category: Category) -> None:
    """Save a category edited by staff; when its public location precision or ward-only
    setting changed, its published points follow (republish_category)."""
    published = ("public_location_precision_m", "public_location_ward_only")
    previous = Category.objects.filter(pk=category.pk).values_list(*published).first() if category.pk else None
    category.save()
    if previous is not None and previous != tuple(getattr(category, name) for name in published):
        republish_category(category.pk)


def public_point(location: Point | None, category: Category, ward_id: int | None) -> Point | None:
    """Where the public sees a report of `category` at `location` (SRID 4326): its ward's point
    for a ward-only category, else the location snapped to the category's precision (metres)."""
    if location is not None and category.public_location_ward_only and ward_id is not None:
        return area_point(ward_id)
    return snap_point(location, category.public_location_precision_m)
