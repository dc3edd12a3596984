"""Nothing private reaches a tile: markers planted in every private field of a sensitive report
(reporter name, e-mail, phone, IP, an internal note) appear in no decoded tile of any layer or
zoom, read by mapbox-vector-tile and by GDAL's MVT driver; the point is the public point,
snapped to the category's 100 m grid."""

import subprocess

from django.db import connection
from django.test import TestCase

from gis.tiles import tile_at
from tests.tiles.tileworld import MARKERS, build_tile_world, decode, lonlat, url

LAYERS = ("reports", "incidents", "hotspots", "areas")


class PrivacyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def tiles(self):
        for z in (10, 13, 14, 16, 18):
            tile = tile_at(*self.exact, z)
            for layer in LAYERS:
                response = self.client.get(url(layer, tile))
                if response.status_code == 200:
                    yield layer, tile, response.content

    def test_no_private_marker_is_in_any_decoded_tile(self):
        seen = 0
        for layer, tile, content in self.tiles():
            text = repr(decode(content))
            for marker in MARKERS:
                self.assertNotIn(marker, text, (layer, tile))
                self.assertNotIn(marker.encode(), content, (layer, tile))
            seen += 1
        self.assertGreaterEqual(seen, 12)

    def test_no_reporter_or_internal_field_is_named_in_a_tile(self):
        for layer, tile, content in self.tiles():
            for features in (v["features"] for v in decode(content).values()):
                for feature in features:
                    self.assertFalse({"reporter_name", "reporter_email", "reporter_phone", "reporter_ip", "priority",
                                      "assigned_to", "description", "address"} & set(feature["properties"]))

    def distance_m(self, a, b):
        with connection.cursor() as cursor:
            cursor.execute("SELECT ST_Distance(ST_MakePoint(%s, %s)::geography, ST_MakePoint(%s, %s)::geography)",
                           [*a, *b])
            return cursor.fetchone()[0]

    def test_the_point_is_the_snapped_public_point(self):
        public = (self.sensitive.public_location.x, self.sensitive.public_location.y)
        tile = tile_at(*public, 20)  # a tile unit is about 1 cm here
        features = decode(self.client.get(url("reports", tile)).content)["reports"]["features"]
        [mine] = [f for f in features if f["properties"]["public_id"] == self.sensitive.public_id]
        point = lonlat(tile, *mine["geometry"]["coordinates"])
        self.assertLess(self.distance_m(point, public), 0.05)
        self.assertGreater(self.distance_m(point, self.exact), 1)
        self.assertEqual(mine["properties"]["location_precision_m"], 100)

    def test_the_exact_point_tile_is_empty_when_the_public_point_is_elsewhere(self):
        exact_tile = tile_at(*self.exact, 22)
        public_tile = tile_at(self.sensitive.public_location.x, self.sensitive.public_location.y, 22)
        self.assertNotEqual(exact_tile, public_tile)
        self.assertEqual(self.client.get(url("reports", exact_tile)).status_code, 204)

    def test_gdal_reads_the_tile_without_any_marker(self):
        tile = tile_at(*self.exact, 14)
        content = self.client.get(url("reports", tile)).content
        path = self.tmp / f"{tile.z}-{tile.x}-{tile.y}.mvt"
        path.write_bytes(content)
        output = subprocess.run(["ogrinfo", "-ro", "-al", "-oo", f"Z={tile.z}", "-oo", f"X={tile.x}", "-oo",
                                 f"Y={tile.y}", str(path)], capture_output=True, text=True, check=True).stdout
        self.assertIn("Feature Count: 5", output)
        self.assertIn(f"public_id (String) = {self.sensitive.public_id}", output)
        self.assertIn("location_precision_m (Integer", output)
        for marker in MARKERS:
            self.assertNotIn(marker, output)

    def setUp(self):
        import tempfile
        from pathlib import Path

        self.tmp = Path(tempfile.mkdtemp())
