"""Hostile and malformed input found in review: each answers a clean 4xx naming the field (never
a 500), saves nothing, and leaks nothing."""

import base64
import io
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client, SimpleTestCase, TestCase, override_settings
from PIL import Image
from rest_framework.test import APIClient

from incidents.http.browser import COOKIE
from incidents.intake import ReportDraft, submit_report
from incidents.models import Report, StaffMembership, Supporter
from incidents.photos import clean_photo
from incidents.text import scrub_contact_details
from incidents.workflow import transition_report
from tests.images import upload
from tests.world import build_world

User = get_user_model()
URL = "/api/v1/reports/"


class HostileQueryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}))

    def test_nul_characters_in_filters_answer_400(self):
        for url, params in [(URL, {"category": "\x00"}), (URL, {"department": "a\x00"}), (URL, {"area": "\x00"}),
                            ("/api/v1/areas/", {"parent": "\x00"}), ("/api/v1/incidents/", {"category": "\x00"}),
                            ("/api/v1/reports/nearby/", {"category": "\x00", "lon": 1, "lat": 1})]:
            response = self.client.get(url, params)
            self.assertEqual(response.status_code, 400, (url, params))

    def test_nul_characters_in_paths_answer_404(self):
        for url in (f"{URL}%00/", "/r/%00/", "/r/CT%00/support/", "/api/v1/reports/%00/supporters/"):
            response = self.client.get(url) if "support" not in url else self.client.post(url)
            self.assertEqual(response.status_code, 404, url)

    def test_impossible_dates_answer_400(self):
        for name, value in (("created_after", "2026-02-30"), ("created_before", "2026-02-30T10:00")):
            response = self.client.get(URL, {name: value})
            self.assertEqual(response.status_code, 400)
            self.assertIn(name, response.json())

    def test_unknown_status_in_a_transition_is_a_validation_error(self):
        with self.assertRaises(ValidationError):
            transition_report(self.report.pk, "exploded", message="x")


class HostileIntakeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def post(self, body: str):
        return APIClient().post(URL, body, content_type="application/json")

    def assert_rejected(self, response, field):
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn(field, response.json())
        self.assertEqual(Report.objects.count(), 0)

    def test_huge_integer_coordinates(self):
        body = '{"category": "pothole", "location": {"type": "Point", "coordinates": [1%s, 10]}}' % ("0" * 400)
        self.assert_rejected(self.post(body), "location")

    def test_huge_integer_attribute(self):
        body = json.dumps({"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
                           "attributes": {"size": "small"}})[:-2] + ', "depth_cm": 1' + "0" * 400 + "}}"
        self.assert_rejected(self.post(body), "attributes.depth_cm")

    def test_nul_and_lone_surrogate_in_attribute_text(self):
        from incidents.models import CategoryAttribute

        CategoryAttribute.objects.create(category=self.encroachment, code="note", datatype="text", name_vi="Ghi chú")
        for bad in ("a\\u0000b", "a\\ud800b"):
            body = ('{"category": "encroachment", "location": {"type": "Point", "coordinates": [105.72, 10.02]}, '
                    '"attributes": {"note": "%s"}}' % bad)
            self.assert_rejected(self.post(body), "attributes.note")

    def test_nul_in_description(self):
        body = ('{"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]}, '
                '"attributes": {"size": "small"}, "description": "a\\u0000b"}')
        self.assert_rejected(self.post(body), "description")

    def test_contact_details_in_the_address_and_text_attributes_are_scrubbed(self):
        from incidents.models import CategoryAttribute

        CategoryAttribute.objects.create(category=self.encroachment, code="note", datatype="string", name_vi="Ghi chú")
        response = APIClient().post(URL, {
            "category": "encroachment", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
            "address": "Hẻm 5, gọi 0912 345 678 hoặc a@b.vn", "attributes": {"note": "liên hệ SĐT0987654321 nhé"}},
            format="json")
        text = response.content.decode()
        for private in ("0912 345 678", "a@b.vn", "0987654321"):
            self.assertNotIn(private, text)


class SupportAbuseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}))

    def url(self):
        return f"/api/v1/reports/{self.report.public_id}/supporters/"

    def test_support_without_a_browser_cookie_is_refused(self):
        for _ in range(3):
            response = Client().post(self.url(), "{}", content_type="application/json")
            self.assertEqual(response.status_code, 400)
        self.assertEqual(Supporter.objects.count(), 0)

    def test_support_with_a_cookie_from_a_page_counts_once(self):
        client = Client()
        client.get(f"/r/{self.report.public_id}/")  # the page hands out the browser id
        self.assertIn(COOKIE, client.cookies)
        codes = [client.post(self.url(), "{}", content_type="application/json").status_code for _ in range(2)]
        self.assertEqual(codes, [201, 400])

    def test_support_as_a_cross_site_form_post_is_refused(self):
        client = Client()
        client.get(f"/r/{self.report.public_id}/")
        response = client.post(self.url(), "email=x@example.vn", content_type="text/plain")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Supporter.objects.count(), 0)

    def test_overlong_email_is_refused_cleanly(self):
        client = Client()
        client.get(f"/r/{self.report.public_id}/")
        email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".vn"
        response = client.post(self.url(), json.dumps({"email": email}), content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("email", response.json())
        web = client.post(f"/r/{self.report.public_id}/support/", {"email": email})
        self.assertEqual(web.status_code, 302)
        self.assertEqual(Supporter.objects.count(), 0)

    @override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                       "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                                  "report_submit": "2/hour"}})
    def test_forged_forwarded_for_does_not_reset_the_rate_limit(self):
        client = APIClient()
        body = {"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
                "attributes": {"size": "small"}}
        codes = [client.post(URL, body, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
                 for i in range(3)]
        self.assertEqual(codes, [201, 201, 429])

    def test_confirmation_panel_only_for_the_browser_that_submitted(self):
        html = Client().get(f"/r/{self.report.public_id}/?submitted=1").content.decode()
        self.assertNotIn('class="confirm"', html)


class PhotoFormatTests(TestCase):
    def test_phone_mpo_jpeg_is_accepted_as_jpeg(self):
        frames = [Image.new("RGB", (40, 30), c) for c in ((200, 0, 0), (0, 200, 0))]
        out = io.BytesIO()
        frames[0].save(out, "MPO", save_all=True, append_images=frames[1:])
        photo = clean_photo(upload("phone.jpg", out.getvalue()))
        self.assertEqual(photo.content_type, "image/jpeg")
        self.assertEqual(Image.open(io.BytesIO(photo.content)).format, "JPEG")


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Python parses offsets up to ±23:59:59.999999; PostgreSQL takes whole seconds up to ±15:59:59.
BEYOND_POSTGRES = "2026-01-01T00:00:00+23:00"


class TimeZoneOffsetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}))
        cls.operator = User.objects.create_user("operator", "operator@example.vn", "pw-operator")
        StaffMembership.objects.create(user=cls.operator, department=cls.ioc, role="manager")

    def test_date_filters_with_an_offset_postgres_refuses_answer_400_on_every_public_list(self):
        for url in (URL, "/api/v1/incidents/", "/api/v1/reports/aggregate/?bbox=105.7,10,105.8,10.1"):
            for name in ("created_after", "created_before"):
                with self.subTest(url=url, name=name):
                    response = self.client.get(url, {name: BEYOND_POSTGRES})
                    self.assertEqual(response.status_code, 400)
                    self.assertIn(name, response.json())

    def test_offsets_of_sixteen_hours_and_fractions_of_a_second_are_refused(self):
        for value in ("2026-01-01T00:00:00-16:00", "2026-01-01T00:00:00+07:00:00.5"):
            with self.subTest(value=value):
                self.assertEqual(self.client.get(URL, {"created_after": value}).status_code, 400)

    def test_offsets_up_to_fifteen_hours_fifty_nine_are_accepted(self):
        for value in ("2026-01-01T00:00:00+15:59", "2026-01-01T00:00:00-15:59:59"):
            with self.subTest(value=value):
                self.assertEqual(self.client.get(URL, {"created_before": value}).status_code, 200)

    def test_report_cursor_with_an_offset_postgres_refuses_answers_400(self):
        response = self.client.get(URL, {"cursor": cursor_of(f"{BEYOND_POSTGRES}|{self.report.pk}")})
        self.assertEqual(response.status_code, 400)
        self.assertIn("cursor", response.json())

    def test_console_list_names_the_date_filter_with_an_offset_postgres_refuses(self):
        self.client.force_login(self.operator)
        response = self.client.get("/console/", {"created_after": BEYOND_POSTGRES})
        self.assertEqual(response.status_code, 400)
        self.assertIn("created_after", response.context["errors"])

    def test_console_cursor_with_an_offset_postgres_refuses_is_named(self):
        self.client.force_login(self.operator)
        response = self.client.get("/console/", {"cursor": cursor_of(json.dumps([BEYOND_POSTGRES, self.report.pk]))})
        self.assertEqual(response.status_code, 400)
        self.assertIn("cursor", response.context["errors"])

    def test_console_map_data_answers_400_naming_the_date_filter(self):
        self.client.force_login(self.operator)
        for url in ("/console/points.geojson", "/console/cells.geojson?bbox=105.7,10,105.8,10.1"):
            with self.subTest(url=url):
                response = self.client.get(url, {"created_before": BEYOND_POSTGRES})
                self.assertEqual(response.status_code, 400)
                self.assertIn("created_before", response.json())

    def test_console_export_answers_400_not_an_empty_file(self):
        self.client.force_login(self.operator)
        response = self.client.get("/console/reports.csv", {"created_after": BEYOND_POSTGRES})
        self.assertEqual(response.status_code, 400)
        self.assertIn("created_after", response.json())


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


class NestedJsonTests(TestCase):
    """JSON nested far deeper than any request needs is refused as a malformed body."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}))

    def post(self, url: str, body: str):
        return APIClient().post(url, body, content_type="application/json")

    def assert_refused(self, response):
        self.assertEqual(response.status_code, 400, response.content[:200])
        self.assertIn("body", response.json())
        self.assertEqual(Report.objects.count(), 1)

    def test_arrays_nested_a_thousand_deep_are_refused(self):
        self.assert_refused(self.post(URL, nested(1000)))

    def test_objects_nested_a_thousand_deep_are_refused(self):
        self.assert_refused(self.post(URL, '{"a":' * 1000 + "1" + "}" * 1000))

    def test_attributes_nested_a_thousand_deep_are_refused(self):
        deep = '{"a":' * 1000 + "1" + "}" * 1000
        body = ('{"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]}, '
                '"attributes": {"size": %s}}' % deep)
        self.assert_refused(self.post(URL, body))

    def test_nesting_deeper_than_any_request_needs_is_refused_before_it_can_recurse(self):
        self.assert_refused(self.post(URL, '{"attributes": %s}' % nested(100)))

    def test_a_thousand_deep_body_to_support_a_report_is_refused(self):
        response = self.post(f"/api/v1/reports/{self.report.public_id}/supporters/", nested(1000))
        self.assert_refused(response)


class LoneSurrogateTests(TestCase):
    """"\\ud800" is valid JSON but not Unicode that UTF-8 (or PostgreSQL) can hold."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def post(self, **fields: str):
        body = {"category": '"pothole"', "location": '{"type": "Point", "coordinates": [105.72, 10.02]}',
                "attributes": '{"size": "small"}', **fields}
        text = "{" + ", ".join(f'"{name}": {value}' for name, value in body.items()) + "}"
        return APIClient().post(URL, text, content_type="application/json")

    def assert_rejected(self, response, field):
        self.assertEqual(response.status_code, 400, response.content[:200])
        self.assertIn(field, response.json())
        self.assertEqual(Report.objects.count(), 0)

    def test_in_an_attribute_key_it_is_refused_naming_attributes(self):
        self.assert_rejected(self.post(attributes='{"size": "small", "\\ud800": "x"}'), "attributes")

    def test_in_an_attribute_value_it_is_refused_naming_the_attribute(self):
        self.assert_rejected(self.post(attributes='{"size": "\\ud800"}'), "attributes.size")

    def test_in_the_description_it_is_refused(self):
        self.assert_rejected(self.post(description='"a\\udfffb"'), "description")

    def test_in_the_category_it_is_refused(self):
        self.assert_rejected(self.post(category='"\\ud800"'), "category")

    def test_in_the_reporter_fields_it_is_refused_naming_each(self):
        response = self.post(reporter='{"name": "Lan \\ud800", "email": "a\\ud800@b.vn", "phone": "0901\\ud800"}')
        self.assert_rejected(response, "reporter")
        self.assertEqual(set(response.json()["reporter"]), {"name", "email", "phone"})


class ContactDetailScrubbingTests(SimpleTestCase):
    """Public text hides phone numbers, e-mail addresses and ID numbers as […]."""

    def assert_hidden(self, private: str):
        text = scrub_contact_details(f"Liên hệ {private} nhé")
        self.assertEqual(text, "Liên hệ […] nhé", private)

    def assert_kept(self, text: str):
        self.assertEqual(scrub_contact_details(text), text)

    def test_a_vietnamese_number_written_with_84_but_no_plus(self):
        self.assert_hidden("84987654325")

    def test_international_numbers(self):
        for number in ("+1 415 555 0198", "+44 20 7946 0958", "+84 90 123 4567", "+33 1 42 68 53 00"):
            with self.subTest(number=number):
                self.assert_hidden(number)

    def test_full_width_digits(self):
        for number in ("０９８７６５４３２１", "＋８４ ９８７ ６５４ ３２１"):
            with self.subTest(number=number):
                self.assert_hidden(number)

    def test_e_mail_addresses_written_to_dodge_filters(self):
        for address in ("x at gmail dot com", "x[at]gmail.com", "x @ gmail.com", "x (at) gmail (dot) com",
                        "x AT gmail DOT com", "x＠gmail.com"):
            with self.subTest(address=address):
                self.assert_hidden(address)

    def test_dates_and_times_are_kept(self):
        self.assert_kept("Từ 2026-11-25 10:30 đến 25/11/2026 lúc 14h05, đã báo ngày 2026-11-25T08:00:00+07:00")

    def test_house_numbers_road_names_and_short_numbers_are_kept(self):
        self.assert_kept("Trước nhà 123 Nguyễn Trãi, gần Quốc lộ 61 km 12, hẻm 5/2A, ổ gà sâu 30 cm rộng 1.5 m")

    def test_prices_and_plain_words_around_at_are_kept(self):
        self.assert_kept("Giá @ 5.000đ, meet at the market, gặp tại chợ lúc 7.30")

    def test_amounts_of_dong_are_kept(self):
        self.assert_kept("Dự án 1.000.000.000 đồng, gói 84.000.000.000 đồng, 2,000,000,000 VND")
