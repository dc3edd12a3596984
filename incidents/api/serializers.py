"""Shapes of what the API reads. Output shapes are built in SQL (geojson.py)."""

from __future__ import annotations

import math

from django.contrib.gis.geos import Point
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from incidents.api import schema as doc
from incidents.intake import ReportDraft, Reporter
from incidents.models import Category, CategoryAttribute, Department
from incidents.read.sql import language


@extend_schema_field(doc.POINT)
class PointField(GeometryField):
    """A GeoJSON Point in lon/lat (SRID 4326), read into a GEOS Point. Stricter than DRF-GIS's
    own parsing (which takes any geometry, WKT or hex too) and with messages a citizen's client
    can show; range checks happen in submit_report."""

    default_error_messages = {
        "invalid": 'Must be a GeoJSON Point: {{"type": "Point", "coordinates": [longitude, latitude]}}.',
        "numbers": "Coordinates must be numbers: [longitude, latitude].",
    }

    def validate_empty_values(self, data):
        # GeometryField calls "" missing; here it is just not a Point
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data) -> Point:
        if not isinstance(data, dict) or data.get("type") != "Point" or not isinstance(data.get("coordinates"), list):
            self.fail("invalid")
        coords = data["coordinates"]
        if len(coords) not in (2, 3):
            self.fail("invalid")
        try:
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in coords[:2]):
                self.fail("numbers")
            return Point(float(coords[0]), float(coords[1]), srid=4326)
        except OverflowError:  # integers too large for a float
            self.fail("numbers")


class ReporterSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=200)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)


class ReportIntakeSerializer(serializers.Serializer):
    """A new report: a `location` or, without one, an `address` (not blank). A report by address
    only goes to the operations center, which places it."""

    category = serializers.CharField(max_length=40, help_text="An active category's code (/api/v1/categories/).")
    location = PointField(required=False, allow_null=True,
                          help_text="Where the problem is: longitude -180 to 180, latitude -90 to 90, inside the "
                                    "area this service covers. Either this or `address`.")
    location_accuracy_m = serializers.FloatField(required=False, allow_null=True,
                                                 help_text="Metres, 0 to 10000: the device's accuracy.")
    address = serializers.CharField(required=False, allow_blank=True, max_length=400,
                                    help_text="Where the problem is, in words. Either this or `location`.")
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                        help_text="At most 4000 characters; contact details are hidden from the "
                                                  "public.")
    attributes = serializers.DictField(required=False, help_text="Answers to the category's attributes, by "
                                                                 "attribute code (/api/v1/categories/).")
    reporter = ReporterSerializer(required=False, help_text="Never published. Categories that do not allow "
                                                            "anonymous reports need a name and an e-mail or phone.")

    def to_draft(self, source: str, reporter_ip: str | None) -> ReportDraft:
        data = self.validated_data
        point = data.get("location")
        lon, lat = (point.x, point.y) if point is not None else (None, None)
        return ReportDraft(
            category_code=data["category"],
            lon=lon,
            lat=lat,
            location_accuracy_m=data.get("location_accuracy_m"),
            address=data.get("address", ""),
            description=data.get("description", ""),
            attributes=data.get("attributes") or {},
            reporter=Reporter(**data.get("reporter", {})),
            source=source,
            reporter_ip=reporter_ip,
            language=language(),
        )


class AttributeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategoryAttribute
        fields = ["code", "order", "datatype", "required", "name_vi", "name_en", "values", "min_value", "max_value"]


class CategorySerializer(serializers.ModelSerializer):
    group = serializers.SerializerMethodField()
    attributes = AttributeSerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = [
            "code", "name_vi", "name_en", "group", "description_vi", "description_en", "keywords", "attributes",
            "duplicate_radius_m", "duplicate_window_days", "target_acknowledge_hours", "target_resolve_hours",
            "public_location_precision_m", "allow_anonymous",
        ]

    @extend_schema_field(doc.obj(code=doc.STRING, name_vi=doc.STRING, name_en=doc.STRING))
    def get_group(self, category: Category) -> dict:
        return {"code": category.group.code, "name_vi": category.group.name_vi, "name_en": category.group.name_en}


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name_vi", "name_en", "is_operations_center"]
