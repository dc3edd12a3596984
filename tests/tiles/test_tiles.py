"""Vector tiles of the four layers, decoded with mapbox-vector-tile: what each carries, grid
counts when zoomed out, the answers for empty and impossible tiles, CORS and the read limit."""

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.test import TestCase, override_settings
from django.utils import timezone

from gis.tiles import Tile
from incidents.models import Hotspot
from incidents.tiles.layers import POINTS_FROM_ZOOM
from tests.tiles.tileworld import OPEN_ONLY, build_tile_world, decode, home_tile, url


class TileTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)
        cls.hotspot = Hotspot.objects.create(
            category=cls.pothole, window_start=timezone.now(), window_end=timezone.now(), report_count=7,
            open_count=5, previous_count=2, footprint=Polygon.from_bbox((105.719, 10.019, 105.724, 10.022)),
            centroid="SRID=4326;POINT(105.7215 10.0205)")

    def features(self, layer, tile, query="", **headers):
        response = self.client.get(url(layer, tile, query), **headers)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return decode(response.content)[layer]["features"]

    def test_a_tile_is_a_mapbox_vector_tile(self):
        response = self.client.get(url("reports", home_tile(14)))
        self.assertEqual(response["Content-Type"], "application/vnd.mapbox-vector-tile")

    def test_a_tile_carries_no_content_security_policy_as_it_is_no_document(self):
        self.assertNotIn("Content-Security-Policy", self.client.get(url("reports", home_tile(14))))

    def test_zoomed_in_reports_are_points_with_their_public_fields(self):
        features = self.features("reports", home_tile(14))
        self.assertEqual({f["properties"]["public_id"] for f in features},
                         {r.public_id for r in self.reports} | {self.sensitive.public_id})
        pothole = next(f for f in features if f["properties"]["public_id"] == self.reports[0].public_id)
        self.assertEqual(pothole["geometry"]["type"], "Point")
        self.assertEqual(pothole["properties"]["category"], "pothole")
        self.assertEqual(pothole["properties"]["status"], "new")
        self.assertEqual(pothole["properties"]["department"], "construction")
        self.assertAlmostEqual(pothole["properties"]["created_at"], self.reports[0].created_at.timestamp(), delta=1)

    def test_names_follow_the_language_asked_for(self):
        vi = self.features("reports", home_tile(14))[0]["properties"]["category_name"]
        en = self.features("reports", home_tile(14), HTTP_ACCEPT_LANGUAGE="en")[0]["properties"]["category_name"]
        self.assertEqual((vi, en), ("Ổ gà", "Pothole"))

    def test_zoomed_out_reports_are_grid_counts_not_points(self):
        features = self.features("reports", home_tile(POINTS_FROM_ZOOM - 1))
        self.assertEqual(sum(f["properties"]["count"] for f in features), 5)
        self.assertTrue(all(set(f["properties"]) == {"count", "open"} for f in features))

    def test_grid_counts_at_zoom_ten_put_nearby_reports_in_one_cell(self):
        features = self.features("reports", home_tile(10))
        self.assertEqual([(f["properties"]["count"], f["properties"]["open"]) for f in features], [(5, 5)])

    def test_report_filters_apply_to_points_and_counts(self):
        self.assertEqual(len(self.features("reports", home_tile(14), "category=pothole")), 4)
        cells = self.features("reports", home_tile(10), "category=illegal-construction")
        self.assertEqual(sum(f["properties"]["count"] for f in cells), 1)

    def test_a_bad_filter_answers_400_naming_it(self):
        response = self.client.get(url("reports", home_tile(14), "status=bogus"))
        self.assertEqual(response.status_code, 400)
        self.assertIn("status", response.json())

    def test_incidents_are_points_with_their_id(self):
        features = self.features("incidents", home_tile(14))
        self.assertEqual({f["id"] for f in features}, {r.incident_id for r in self.reports + [self.sensitive]})
        self.assertIn("report_count", features[0]["properties"])

    def test_zoomed_out_incidents_are_grid_counts(self):
        features = self.features("incidents", home_tile(10), OPEN_ONLY)
        self.assertEqual(sum(f["properties"]["count"] for f in features), 5)

    def test_areas_are_polygons_with_codes_and_names(self):
        features = self.features("areas", home_tile(12))
        by_code = {f["properties"]["code"]: f for f in features}
        self.assertLessEqual({"P", "A"}, set(by_code))
        self.assertEqual(by_code["A"]["properties"]["name_en"], "Ward A")
        self.assertEqual(by_code["A"]["geometry"]["type"], "Polygon")

    def test_hotspots_are_footprints_with_counts_and_trend(self):
        [hotspot] = self.features("hotspots", home_tile(14))
        self.assertEqual(hotspot["id"], self.hotspot.pk)
        self.assertEqual(hotspot["geometry"]["type"], "Polygon")
        self.assertEqual((hotspot["properties"]["report_count"], hotspot["properties"]["trend"]), (7, 2.5))

    def test_a_tile_with_nothing_in_it_answers_204(self):
        response = self.client.get(url("reports", Tile(15, 0, 0)))
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.content, b"")
        self.assertNotIn("Content-Type", response)  # no content, so no type (not Django's text/html)

    def test_a_zoom_beyond_the_last_answers_404_naming_z(self):
        response = self.client.get("/tiles/reports/23/0/0.mvt")
        self.assertEqual(response.status_code, 404)
        self.assertIn("z", response.json())

    def test_x_beyond_the_zoom_answers_404_naming_x(self):
        response = self.client.get("/tiles/reports/3/8/0.mvt")
        self.assertEqual(response.status_code, 404)
        self.assertIn("x", response.json())

    def test_y_beyond_the_zoom_answers_404_naming_y(self):
        response = self.client.get("/tiles/areas/0/0/1.mvt")
        self.assertEqual(response.status_code, 404)
        self.assertIn("y", response.json())

    def test_a_coordinate_that_is_not_a_number_answers_400_naming_it(self):
        for path, part in (("/tiles/reports/a/0/0.mvt", "z"), ("/tiles/reports/1/-1/0.mvt", "x"),
                           ("/tiles/reports/1/0/1e3.mvt", "y")):
            response = self.client.get(path)
            self.assertEqual(response.status_code, 400, path)
            self.assertIn(part, response.json(), path)

    def test_an_unknown_layer_answers_404_naming_it(self):
        response = self.client.get("/tiles/reporters/1/0/0.mvt")
        self.assertEqual(response.status_code, 404)
        self.assertIn("layer", response.json())

    def test_writes_are_refused(self):
        self.assertEqual(self.client.post(url("reports", home_tile(14))).status_code, 405)

    def test_any_web_page_may_read_tiles(self):
        response = self.client.get(url("reports", home_tile(14)), HTTP_ORIGIN="https://maps.example.org")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        self.assertIn("ETag", response["Access-Control-Expose-Headers"])

    def test_a_preflight_is_answered(self):
        response = self.client.options(url("reports", home_tile(14)), HTTP_ORIGIN="https://maps.example.org",
                                       HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")

    def test_reads_from_one_address_are_rate_limited(self):
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "open_data_read": "2/min"}
        with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
            codes = [self.client.get(url("reports", home_tile(14))).status_code for _ in range(3)]
            tilejson = self.client.get("/tiles/reports.json")
        self.assertEqual(codes, [200, 200, 429])
        self.assertEqual(tilejson.status_code, 429)
        self.assertTrue(tilejson["Retry-After"].isdigit())
