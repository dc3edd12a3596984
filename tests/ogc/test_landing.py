"""The OGC API's landing page, conformance, API definition and collections over raw HTTP: the
links each requirement class asks for, JSON and HTML by `f` and by Accept, both languages."""

import json

from django.test import TestCase
from openapi_spec_validator import validate

from incidents.ogc.crs import CRS84
from tests.ogc.world import plant_reports
from tests.world import build_world

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def rels(body: dict) -> dict[str, dict]:
    return {item["rel"]: item for item in body["links"]}


class LandingPageTests(TestCase):
    def test_landing_links_to_itself_the_api_its_docs_conformance_and_data(self):
        response = self.client.get("/ogc/")
        self.assertEqual(response["Content-Type"], "application/json")
        links = rels(response.json())
        self.assertEqual(set(links) >= {"self", "alternate", "service-desc", "service-doc", "conformance", "data"},
                         True, links)
        self.assertEqual(links["service-desc"]["type"], "application/vnd.oai.openapi+json;version=3.0")
        self.assertEqual(links["service-doc"]["type"], "text/html")
        self.assertTrue(links["data"]["href"].endswith("/ogc/collections"))

    def test_a_browser_gets_html_by_its_accept_header_with_a_json_alternate(self):
        response = self.client.get("/ogc/", HTTP_ACCEPT=BROWSER_ACCEPT)
        self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")
        self.assertContains(response, 'rel="alternate" type="application/json" href="http://testserver/ogc/?f=json"')

    def test_f_html_and_f_json_override_accept(self):
        self.assertEqual(self.client.get("/ogc/?f=html", HTTP_ACCEPT="application/json")["Content-Type"],
                         "text/html; charset=utf-8")
        self.assertEqual(self.client.get("/ogc/?f=json", HTTP_ACCEPT=BROWSER_ACCEPT)["Content-Type"],
                         "application/json")

    def test_json_links_its_html_alternate_and_html_its_json_one(self):
        as_json = rels(self.client.get("/ogc/?f=json").json())
        self.assertTrue(as_json["self"]["href"].endswith("?f=json"))
        self.assertEqual((as_json["alternate"]["type"], as_json["alternate"]["href"][-7:]), ("text/html", "?f=html"))

    def test_conformance_lists_the_classes_implemented(self):
        body = self.client.get("/ogc/conformance").json()
        for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                     "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
                     "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/queryables"):
            self.assertIn(f"http://www.opengis.net/spec/{part}", body["conformsTo"])

    def test_conformance_has_an_html_page(self):
        self.assertContains(self.client.get("/ogc/conformance?f=html"), "conf/core")

    def test_the_api_definition_is_valid_openapi_3_0(self):
        response = self.client.get("/ogc/api")
        self.assertEqual(response["Content-Type"], "application/vnd.oai.openapi+json;version=3.0")
        document = json.loads(response.content)
        validate(document)
        self.assertEqual(document["openapi"][:3], "3.0")
        items = document["paths"]["/collections/reports/items"]["get"]
        limit = next(p for p in document["components"]["parameters"].values() if p["name"] == "limit")
        self.assertEqual((limit["schema"]["default"], limit["schema"]["maximum"]), (100, 10_000))
        names = {p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in items["parameters"]}
        self.assertTrue({"bbox", "bbox-crs", "datetime", "limit", "crs", "category", "status", "department",
                         "ward"} <= names, names)

    def test_the_api_documentation_is_a_page_for_people(self):
        response = self.client.get("/ogc/api.html")
        self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")
        self.assertContains(response, 'data-spec="/ogc/api"')

    def test_landing_page_speaks_english_when_asked(self):
        english = self.client.get("/ogc/", HTTP_ACCEPT_LANGUAGE="en").json()["title"]
        vietnamese = self.client.get("/ogc/", HTTP_ACCEPT_LANGUAGE="vi").json()["title"]
        self.assertEqual(english, "Citypin open data")
        self.assertNotEqual(vietnamese, english)
        self.assertEqual(self.client.get("/ogc/?lang=en", HTTP_ACCEPT_LANGUAGE="vi").json()["title"], english)


class CollectionsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.reports = plant_reports(3)

    def test_collections_lists_the_four_collections(self):
        body = self.client.get("/ogc/collections").json()
        self.assertEqual([c["id"] for c in body["collections"]], ["reports", "incidents", "hotspots", "areas"])
        self.assertIn("self", rels(body))

    def test_a_collection_describes_its_items_crs_and_links(self):
        body = self.client.get("/ogc/collections/reports").json()
        self.assertEqual((body["id"], body["itemType"], body["storageCrs"]), ("reports", "feature", CRS84))
        self.assertEqual(body["crs"], [CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326",
                                       "http://www.opengis.net/def/crs/EPSG/0/3405"])
        links = [(link["rel"], link["type"]) for link in body["links"]]
        self.assertIn(("items", "application/geo+json"), links)
        self.assertIn(("items", "text/html"), links)
        self.assertIn(("alternate", "text/html"), links)

    def test_the_extent_covers_the_reports_in_space_and_time(self):
        extent = self.client.get("/ogc/collections/reports").json()["extent"]
        minx, miny, maxx, maxy = extent["spatial"]["bbox"][0]
        self.assertTrue(minx <= 105.705 and miny <= 10.005 and maxx >= 105.725 and maxy >= 10.005)
        self.assertEqual(extent["temporal"]["interval"][0][0][:10], "2026-03-01")
        self.assertEqual(extent["temporal"]["interval"][0][1][:10], "2026-03-03")

    def test_areas_have_a_spatial_extent_and_no_time(self):
        extent = self.client.get("/ogc/collections/areas").json()["extent"]
        self.assertEqual(extent["spatial"]["bbox"], [[105.7, 10.0, 105.8, 10.1]])
        self.assertNotIn("temporal", extent)

    def test_title_and_description_in_the_language_asked_for(self):
        english = self.client.get("/ogc/collections/reports", HTTP_ACCEPT_LANGUAGE="en").json()
        vietnamese = self.client.get("/ogc/collections/reports", HTTP_ACCEPT_LANGUAGE="vi").json()
        self.assertEqual(english["title"], "Reports")
        self.assertNotEqual(vietnamese["title"], "Reports")
        self.assertNotEqual(vietnamese["description"], english["description"])

    def test_names_in_features_follow_the_language(self):
        url = "/ogc/collections/reports/items"
        english = self.client.get(url, {"lang": "en", "category": "pothole"}).json()["features"][0]["properties"]
        vietnamese = self.client.get(url, {"lang": "vi", "category": "pothole"}).json()["features"][0]["properties"]
        self.assertEqual((english["category_name"], vietnamese["category_name"]), ("Pothole", "Ổ gà"))

    def test_queryables_is_a_json_schema_of_the_filter_properties(self):
        response = self.client.get("/ogc/collections/reports/queryables")
        self.assertEqual(response["Content-Type"], "application/schema+json")
        body = response.json()
        self.assertEqual(set(body["properties"]), {"category", "status", "department", "ward"})
        self.assertEqual(body["type"], "object")

    def test_collection_pages_have_html(self):
        for url in ("/ogc/collections", "/ogc/collections/reports", "/ogc/collections/reports/items",
                    "/ogc/collections/areas/items", "/ogc/collections/reports/queryables"):
            with self.subTest(url=url):
                response = self.client.get(url, {"f": "html"})
                self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")

    def test_items_html_lists_features_with_links_to_each(self):
        html = self.client.get("/ogc/collections/reports/items", {"f": "html"}).content.decode()
        for report in self.reports:
            self.assertIn(f'/ogc/collections/reports/items/{report.public_id}?f=html', html)
