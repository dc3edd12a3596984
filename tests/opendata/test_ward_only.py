"""A sensitive category published to its ward only: the public point of its reports is the
ward's representative point (ST_PointOnSurface, inside the ward), whatever the exact place; a
report outside every ward falls back to the category's grid. World: tests/world.py (ward A is
lon 105.70–105.75, lat 10.00–10.10; the strip lon 105.79–105.80 has no ward)."""

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.test import TestCase

from gis.spatial import area_point, snap_point
from incidents.categories import save_category
from incidents.intake import ReportDraft, submit_report
from incidents.models import Category, Report
from tests.world import build_world


def report_at(lon: float, lat: float) -> Report:
    return submit_report(ReportDraft(category_code="harassment", lon=lon, lat=lat, attributes={}))


class WardOnlyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.sensitive = Category.objects.create(code="harassment", group=cls.order_group, name_vi="Quấy rối",
                                                public_location_precision_m=500, public_location_ward_only=True)
        cls.ward_point = area_point(cls.ward_a.pk)

    def test_a_report_is_published_at_its_wards_point(self):
        report = report_at(105.7012, 10.0034)
        self.assertEqual(report.public_location.coords, self.ward_point.coords)
        self.assertTrue(self.ward_a.boundary.covers(report.public_location))

    def test_two_reports_in_one_ward_publish_the_same_point(self):
        self.assertEqual(report_at(105.7012, 10.0034).public_location, report_at(105.7488, 10.0961).public_location)

    def test_a_report_outside_every_ward_falls_back_to_the_grid(self):
        report = report_at(105.795, 10.03)
        self.assertIsNone(report.ward_id)
        self.assertEqual(report.public_location.coords, snap_point(Point(105.795, 10.03, srid=4326), 500).coords)

    def test_the_export_says_only_the_ward_is_published(self):
        report_at(105.7012, 10.0034)
        lines = b"".join(self.client.get("/open-data/reports.csv").streaming_content).decode().splitlines()
        row = dict(zip(lines[0].split(","), lines[1].split(",")))
        self.assertEqual(row["location_precision_m"], "")
        self.assertEqual((float(row["lon"]), float(row["lat"])), tuple(round(v, 6) for v in self.ward_point.coords))

    def test_turning_a_category_ward_only_republishes_its_reports(self):
        self.sensitive.public_location_ward_only = False
        save_category(self.sensitive)
        report = report_at(105.7012, 10.0034)
        self.assertNotEqual(report.public_location, self.ward_point)
        self.sensitive.public_location_ward_only = True
        save_category(self.sensitive)
        report.refresh_from_db()
        self.assertEqual(report.public_location.coords, self.ward_point.coords)

    def test_a_ward_only_category_needs_a_precision_for_reports_outside_wards(self):
        category = Category(code="x", group=self.order_group, name_vi="X", public_location_ward_only=True)
        with self.assertRaises(ValidationError) as caught:
            category.clean()
        self.assertIn("public_location_precision_m", caught.exception.message_dict)
