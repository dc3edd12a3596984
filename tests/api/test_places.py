"""GET /api/v1/places/: wards and named roads found by name, diacritics and case optional,
and what lies at a point (the nearest named road, the ward), from the areas and assets loaded."""

from django.test import TestCase

from tests.world import build_world

URL = "/api/v1/places/"


class PlaceSearchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def names(self, **params) -> list[str]:
        response = self.client.get(URL, params, HTTP_ACCEPT_LANGUAGE=params.pop("lang", "vi"))
        self.assertEqual(response.status_code, 200, response.content)
        return [f["properties"]["name"] for f in response.json()["features"]]

    def test_a_road_is_found_without_its_diacritics(self):
        self.assertEqual(self.names(q="quoc lo thu")[0], "Quốc lộ Thử")

    def test_a_ward_is_found_in_any_case(self):
        self.assertEqual(self.names(q="PHUONG b")[0], "Phường B")

    def test_a_word_with_its_diacritics_is_found_too(self):
        self.assertIn("Tỉnh Thử", self.names(q="Tỉnh"))

    def test_english_names_are_searched_and_answered_in_english(self):
        self.assertEqual(self.names(q="ward a", lang="en")[0], "Ward A")

    def test_a_place_comes_with_a_point_on_it_and_its_extent(self):
        feature = self.client.get(URL, {"q": "phuong a"}).json()["features"][0]
        lon, lat = feature["geometry"]["coordinates"]
        min_lon, min_lat, max_lon, max_lat = feature["bbox"]
        self.assertTrue(min_lon <= lon <= max_lon and min_lat <= lat <= max_lat)
        self.assertEqual((feature["properties"]["source"], feature["properties"]["kind"]), ("area", "ward"))
        self.assertEqual([min_lon, min_lat, max_lon, max_lat], [105.7, 10.0, 105.75, 10.1])

    def test_nothing_matching_is_an_empty_collection(self):
        self.assertEqual(self.names(q="zzzz qqqq"), [])

    def test_a_point_by_the_road_names_the_road_then_the_ward(self):
        features = self.client.get(URL, {"lon": "105.73", "lat": "10.0502"}).json()["features"]
        self.assertEqual([f["properties"]["name"] for f in features], ["Quốc lộ Thử", "Phường A"])
        self.assertLess(features[0]["properties"]["distance_m"], 30)

    def test_a_point_far_from_any_road_names_its_ward_only(self):
        self.assertEqual(self.names(lon="105.77", lat="10.02"), ["Phường B"])

    def test_a_point_outside_every_ward_names_nothing(self):
        self.assertEqual(self.names(lon="106.5", lat="10.5"), [])


class PlaceErrorTests(TestCase):
    def error(self, **params) -> dict:
        response = self.client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 400)
        return response.json()

    def test_no_question_at_all_is_refused_naming_q(self):
        self.assertIn("q", self.error())

    def test_a_one_letter_name_is_refused(self):
        self.assertEqual(self.error(q=" a "), {"q": ["Give at least 2 characters."]})

    def test_an_empty_name_is_refused(self):
        self.assertIn("q", self.error(q=""))

    def test_a_very_long_name_is_refused(self):
        self.assertIn("q", self.error(q="x" * 101))

    def test_a_nul_character_is_refused(self):
        self.assertIn("q", self.error(q="ab\x00"))

    def test_a_longitude_that_is_not_a_number_is_refused(self):
        self.assertEqual(list(self.error(lon="east", lat="10")), ["lon"])

    def test_a_latitude_is_needed_with_the_longitude(self):
        self.assertEqual(list(self.error(lon="105.7")), ["lat"])

    def test_a_longitude_out_of_range_is_refused(self):
        self.assertIn("lon", self.error(lon="200", lat="10"))

    def test_not_a_number_is_refused(self):
        self.assertIn("lat", self.error(lon="105", lat="nan"))

    def test_the_schema_documents_the_operation_and_its_q(self):
        schema = self.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
        parameters = [p["name"] for p in schema["paths"]["/api/v1/places/"]["get"]["parameters"]]
        self.assertIn("q", parameters)
