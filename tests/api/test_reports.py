"""The report intake API: the happy path, every kind of bad input (nothing saved after each),
and the public reads."""

import json

from django.conf import settings
from django.test import TestCase, override_settings
from rest_framework.test import APIClient

from incidents.models import Report, ReportEvent
from tests.world import build_world, project

URL = "/api/v1/reports/"


def pothole(**overrides):
    body = {
        "category": "pothole",
        "location": {"type": "Point", "coordinates": [105.72, 10.02]},
        "location_accuracy_m": 5,
        "description": "Ổ gà lớn trước chợ",
        "attributes": {"size": "large", "depth_cm": 12},
        "reporter": {"name": "Nguyễn Văn A", "email": "a@example.vn", "phone": "0909 123 456"},
    }
    body.update(overrides)
    return body


class IntakeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def setUp(self):
        self.client = APIClient()

    def post(self, body, **kwargs):
        return self.client.post(URL, body, format="json", **kwargs)

    def assert_rejected(self, response, field):
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn(field, response.json())
        self.assertTrue(all(isinstance(m, str) for m in response.json()[field]))
        self.assertEqual(Report.objects.count(), 0)
        self.assertEqual(ReportEvent.objects.count(), 0)

    def test_pothole_is_stored_routed_and_explained(self):
        response = self.post(pothole())
        self.assertEqual(response.status_code, 201, response.content)
        feature = response.json()
        props = feature["properties"]
        self.assertEqual(feature["type"], "Feature")
        self.assertEqual(feature["geometry"]["coordinates"], [105.72, 10.02])
        self.assertRegex(props["public_id"], r"^CT-\d{4}-\d{6}$")
        self.assertEqual(props["status"], "new")
        self.assertEqual(props["department"]["code"], "construction")
        self.assertEqual(props["routing"]["reason"], "rule")
        self.assertIn("Phường A", props["routing"]["text"])  # the place, in plain words
        self.assertNotIn("roads default", json.dumps(props["routing"]))  # the rule's name is staff-only
        self.assertEqual(props["ward"]["code"], "A")
        self.assertEqual(props["attributes"], {"size": "large", "depth_cm": 12})
        self.assertEqual(response["Location"], f"http://testserver/api/v1/reports/{props['public_id']}/")

    def test_report_is_saved_with_created_and_routed_events(self):
        public_id = self.post(pothole()).json()["properties"]["public_id"]
        report = Report.objects.get(public_id=public_id)
        self.assertEqual(report.reporter_email, "a@example.vn")
        self.assertEqual(report.source, "api")
        self.assertEqual(list(report.events.values_list("kind", flat=True)), ["created", "routed"])

    def test_response_never_contains_reporter_contact_data(self):
        text = self.post(pothole()).content.decode()
        for private in ("Nguyễn Văn A", "a@example.vn", "0909", "reporter"):
            self.assertNotIn(private, text)

    def test_contact_details_typed_into_the_description_are_scrubbed_from_public_output(self):
        response = self.post(pothole(description="Gọi tôi 0909 123 456 hoặc x@y.vn"))
        self.assertEqual(response.json()["properties"]["description"], "Gọi tôi […] hoặc […]")

    def test_script_in_description_is_stored_as_plain_text(self):
        response = self.post(pothole(description="<script>alert(1)</script>"))
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Report.objects.get().description, "<script>alert(1)</script>")
        self.assertEqual(response.json()["properties"]["description"], "<script>alert(1)</script>")
        self.assertEqual(response["Content-Type"], "application/geo+json")

    def test_english_explanation_when_asked_in_english(self):
        response = self.post(pothole(), HTTP_ACCEPT_LANGUAGE="en")
        routing = response.json()["properties"]["routing"]
        self.assertEqual(routing["text"], "Sent to Construction because the problem is in Ward A.")

    def test_address_only_report_goes_to_triage(self):
        body = pothole(address="123 Đường 30/4")
        del body["location"]
        response = self.post(body)
        self.assertEqual(response.status_code, 201)
        self.assertIsNone(response.json()["geometry"])
        self.assertEqual(response.json()["properties"]["department"]["code"], "ioc")

    def test_latitude_91_is_refused(self):
        self.assert_rejected(self.post(pothole(location={"type": "Point", "coordinates": [105.72, 91]})), "location")

    def test_longitude_minus_181_is_refused(self):
        self.assert_rejected(self.post(pothole(location={"type": "Point", "coordinates": [-181, 10]})), "location")

    def test_non_numeric_coordinates_are_refused(self):
        self.assert_rejected(self.post(pothole(location={"type": "Point", "coordinates": ["x", "10"]})), "location")

    def test_not_a_point_is_refused(self):
        self.assert_rejected(self.post(pothole(location={"type": "LineString", "coordinates": [[1, 2], [3, 4]]})),
                             "location")

    def test_neither_location_nor_address_is_refused(self):
        body = pothole()
        del body["location"]
        self.assert_rejected(self.post(body), "location")

    def test_missing_category_is_refused(self):
        body = pothole()
        del body["category"]
        self.assert_rejected(self.post(body), "category")

    def test_unknown_category_is_refused(self):
        self.assert_rejected(self.post(pothole(category="no-such-thing")), "category")

    def test_inactive_category_is_refused(self):
        self.assert_rejected(self.post(pothole(category="retired", attributes={})), "category")

    def test_point_outside_the_jurisdiction_is_refused_naming_the_location(self):
        response = self.post(pothole(location={"type": "Point", "coordinates": [106.9, 9.1]}))
        self.assert_rejected(response, "location")
        self.assertIn("9.100000, 106.900000", response.json()["location"][0])

    def test_description_of_4001_characters_is_refused(self):
        self.assert_rejected(self.post(pothole(description="x" * 4001)), "description")

    def test_description_of_4000_characters_is_accepted(self):
        self.assertEqual(self.post(pothole(description="x" * 4000)).status_code, 201)

    def test_attribute_of_the_wrong_type_is_refused(self):
        self.assert_rejected(self.post(pothole(attributes={"size": "large", "depth_cm": "deep"})),
                             "attributes.depth_cm")

    def test_attribute_out_of_range_is_refused(self):
        self.assert_rejected(self.post(pothole(attributes={"size": "large", "depth_cm": 900})), "attributes.depth_cm")

    def test_attribute_value_not_in_the_list_is_refused(self):
        self.assert_rejected(self.post(pothole(attributes={"size": "enormous"})), "attributes.size")

    def test_missing_required_attribute_is_refused(self):
        self.assert_rejected(self.post(pothole(attributes={"depth_cm": 3})), "attributes.size")

    def test_unknown_attribute_is_refused(self):
        self.assert_rejected(self.post(pothole(attributes={"size": "small", "colour": "red"})), "attributes")

    def test_category_that_refuses_anonymous_reports_needs_contact(self):
        body = pothole(category="illegal-construction", attributes={}, reporter={})
        self.assert_rejected(self.post(body), "reporter.name")

    def test_invalid_email_is_refused(self):
        self.assert_rejected(self.post(pothole(reporter={"email": "not-an-email"})), "reporter.email")

    def test_negative_accuracy_is_refused(self):
        self.assert_rejected(self.post(pothole(location_accuracy_m=-3)), "location_accuracy_m")

    def test_malformed_json_is_refused(self):
        response = self.client.post(URL, '{"category": "pothole",', content_type="application/json")
        self.assert_rejected(response, "body")

    def test_wrong_content_type_is_refused(self):
        response = self.client.post(URL, "category=pothole", content_type="application/x-www-form-urlencoded")
        self.assert_rejected(response, "content_type")

    def test_json_array_body_is_refused(self):
        response = self.client.post(URL, "[1, 2]", content_type="application/json")
        self.assert_rejected(response, "body")

    def test_ten_megabyte_body_is_refused(self):
        body = json.dumps(pothole(description="x" * (10 * 1024 * 1024)))
        response = self.client.post(URL, body, content_type="application/json")
        self.assert_rejected(response, "body")

    @override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                       "DEFAULT_THROTTLE_RATES": {"report_submit": "2/hour"}})
    def test_submissions_from_one_address_are_rate_limited(self):
        codes = [self.post(pothole()).status_code for _ in range(3)]
        self.assertEqual(codes, [201, 201, 429])
        self.assertEqual(Report.objects.count(), 2)


class ReadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        from incidents.intake import ReportDraft, Reporter, submit_report

        cls.reports = []
        for i in range(5):
            lon, lat = project(105.72, 10.02, i * 1500, 90)  # ward B starts 3.3 km east
            cls.reports.append(submit_report(ReportDraft(
                category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                description=f"report {i}", reporter=Reporter(name="Secret Name", email="secret@example.vn"))))
        from incidents.models import Category

        Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100)
        cls.hidden = submit_report(ReportDraft(category_code="illegal-construction", lon=105.7234567, lat=10.0234567,
                                               reporter=Reporter(name="Người báo", phone="0912345678")))

    def get(self, url, **params):
        return self.client.get(url, params)

    def test_list_is_a_feature_collection_newest_first(self):
        data = self.get(URL).json()
        self.assertEqual(data["type"], "FeatureCollection")
        ids = [f["id"] for f in data["features"]]
        self.assertEqual(ids[0], self.hidden.public_id)
        self.assertEqual(len(ids), 6)

    def test_keyset_pagination_walks_every_report_once(self):
        seen, url = [], f"{URL}?limit=2"
        while url:
            data = self.client.get(url).json()
            seen += [f["id"] for f in data["features"]]
            url = data.get("next")
        self.assertEqual(len(seen), 6)
        self.assertEqual(len(set(seen)), 6)

    def test_bbox_filter(self):
        lon, _ = project(105.72, 10.02, 3200, 90)
        data = self.get(URL, bbox=f"105.70,10.0,{lon},10.05").json()
        self.assertEqual(len(data["features"]), 4)  # 0, 1500 and 3000 m east, plus the hidden one

    def test_category_status_department_and_area_filters(self):
        self.assertEqual(len(self.get(URL, category="pothole").json()["features"]), 5)
        self.assertEqual(len(self.get(URL, status="resolved").json()["features"]), 0)
        self.assertEqual(len(self.get(URL, department="ubnd-a").json()["features"]), 1)
        self.assertEqual(len(self.get(URL, area="B").json()["features"]), 2)  # 4500 and 6000 m east

    def test_created_range_filter(self):
        self.assertEqual(len(self.get(URL, created_after="2000-01-01").json()["features"]), 6)
        self.assertEqual(len(self.get(URL, created_before="2000-01-01").json()["features"]), 0)

    def test_bad_filters_answer_400_naming_the_parameter(self):
        for params, field in [({"bbox": "1,2,3"}, "bbox"), ({"bbox": "0,0,200,1"}, "bbox"),
                              ({"status": "bogus"}, "status"), ({"limit": "0"}, "limit"),
                              ({"cursor": "!!!"}, "cursor"), ({"created_after": "yesterday"}, "created_after")]:
            response = self.get(URL, **params)
            self.assertEqual(response.status_code, 400, params)
            self.assertIn(field, response.json())

    def test_public_outputs_never_carry_contact_data(self):
        for url in (URL, f"{URL}{self.hidden.public_id}/", f"{URL}{self.reports[0].public_id}/"):
            text = self.client.get(url).content.decode()
            for private in ("Secret Name", "secret@example.vn", "Người báo", "0912345678", "reporter"):
                self.assertNotIn(private, text, url)

    def distance_to_exact(self, lon, lat):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT ST_Distance(ST_MakePoint(%s, %s)::geography, "
                           "ST_MakePoint(105.7234567, 10.0234567)::geography)", [lon, lat])
            return cursor.fetchone()[0]

    def test_sensitive_category_location_is_snapped_to_its_public_precision(self):
        lon, lat = self.client.get(f"{URL}{self.hidden.public_id}/").json()["geometry"]["coordinates"]
        self.assertGreater(self.distance_to_exact(lon, lat), 1)
        self.assertLessEqual(self.distance_to_exact(lon, lat), 100 * 0.71 + 1)  # half the grid diagonal

    def test_a_tiny_bbox_around_the_exact_point_does_not_find_a_sensitive_report(self):
        data = self.get(URL, bbox="105.723455,10.023455,105.723458,10.023458").json()
        self.assertEqual(data["features"], [])

    def test_aggregates_only_know_the_public_point(self):
        data = self.get("/api/v1/reports/aggregate/", bbox="105.70,10.0,105.8,10.1", zoom=22,
                        category="illegal-construction").json()
        lon, lat = data["features"][0]["geometry"]["coordinates"]
        self.assertGreater(self.distance_to_exact(lon, lat), 1)

    def test_public_routing_of_a_sensitive_report_carries_no_exact_distance(self):
        routing = self.client.get(f"{URL}{self.hidden.public_id}/").json()["properties"]["routing"]
        self.assertIsNone((routing["place"] or {}).get("distance_m"))

    def test_detail_of_unknown_report_is_404(self):
        self.assertEqual(self.client.get(f"{URL}CT-1999-000000/").status_code, 404)

    def test_categories_list_attributes(self):
        data = self.client.get("/api/v1/categories/").json()
        pothole = next(c for c in data if c["code"] == "pothole")
        self.assertEqual([a["code"] for a in pothole["attributes"]], ["depth_cm", "size"])
        self.assertNotIn("retired", [c["code"] for c in data])

    def test_departments_list(self):
        data = self.client.get("/api/v1/departments/").json()
        self.assertIn({"code": "ioc", "name_vi": "Trung tâm IOC", "name_en": "Operations Center",
                       "is_operations_center": True}, data)
        self.assertNotIn("email", data[0])

    def test_areas_are_geojson_and_simplified_by_zoom(self):
        data = self.client.get("/api/v1/areas/", {"kind": "ward", "zoom": 5}).json()
        self.assertEqual(sorted(f["id"] for f in data["features"]), ["A", "B"])
        self.assertEqual(data["features"][0]["properties"]["parent"], "P")
        self.assertEqual(self.client.get("/api/v1/areas/", {"zoom": "99"}).status_code, 400)

    def test_schema_and_docs_are_served(self):
        self.assertEqual(self.client.get("/api/schema/").status_code, 200)
        docs = self.client.get("/api/docs/")
        self.assertEqual(docs.status_code, 200)
        self.assertIn(b"/static/vendor/swagger-ui-dist", docs.content)

    def test_healthz_checks_the_database(self):
        data = self.client.get("/healthz").json()
        self.assertEqual((data["status"], data["database"]), ("ok", "ok"))


class LanguageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_errors_are_vietnamese_by_default_and_english_on_request(self):
        client = APIClient()
        vi = client.post(URL, pothole(category="nope"), format="json").json()["category"][0]
        en = client.post(URL, pothole(category="nope"), format="json", HTTP_ACCEPT_LANGUAGE="en").json()["category"][0]
        self.assertEqual(vi, 'Không có lĩnh vực "nope".')
        self.assertEqual(en, 'Unknown category "nope".')
