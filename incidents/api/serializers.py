"""Shapes of what the API reads. Output shapes are built in SQL (geojson.py)."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from rest_framework import serializers

from ..models import Category, CategoryAttribute, Department
from ..services import ReportDraft, Reporter


class PointField(serializers.Field):
    """A GeoJSON Point in lon/lat (SRID 4326). Range checks happen in submit_report."""

    default_error_messages = {
        "invalid": 'Must be a GeoJSON Point: {{"type": "Point", "coordinates": [longitude, latitude]}}.',
        "numbers": "Coordinates must be numbers: [longitude, latitude].",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict) or data.get("type") != "Point" or not isinstance(data.get("coordinates"), list):
            self.fail("invalid")
        coords = data["coordinates"]
        if len(coords) not in (2, 3):
            self.fail("invalid")
        try:
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in coords[:2]):
                self.fail("numbers")
            return float(coords[0]), float(coords[1])
        except OverflowError:  # integers too large for a float
            self.fail("numbers")

    def to_representation(self, value):
        return {"type": "Point", "coordinates": list(value)}


class ReporterSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=200)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)


class ReportIntakeSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=40)
    location = PointField(required=False, allow_null=True, help_text="GeoJSON Point [lon, lat], WGS-84.")
    location_accuracy_m = serializers.FloatField(required=False, allow_null=True, help_text="Metres.")
    address = serializers.CharField(required=False, allow_blank=True, max_length=400)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    attributes = serializers.DictField(required=False)
    reporter = ReporterSerializer(required=False)

    def to_draft(self, source: str, reporter_ip: str | None) -> ReportDraft:
        data = self.validated_data
        lon, lat = data.get("location") or (None, None)
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

    def get_group(self, category: Category) -> dict:
        return {"code": category.group.code, "name_vi": category.group.name_vi, "name_en": category.group.name_en}


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name_vi", "name_en", "is_operations_center"]
