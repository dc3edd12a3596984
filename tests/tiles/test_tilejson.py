"""TileJSON 3.0.0 documents: one per layer, with an absolute tile URL, zooms, bounds, centre
and the fields of its vector layer; and the list of layers."""

from django.test import TestCase

from tests.tiles.tileworld import build_tile_world


class TileJsonTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def test_each_layer_has_a_tilejson_document(self):
        for layer in ("reports", "incidents", "hotspots", "areas"):
            document = self.client.get(f"/tiles/{layer}.json").json()
            self.assertEqual(document["tilejson"], "3.0.0")
            self.assertEqual(document["tiles"], [f"http://testserver/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"])
            self.assertEqual([v["id"] for v in document["vector_layers"]], [layer])

    def test_the_document_is_also_under_the_layer(self):
        self.assertEqual(self.client.get("/tiles/areas/tilejson.json").json()["tilejson"], "3.0.0")

    def test_zooms_bounds_and_centre_cover_the_areas(self):
        document = self.client.get("/tiles/reports.json").json()
        self.assertEqual((document["minzoom"], document["maxzoom"]), (0, 18))
        self.assertEqual(document["bounds"], [105.7, 10.0, 105.8, 10.1])
        self.assertEqual(document["center"], [105.75, 10.05, 12])

    def test_fields_are_described_and_public_only(self):
        fields = self.client.get("/tiles/reports.json").json()["vector_layers"][0]["fields"]
        self.assertLessEqual({"public_id", "status", "category", "created_at", "count", "open"}, set(fields))
        self.assertTrue(all(isinstance(text, str) and text for text in fields.values()))
        self.assertFalse({"reporter_name", "reporter_email", "reporter_phone", "priority"} & set(fields))

    def test_descriptions_follow_the_language(self):
        vi = self.client.get("/tiles/areas.json").json()["description"]
        en = self.client.get("/tiles/areas.json", HTTP_ACCEPT_LANGUAGE="en").json()["description"]
        self.assertTrue(en.startswith("Administrative areas"))
        self.assertNotEqual(vi, en)

    def test_report_filters_are_carried_into_the_tile_url(self):
        document = self.client.get("/tiles/reports.json?category=pothole").json()
        self.assertTrue(document["tiles"][0].endswith("{y}.mvt?category=pothole"))

    def test_a_bad_filter_answers_400_naming_it(self):
        response = self.client.get("/tiles/reports.json?status=bogus")
        self.assertEqual(response.status_code, 400)
        self.assertIn("status", response.json())

    def test_an_unknown_layer_answers_404_naming_it(self):
        response = self.client.get("/tiles/people.json")
        self.assertEqual(response.status_code, 404)
        self.assertIn("layer", response.json())

    def test_the_index_lists_every_layer_with_its_document(self):
        layers = self.client.get("/tiles/").json()["layers"]
        self.assertEqual([layer["id"] for layer in layers], ["reports", "incidents", "hotspots", "areas"])
        self.assertEqual(layers[0]["tilejson"], "http://testserver/tiles/reports.json")

    def test_any_web_page_may_read_it(self):
        self.assertEqual(self.client.get("/tiles/reports.json")["Access-Control-Allow-Origin"], "*")
