"""Every malformed OGC API request answers 400 with a JSON body naming the parameter, every
unknown collection or id 404 — never 422 or 500; reads are open to any origin and limited per IP."""

from django.conf import settings
from django.test import TestCase, override_settings

from tests.ogc.world import plant_reports
from tests.world import build_world

ITEMS = "/ogc/collections/reports/items"

BAD = {
    "bbox": ["1,2,3", "1,2,3,4,5", "a,b,c,d", "-190,0,0,10", "0,-95,10,0", "10,0,0,10", "nan,0,1,1", ""],
    "limit": ["0", "-5", "ten", "1.5", ""],
    "datetime": ["yesterday", "2026-02-30", "2026-03-05/2026-03-01", "../..", "..", "/", "2026-01-01T00:00:00+17:00"],
    "crs": ["EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/3857", ""],
    "bbox-crs": ["http://www.opengis.net/def/crs/EPSG/0/999999"],
    "cursor": ["not-a-cursor", "WzFd"],
    "status": ["bogus"],
    "f": ["xml"],
    "lang": ["fr"],
    "offset": ["10"],
    "sortby": ["created_at"],
}


class MalformedParameterTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        plant_reports(2)

    def assert_bad(self, url, name, value):
        response = self.client.get(url, {name: value})
        self.assertEqual(response.status_code, 400, (name, value, response.content))
        self.assertEqual(response["Content-Type"], "application/json")
        body = response.json()
        self.assertEqual((body["code"], body["parameter"]), ("InvalidParameterValue", name))
        self.assertIn(name, body["description"])

    def test_every_malformed_items_parameter_answers_400_naming_it(self):
        for name, values in BAD.items():
            for value in values:
                with self.subTest(name=name, value=value):
                    self.assert_bad(ITEMS, name, value)

    def test_a_metric_bbox_far_outside_the_crs_answers_400(self):
        response = self.client.get(ITEMS, {"bbox": "-1e30,-1e30,1e30,1e30",
                                           "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3405"})
        self.assertEqual((response.status_code, response.json()["parameter"]), (400, "bbox"))

    def test_a_parameter_given_twice_answers_400(self):
        response = self.client.get(f"{ITEMS}?limit=5&limit=6")
        self.assertEqual((response.status_code, response.json()["parameter"]), (400, "limit"))

    def test_unknown_parameters_answer_400_on_every_resource(self):
        for url in ("/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/reports",
                    "/ogc/collections/reports/queryables", f"{ITEMS}/CT-2026-000001", "/ogc/api"):
            with self.subTest(url=url):
                self.assert_bad(url, "bogus", "1")

    def test_a_queryable_of_another_collection_is_unknown_here(self):
        self.assert_bad("/ogc/collections/areas/items", "category", "pothole")

    def test_an_unknown_collection_answers_404_with_a_json_body(self):
        for url in ("/ogc/collections/potholes", "/ogc/collections/potholes/items",
                    "/ogc/collections/potholes/items/1", "/ogc/collections/potholes/queryables"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 404)
                self.assertEqual(response.json()["code"], "NotFound")

    def test_an_unknown_feature_answers_404(self):
        for url in (f"{ITEMS}/CT-1999-999999", "/ogc/collections/incidents/items/999999",
                    "/ogc/collections/incidents/items/not-a-number", "/ogc/collections/hotspots/items/99999999999999999999",
                    "/ogc/collections/areas/items/ZZ"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 404, response.content)
                self.assertIn("description", response.json())

    def test_writes_are_refused(self):
        self.assertEqual(self.client.post(ITEMS).status_code, 405)


class OpenDataTests(TestCase):
    def test_any_origin_may_read(self):
        response = self.client.get("/ogc/collections", HTTP_ORIGIN="https://example.org")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")

    def test_the_preflight_s_headers_are_sent_with_the_preflight_only(self):
        response = self.client.get("/ogc/collections", HTTP_ORIGIN="https://example.org")
        self.assertNotIn("Access-Control-Allow-Methods", response)
        self.assertNotIn("Access-Control-Max-Age", response)

    def test_a_preflight_is_answered(self):
        response = self.client.options(ITEMS, HTTP_ORIGIN="https://example.org",
                                       HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
        self.assertEqual(response.status_code, 204)
        self.assertIn("GET", response["Access-Control-Allow-Methods"])
        self.assertIn("If-None-Match", response["Access-Control-Allow-Headers"])
        self.assertEqual(response["Access-Control-Max-Age"], "86400")

    @override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "open_data_read": "3/min"}})
    def test_too_many_reads_from_one_address_answer_429_with_retry_after(self):
        statuses = [self.client.get("/ogc/conformance").status_code for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])
        response = self.client.get(ITEMS)
        self.assertEqual(response.status_code, 429)
        self.assertGreaterEqual(int(response["Retry-After"]), 1)
        self.assertEqual(response.json()["code"], "TooManyRequests")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
