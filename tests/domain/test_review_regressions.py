"""Regression tests for defects found in review: each failed before its fix."""

from django.core.exceptions import ValidationError
from django.test import TestCase

from incidents.categories import save_category
from incidents.incident_ops import merge_incidents, set_incident_status
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Category, Incident, Report
from tests.world import build_world, project

EXACT = (105.7234567, 10.0234567)


class ReviewRegressionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def report(self, category, lon, lat, **extra):
        attributes = {"size": "small"} if category == "pothole" else {}
        reporter = Reporter(name="A", email="a@example.vn") if category == "illegal-construction" else Reporter()
        return submit_report(ReportDraft(category_code=category, lon=lon, lat=lat, attributes=attributes,
                                         reporter=reporter, **extra))

    def test_incident_mixing_categories_publishes_no_exact_point_of_the_sensitive_one(self):
        Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100,
                                                                    match_group=True)
        open_one = self.report("encroachment", *EXACT)
        lon, lat = project(*EXACT, 20, 45)
        sensitive = self.report("illegal-construction", lon, lat)
        self.assertEqual(sensitive.incident_id, open_one.incident_id)
        feature = self.client.get(f"/api/v1/incidents/{open_one.incident_id}/").json()
        self.assertIsNone(feature["properties"]["footprint"])
        incident = Incident.objects.get(pk=open_one.incident_id)
        self.assertNotEqual(incident.public_location.coords, incident.location.coords)

    def test_raising_a_category_precision_later_snaps_its_existing_reports(self):
        report = self.report("encroachment", *EXACT)
        self.assertEqual(report.public_location.coords, EXACT)
        category = Category.objects.get(code="encroachment")
        category.public_location_precision_m = 100
        save_category(category)
        report.refresh_from_db()
        self.assertNotEqual(report.public_location.coords, EXACT)
        self.assertNotEqual(Incident.objects.get(pk=report.incident_id).public_location.coords, EXACT)

    def test_merges_refuse_merged_incidents_and_cycles(self):
        a, b = self.report("pothole", 105.72, 10.02), self.report("pothole", 105.73, 10.02)
        merge_incidents(a.incident_id, [b.incident_id])
        with self.assertRaises(ValidationError):
            merge_incidents(b.incident_id, [a.incident_id])
        with self.assertRaises(ValidationError):
            set_incident_status(b.incident_id, "reopened", message="x")

    def test_unknown_incident_status_is_a_validation_error(self):
        a = self.report("pothole", 105.72, 10.02)
        with self.assertRaises(ValidationError):
            set_incident_status(a.incident_id, "bogus")

    def test_a_match_merged_or_closed_between_scoring_and_saving_is_not_joined_blindly(self):
        from django.utils import timezone

        from incidents.matching import Placement, incident_for

        a, b = self.report("pothole", 105.72, 10.02), self.report("pothole", 105.75, 10.02)
        merge_incidents(b.incident_id, [a.incident_id])  # a's incident was the match when scored
        kwargs = {"category_id": self.pothole.pk, "department_id": self.construction.pk, "location": a.location,
                  "text": "", "now": timezone.now()}
        self.assertEqual(incident_for(Placement(attach_to=a.incident_id), **kwargs), b.incident_id)
        set_incident_status(b.incident_id, "resolved", message="Đã vá")
        fresh = incident_for(Placement(attach_to=a.incident_id), **kwargs)
        self.assertNotIn(fresh, (a.incident_id, b.incident_id))

    def test_zero_duplicate_radius_and_window_do_not_crash_intake(self):
        Category.objects.filter(code="pothole").update(duplicate_radius_m=0, duplicate_window_days=0)
        self.report("pothole", 105.72, 10.02)
        self.report("pothole", 105.72, 10.02)
        self.assertEqual(Report.objects.count(), 2)


class ImporterRegressionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def write(self, tmp, rows):
        path = tmp / "cases.csv"
        path.write_text("category,longitude,latitude,opened,status\n" + "\n".join(rows) + "\n", encoding="utf-8")
        return path

    def test_unknown_status_in_the_map_is_refused_before_importing(self):
        import tempfile
        from pathlib import Path

        from incidents.importers import import_reports

        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(Path(tmp), ["Pothole,105.72,10.02,2026-01-01 08:00,Closed"])
            with self.assertRaises(ValidationError):
                import_reports(path, {"Pothole": "pothole"}, {"Closed": "done"})
        self.assertEqual(Report.objects.count(), 0)

    def test_a_closed_row_joining_an_open_incident_leaves_it_open_and_short_rows_are_rejected(self):
        import tempfile
        from pathlib import Path

        from incidents.importers import Columns, import_reports

        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(Path(tmp), ["Pothole,105.72,10.02,2026-01-01 08:00,Open",
                                          "Pothole,105.72,10.02,2026-01-01 09:00,Closed",
                                          "Pothole,105.72"])
            result = import_reports(path, {"Pothole": "encroachment"}, {"Closed": "closed"},
                                    Columns(status="status"))
        self.assertEqual((result.created, len(result.rejected)), (2, 1))
        incident = Incident.objects.get()
        self.assertEqual(incident.status, "new")
