"""OGC API – Features items and single features over raw HTTP: GeoJSON shape, limit, bbox (and
bbox-crs), datetime, property filters, crs (Part 2) and keyset paging."""

import json
from urllib.parse import parse_qs, urlsplit

from django.test import TestCase

from incidents.ogc.crs import CRS84
from tests.ogc.world import FIRST_DAY, place, plant_reports
from tests.world import build_world

ITEMS = "/ogc/collections/reports/items"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_3405 = "http://www.opengis.net/def/crs/EPSG/0/3405"


def ids(body: dict) -> list:
    return [f["id"] for f in body["features"]]


def link(body: dict, rel: str) -> dict | None:
    return next((item for item in body["links"] if item["rel"] == rel), None)


class ItemsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.reports = plant_reports(12)  # newest: reports[11] on 12 March

    def get(self, url=ITEMS, **params):
        response = self.client.get(url, params)
        self.assertEqual(response.status_code, 200, response.content)
        return response

    def items(self, **params) -> dict:
        return self.get(**params).json()

    def test_items_are_a_geojson_feature_collection_newest_first(self):
        response = self.get()
        self.assertEqual(response["Content-Type"], "application/geo+json")
        body = response.json()
        self.assertEqual(body["type"], "FeatureCollection")
        self.assertEqual(ids(body), [r.public_id for r in reversed(self.reports)])
        self.assertEqual(body["numberReturned"], 12)
        self.assertRegex(body["timeStamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_a_report_feature_carries_its_public_fields_and_public_point(self):
        feature = self.items(limit=1)["features"][0]
        newest = self.reports[-1]
        self.assertEqual(feature["geometry"], {"type": "Point", "coordinates": list(place(11))})
        self.assertEqual(feature["properties"]["public_id"], newest.public_id)
        self.assertEqual(feature["properties"]["category"], "encroachment")
        self.assertEqual(feature["properties"]["ward"], "A")  # lon 105.735

    def test_reports_never_count_the_whole_table(self):
        self.assertNotIn("numberMatched", self.items())

    def test_links_name_the_page_its_html_alternate_and_the_collection(self):
        body = self.items(limit=5)
        self.assertEqual(link(body, "self")["type"], "application/geo+json")
        self.assertEqual(parse_qs(urlsplit(link(body, "alternate")["href"]).query)["f"], ["html"])
        self.assertTrue(link(body, "collection")["href"].endswith("/ogc/collections/reports?f=json"))

    def test_limit_sets_the_page_size_and_next_carries_a_cursor_not_an_offset(self):
        body = self.items(limit=5)
        self.assertEqual(body["numberReturned"], 5)
        query = parse_qs(urlsplit(link(body, "next")["href"]).query)
        self.assertIn("cursor", query)
        self.assertNotIn("offset", query)
        self.assertEqual(query["limit"], ["5"])

    def test_the_last_page_has_no_next_link(self):
        self.assertIsNone(link(self.items(limit=12), "next"))

    def test_a_limit_above_the_maximum_is_clamped(self):
        body = self.items(limit=1_000_000)
        self.assertEqual(body["numberReturned"], 12)

    def test_following_next_while_reports_arrive_neither_repeats_nor_skips(self):
        seen, url, params = [], ITEMS, {"limit": 5}
        while True:
            body = self.items(**params) if url == ITEMS else self.client.get(url).json()
            seen += ids(body)
            if len(seen) == 5:
                plant_reports(3, first=20)  # newer than everything: they belong before page one
            nxt = link(body, "next")
            if nxt is None:
                break
            url, params = nxt["href"], None
        self.assertEqual(seen, [r.public_id for r in reversed(self.reports)])

    def test_bbox_keeps_the_reports_inside_it(self):
        body = self.items(bbox="105.70,10.00,105.75,10.10")  # ward A: columns 0-4 of row 0, 0-3 of row 1
        self.assertEqual(len(body["features"]), 9)
        self.assertTrue(all(f["properties"]["ward"] == "A" for f in body["features"]))

    def test_bbox_in_epsg_4326_is_read_latitude_first(self):
        body = self.items(bbox="10.00,105.70,10.10,105.75", **{"bbox-crs": EPSG_4326})
        self.assertEqual(len(body["features"]), 9)

    def test_bbox_in_the_metric_crs_is_transformed(self):
        # ward A in VN-2000 / UTM 48N metres (EPSG:3405), a little inside lon 105.70-105.748
        body = self.items(bbox="577000,1105700,582000,1116000", **{"bbox-crs": EPSG_3405})
        self.assertEqual({f["properties"]["ward"] for f in body["features"]}, {"A"})
        self.assertEqual(len(body["features"]), 9)

    def test_a_six_number_bbox_ignores_heights(self):
        self.assertEqual(len(self.items(bbox="105.70,10.00,-10,105.75,10.10,100")["features"]), 9)

    def test_datetime_instant_date_is_that_whole_day(self):
        self.assertEqual(ids(self.items(datetime="2026-03-03")), [self.reports[2].public_id])

    def test_datetime_instant_with_time_is_that_moment(self):
        moment = FIRST_DAY.replace(day=4).isoformat().replace("+00:00", "Z")
        self.assertEqual(ids(self.items(datetime=moment)), [self.reports[3].public_id])

    def test_datetime_closed_interval_includes_both_ends(self):
        body = self.items(datetime="2026-03-02T08:00:00Z/2026-03-04T08:00:00Z")
        self.assertEqual(ids(body), [r.public_id for r in reversed(self.reports[1:4])])

    def test_datetime_open_start(self):
        self.assertEqual(ids(self.items(datetime="../2026-03-02")), [r.public_id for r in reversed(self.reports[:2])])

    def test_datetime_open_end(self):
        self.assertEqual(ids(self.items(datetime="2026-03-11/..")), [r.public_id for r in reversed(self.reports[10:])])

    def test_datetime_empty_end_is_open_too(self):
        self.assertEqual(len(self.items(datetime="2026-03-11/")["features"]), 2)

    def test_category_filter(self):
        body = self.items(category="pothole")
        self.assertEqual({f["properties"]["category"] for f in body["features"]}, {"pothole"})
        self.assertEqual(len(body["features"]), 6)

    def test_status_department_and_ward_filters(self):
        self.assertEqual(len(self.items(status="new")["features"]), 12)
        self.assertEqual(len(self.items(status="resolved")["features"]), 0)
        body = self.items(ward="B", department="ubnd-b")
        self.assertEqual({(f["properties"]["ward"], f["properties"]["category"]) for f in body["features"]},
                         {("B", "encroachment")})

    def test_filters_combine_and_keep_paging(self):
        body = self.items(category="pothole", ward="A", limit=2)
        self.assertEqual(len(body["features"]), 2)
        pages = [body]
        while link(pages[-1], "next"):
            pages.append(self.client.get(link(pages[-1], "next")["href"]).json())
        features = [f for page in pages for f in page["features"]]
        self.assertEqual(len(features), 5)  # potholes (even numbers) in A: 0, 2, 4 and 8, 10
        self.assertTrue(all(f["properties"]["ward"] == "A" for f in features))

    def test_default_crs_is_crs84_and_said_in_content_crs(self):
        self.assertEqual(self.get()["Content-Crs"], f"<{CRS84}>")

    def test_crs_epsg_4326_answers_latitude_first(self):
        response = self.get(limit=1, crs=EPSG_4326)
        self.assertEqual(response["Content-Crs"], f"<{EPSG_4326}>")
        lon, lat = place(11)
        self.assertEqual(response.json()["features"][0]["geometry"]["coordinates"], [lat, lon])

    def test_crs_metric_answers_in_metres(self):
        response = self.get(limit=1, crs=EPSG_3405)
        self.assertEqual(response["Content-Crs"], f"<{EPSG_3405}>")
        x, y = response.json()["features"][0]["geometry"]["coordinates"]
        self.assertTrue(500_000 < x < 700_000 and 1_000_000 < y < 1_200_000, (x, y))


class FeatureTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        (cls.report,) = plant_reports(1)

    def test_one_report_is_a_feature_with_self_alternate_and_collection_links(self):
        response = self.client.get(f"{ITEMS}/{self.report.public_id}")
        self.assertEqual(response["Content-Type"], "application/geo+json")
        body = response.json()
        self.assertEqual((body["type"], body["id"]), ("Feature", self.report.public_id))
        self.assertTrue(link(body, "self")["href"].endswith(f"/items/{self.report.public_id}?f=json"))
        self.assertEqual(link(body, "alternate")["type"], "text/html")
        self.assertEqual(link(body, "collection")["type"], "application/json")

    def test_one_feature_in_another_crs(self):
        response = self.client.get(f"{ITEMS}/{self.report.public_id}", {"crs": EPSG_4326})
        self.assertEqual(response.json()["geometry"]["coordinates"], list(reversed(place(0))))
        self.assertEqual(response["Content-Crs"], f"<{EPSG_4326}>")

    def test_one_incident(self):
        incident_id = self.report.incident_id
        body = self.client.get(f"/ogc/collections/incidents/items/{incident_id}").json()
        self.assertEqual((body["id"], body["properties"]["report_count"]), (incident_id, 1))

    def test_one_area_by_its_code(self):
        body = self.client.get("/ogc/collections/areas/items/A").json()
        self.assertEqual((body["id"], body["properties"]["kind"], body["geometry"]["type"]), ("A", "ward", "MultiPolygon"))

    def test_the_html_page_of_a_feature_shows_it_on_a_map(self):
        response = self.client.get(f"{ITEMS}/{self.report.public_id}", HTTP_ACCEPT="text/html")
        self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")
        html = response.content.decode()
        self.assertIn('id="ogc-map"', html)
        self.assertIn("leaflet.js", html)
        feature = json.loads(html.split('id="ogc-features" type="application/json">')[1].split("</script>")[0])
        self.assertEqual(feature["id"], self.report.public_id)


class OtherCollectionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        plant_reports(4)

    def test_incidents_page_newest_first_with_a_cursor(self):
        body = self.client.get("/ogc/collections/incidents/items", {"limit": 3}).json()
        first = [f["id"] for f in body["features"]]
        self.assertEqual(first, sorted(first, reverse=True))
        rest = self.client.get(link(body, "next")["href"]).json()
        self.assertEqual(len(first) + len(rest["features"]), 4)

    def test_areas_are_counted_since_the_table_is_small(self):
        body = self.client.get("/ogc/collections/areas/items", {"kind": "ward"}).json()
        self.assertEqual((body["numberMatched"], body["numberReturned"]), (2, 2))
        self.assertEqual(sorted(ids(body)), ["A", "B"])

    def test_areas_take_no_datetime(self):
        response = self.client.get("/ogc/collections/areas/items", {"datetime": "2026-03-01"})
        self.assertEqual((response.status_code, response.json()["parameter"]), (400, "datetime"))

    def test_hotspots_is_an_empty_collection_until_computed(self):
        body = self.client.get("/ogc/collections/hotspots/items").json()
        self.assertEqual((body["features"], body["numberMatched"]), ([], 0))
