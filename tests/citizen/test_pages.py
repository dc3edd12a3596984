"""Citizen pages through Django's test client: the report form (happy path, fallbacks, every
kind of bad input), the tracking page, supports, reopening and photos."""

import io
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client, TestCase, override_settings
from django.utils import timezone
from PIL import Image

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import OutboxMessage, Photo, Report, ReportEvent, Supporter
from incidents.workflow import transition_report
from tests.images import jpeg_bytes, png_bytes, upload
from tests.world import build_world


def form_data(**overrides):
    data = {"category": "pothole", "lat": "10.02", "lon": "105.72", "location_accuracy_m": "",
            "description": "Ổ gà trước nhà văn hóa", "attr__pothole__size": "large", "attr__pothole__depth_cm": "15",
            "name": "Trần Thị B", "email": "b@example.vn", "phone": "", "address": "", "ward": "", "website": ""}
    data.update(overrides)
    return data


class ReportFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def post(self, data, **extra):
        return self.client.post("/report/", data, **extra)

    def assert_nothing_saved(self):
        self.assertEqual(Report.objects.count(), 0)
        self.assertEqual(Photo.objects.count(), 0)
        self.assertEqual(OutboxMessage.objects.count(), 0)

    def test_form_lists_categories_by_group_with_their_attribute_fields(self):
        html = self.client.get("/report/").content.decode()
        self.assertIn('<optgroup label="Đường">', html)
        self.assertIn('name="attr__pothole__size"', html)
        self.assertIn("Kích thước *", html)  # required attributes are marked
        self.assertIn('name="lat"', html)  # the no-JavaScript fallback inputs are always there
        self.assertIn('name="ward"', html)
        self.assertIn("csrfmiddlewaretoken", html)

    def test_report_submitted_with_coordinates_lands_on_its_tracking_page(self):
        response = self.post(form_data())
        report = Report.objects.get()
        self.assertRedirects(response, f"/r/{report.public_id}/", fetch_redirect_response=False)
        self.assertEqual((report.source, report.department.code, report.ward.code), ("web", "construction", "A"))
        self.assertEqual(report.attributes, {"size": "large", "depth_cm": 15})
        page = self.client.get(response["Location"]).content.decode()
        self.assertIn('class="confirm"', page)  # once, for the browser that sent it
        self.assertNotIn('class="confirm"', self.client.get(response["Location"]).content.decode())
        self.assertIn(report.public_id, page)
        self.assertIn("Sở Xây dựng", page)
        self.assertIn("72", page)  # the category's target, in working hours

    def test_reporter_gets_a_receipt_with_the_tracking_link(self):
        self.post(form_data())
        report = Report.objects.get()
        receipt = OutboxMessage.objects.get(recipient="b@example.vn")
        self.assertIn(f"/r/{report.public_id}/", receipt.body)

    def test_ward_picker_without_coordinates_goes_to_the_operations_center(self):
        self.post(form_data(lat="", lon="", ward="B", address="Chợ phường B"))
        report = Report.objects.get()
        self.assertIsNone(report.location)
        self.assertEqual((report.ward.code, report.department.code), ("B", "ioc"))

    def test_errors_are_shown_by_their_field_and_everything_typed_is_kept(self):
        response = self.post(form_data(description="x" * 4001, lat="91"))
        html = response.content.decode()
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="id_description-error"', html)
        self.assertIn("Trần Thị B", html)
        self.assertIn('value="b@example.vn"', html)
        self.assert_nothing_saved()

    def test_latitude_out_of_range_is_shown_on_the_location(self):
        html = self.post(form_data(lat="91")).content.decode()
        self.assertIn('id="id_lat-error"', html)
        self.assert_nothing_saved()

    def test_missing_required_attribute_is_shown_on_that_attribute(self):
        html = self.post(form_data(attr__pothole__size="")).content.decode()
        self.assertIn('id="id_attr__pothole__size-error"', html)
        self.assert_nothing_saved()

    def test_point_outside_the_city_is_refused(self):
        html = self.post(form_data(lat="9.0", lon="106.9")).content.decode()
        self.assertIn('id="id_lat-error"', html)
        self.assert_nothing_saved()

    def test_honeypot_filled_by_a_bot_is_refused(self):
        response = self.post(form_data(website="http://spam.example"))
        self.assertEqual(response.status_code, 200)
        self.assert_nothing_saved()

    def test_csrf_is_required(self):
        response = Client(enforce_csrf_checks=True).post("/report/", form_data())
        self.assertEqual(response.status_code, 403)
        self.assert_nothing_saved()

    @override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                       "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                                  "report_submit": "1/hour"}})
    def test_submissions_are_rate_limited_per_address(self):
        self.post(form_data())
        html = self.post(form_data(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertEqual(Report.objects.count(), 1)
        self.assertIn("Too many reports from your connection", html)

    def test_photo_is_stored_without_any_exif(self):
        self.post(form_data(photos=[upload("p.jpg", jpeg_bytes(105.72, 10.02))]))
        photo = Photo.objects.get()
        self.assertFalse(photo.is_public)
        with default_storage.open(photo.image.name) as f:
            stored = Image.open(io.BytesIO(f.read()))
        self.assertEqual(dict(stored.getexif()), {})
        self.assertEqual(stored.format, "JPEG")

    def test_photo_gps_is_offered_when_no_pin_was_set(self):
        html = self.post(form_data(lat="", lon="", photos=[upload("p.jpg", jpeg_bytes(105.7301, 10.0402))])).content.decode()
        self.assertIn('value="10.040200"', html)
        self.assertIn('value="105.730100"', html)
        self.assertIn('id="id_lat-error"', html)  # asks to check the pin: nothing is used silently
        self.assert_nothing_saved()

    def test_twenty_megabyte_upload_is_refused(self):
        big = upload("big.jpg", jpeg_bytes() + b"\0" * (20 * 1024 * 1024))
        html = self.post(form_data(photos=[big])).content.decode()
        self.assertIn('id="id_photos-error"', html)
        self.assertIn("10 MB", html)
        self.assert_nothing_saved()

    def test_text_file_renamed_jpg_is_refused_by_its_content(self):
        html = self.post(form_data(photos=[upload("evil.jpg", b"<?php system($_GET['c']); ?>")])).content.decode()
        self.assertIn('id="id_photos-error"', html)
        self.assertIn("evil.jpg", html)
        self.assert_nothing_saved()

    def test_more_than_three_photos_are_refused(self):
        photos = [upload(f"p{i}.png", png_bytes(), "image/png") for i in range(4)]
        html = self.post(form_data(photos=photos)).content.decode()
        self.assertIn('id="id_photos-error"', html)
        self.assert_nothing_saved()

    def test_script_in_description_and_name_is_shown_escaped(self):
        hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
        self.post(form_data(description=hostile, name=hostile))
        report = Report.objects.get()
        page = self.client.get(f"/r/{report.public_id}/?submitted=1").content.decode()
        self.assertNotIn("<script>alert(1)", page)
        self.assertNotIn("<img src=x", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertNotIn("onerror=alert(2)>", page)


class TrackingPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}, description="Ổ gà",
                                               reporter=Reporter(name="Lê Văn Bí Mật", email="secret@example.vn",
                                                                 phone="0912 345 678")))
        ReportEvent.objects.create(report=cls.report, kind="note", message="Ghi chú nội bộ: gọi nhà thầu",
                                   is_public=False)

    def page(self):
        return self.client.get(f"/r/{self.report.public_id}/").content.decode()

    def test_shows_status_department_and_public_timeline(self):
        html = self.page()
        self.assertIn("Sở Xây dựng", html)
        self.assertIn("mới", html.lower())
        self.assertNotIn("Ghi chú nội bộ", html)

    def test_never_shows_contact_data(self):
        html = self.page()
        for private in ("Lê Văn Bí Mật", "secret@example.vn", "0912 345 678"):
            self.assertNotIn(private, html)

    def test_unknown_report_is_404(self):
        self.assertEqual(self.client.get("/r/CT-1999-000001/").status_code, 404)

    def test_support_counts_once_per_browser(self):
        self.page()  # the page gives the browser its id
        self.client.post(f"/r/{self.report.public_id}/support/", {"email": ""})
        self.client.post(f"/r/{self.report.public_id}/support/", {"email": ""})
        self.report.refresh_from_db()
        self.assertEqual(self.report.supporter_count, 1)

    def test_support_counts_once_per_email_across_browsers(self):
        for email in ("x@example.vn", "X@example.vn"):
            browser = Client()
            browser.get(f"/r/{self.report.public_id}/")
            browser.post(f"/r/{self.report.public_id}/support/", {"email": email})
        self.report.refresh_from_db()
        self.assertEqual(self.report.supporter_count, 1)
        self.assertEqual(Supporter.objects.get().email, "x@example.vn")

    def test_support_api_answers_the_new_count(self):
        self.page()
        response = self.client.post(f"/api/v1/reports/{self.report.public_id}/supporters/", {"email": "y@example.vn"},
                                    content_type="application/json")
        self.assertEqual((response.status_code, response.json()), (201, {"supporter_count": 1}))
        again = self.client.post(f"/api/v1/reports/{self.report.public_id}/supporters/", {},
                                 content_type="application/json")
        self.assertEqual(again.status_code, 400)
        self.assertIn("report", again.json())

    def test_reopen_is_offered_within_30_days_of_resolution(self):
        self.assertNotIn("reopen", self.page())
        transition_report(self.report.pk, "resolved", message="Đã vá xong")
        self.assertIn(f"/r/{self.report.public_id}/reopen/", self.page())
        self.client.post(f"/r/{self.report.public_id}/reopen/", {"comment": "Vẫn còn ổ gà"})
        self.report.refresh_from_db()
        self.assertEqual(self.report.status, "reopened")
        self.assertIn("Vẫn còn ổ gà", self.page())

    def test_reopen_is_refused_after_30_days(self):
        transition_report(self.report.pk, "resolved", message="Đã vá xong")
        Report.objects.filter(pk=self.report.pk).update(resolved_at=timezone.now() - timedelta(days=31))
        self.assertNotIn(f"/r/{self.report.public_id}/reopen/", self.page())
        self.client.post(f"/r/{self.report.public_id}/reopen/", {"comment": "Vẫn còn"})
        self.report.refresh_from_db()
        self.assertEqual(self.report.status, "resolved")

    def test_unapproved_photo_is_not_served_and_approved_one_is(self):
        from incidents.intake import save_photos
        from incidents.photos import clean_photo

        save_photos(self.report, [clean_photo(upload("p.jpg", jpeg_bytes()))])
        photo = Photo.objects.get()
        self.assertEqual(self.client.get(f"/photos/{photo.uuid}/").status_code, 404)
        self.assertNotIn(str(photo.uuid), self.page())
        Photo.objects.filter(pk=photo.pk).update(is_public=True)
        response = self.client.get(f"/photos/{photo.uuid}/thumbnail/")
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/jpeg"))
        self.assertIn(f"/photos/{photo.uuid}/thumbnail/", self.page())


class NearbyAndAggregateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        from tests.world import project

        def make(category="pothole", metres=0, **extra):
            lon, lat = project(105.72, 10.02, metres, 90)
            return submit_report(ReportDraft(category_code=category, lon=lon, lat=lat,
                                             attributes={"size": "small"} if category == "pothole" else {}, **extra))

        cls.near = make(metres=30)
        cls.far = make(metres=80)  # pothole radius is the default 50 m
        cls.other = make(category="encroachment", metres=10)
        cls.closed = make(metres=20)
        transition_report(cls.closed.pk, "rejected", message="Không xác minh được")
        cls.old = make(metres=15)
        Report.objects.filter(pk=cls.old.pk).update(created_at=timezone.now() - timedelta(days=40))

    def test_nearby_lists_open_reports_of_the_category_within_radius_and_window(self):
        data = self.client.get("/api/v1/reports/nearby/", {"category": "pothole", "lon": 105.72, "lat": 10.02}).json()
        self.assertEqual([f["id"] for f in data["features"]], [self.near.public_id])
        self.assertEqual(data["features"][0]["properties"]["distance_m"], 30)

    def test_nearby_rejects_bad_parameters(self):
        response = self.client.get("/api/v1/reports/nearby/", {"category": "nope", "lon": "x", "lat": 95})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.json()), {"category", "lon", "lat"})

    def test_aggregates_count_reports_per_cell(self):
        data = self.client.get("/api/v1/reports/aggregate/", {"bbox": "105.7,10.0,105.8,10.1", "zoom": 10}).json()
        self.assertEqual(sum(f["properties"]["count"] for f in data["features"]), 5)
        self.assertEqual(len(data["features"]), 1)  # all within one 9.8 km cell at zoom 10
        self.assertEqual(data["features"][0]["properties"]["open"], 4)

    def test_aggregates_need_a_bbox(self):
        self.assertEqual(self.client.get("/api/v1/reports/aggregate/", {"zoom": 10}).status_code, 400)
