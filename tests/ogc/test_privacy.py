"""Nothing private leaks through the OGC API: a report whose every private field holds a unique
marker (reporter name, e-mail, phone, IP; an internal note; a photo staff have not approved; a
phone number in its text; its exact point, in a category published on a 100 m grid) is fetched
as items and as one feature, JSON and HTML, and no marker appears."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Category, ReportEvent
from incidents.photos import clean_photo
from tests.images import jpeg_bytes
from tests.world import build_world

EXACT = (105.712345, 10.023456)  # lon/lat, SRID 4326; the category snaps it to a 100 m grid


class PrivateFieldsNeverLeakTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        Category.objects.filter(code="encroachment").update(public_location_precision_m=100)
        photo = clean_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(*EXACT), content_type="image/jpeg"))
        cls.report = submit_report(ReportDraft(
            category_code="encroachment", lon=EXACT[0], lat=EXACT[1],
            description="Lấn chiếm vỉa hè, gọi 0909 517 228 hoặc marker.text@example.vn",
            reporter=Reporter(name="MARKER-NAME-Q7", email="marker-email-q7@example.vn", phone="0912 771 993"),
            reporter_ip="203.0.113.77", photos=[photo]))
        ReportEvent.objects.create(report=cls.report, kind="note", message="MARKER-NOTE-Q7 gọi nhà thầu",
                                   is_public=False)
        cls.photo_uuid = str(cls.report.photos.get().uuid)
        cls.markers = ["MARKER-NAME-Q7", "marker-email-q7", "0912 771 993", "0912771993", "203.0.113.77",
                       "MARKER-NOTE-Q7", cls.photo_uuid, "0909 517 228", "marker.text@example.vn",
                       "105.712345", "10.023456", "105.71234", "10.02345"]

    def outputs(self) -> dict[str, str]:
        pid, incident = self.report.public_id, self.report.incident_id
        urls = {
            "items json": "/ogc/collections/reports/items",
            "items html": "/ogc/collections/reports/items?f=html",
            "feature json": f"/ogc/collections/reports/items/{pid}",
            "feature html": f"/ogc/collections/reports/items/{pid}?f=html",
            "feature metric": f"/ogc/collections/reports/items/{pid}?crs=http://www.opengis.net/def/crs/EPSG/0/3405",
            "incidents json": "/ogc/collections/incidents/items",
            "incident html": f"/ogc/collections/incidents/items/{incident}?f=html",
        }
        found = {}
        for name, url in urls.items():
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, (name, response.content))
            found[name] = response.content.decode()
        return found

    def test_no_private_marker_appears_in_any_ogc_output(self):
        for name, text in self.outputs().items():
            for marker in self.markers:
                with self.subTest(output=name, marker=marker):
                    self.assertNotIn(marker, text)

    def test_the_published_point_is_the_snapped_one(self):
        self.report.refresh_from_db()
        body = self.client.get(f"/ogc/collections/reports/items/{self.report.public_id}").json()
        lon, lat = body["geometry"]["coordinates"]
        self.assertAlmostEqual(lon, self.report.public_location.x, places=6)
        self.assertAlmostEqual(lat, self.report.public_location.y, places=6)
        self.assertNotEqual((round(lon, 5), round(lat, 5)), (round(EXACT[0], 5), round(EXACT[1], 5)))
        self.assertEqual(body["properties"]["location_precision_m"], 100)
