"""OGC API – Tiles for the tile layers: a tileset list, the WebMercatorQuad tileset's metadata
with its tile template, and tiles at the standard's z/row/col path, identical to the .mvt ones."""

from django.test import TestCase

from tests.tiles.tileworld import build_tile_world, home_tile, url

TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


class TilesetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def test_the_tileset_list_names_the_web_mercator_tileset(self):
        [tileset] = self.client.get("/tiles/reports/tiles").json()["tilesets"]
        self.assertEqual((tileset["dataType"], tileset["tileMatrixSetURI"]), ("vector", TMS_URI))
        self.assertEqual(tileset["links"][0]["href"], "http://testserver/tiles/reports/tiles/WebMercatorQuad")

    def test_the_tileset_has_a_tile_template_and_its_layer(self):
        document = self.client.get("/tiles/reports/tiles/WebMercatorQuad").json()
        [item] = [link for link in document["links"] if link["rel"] == "item"]
        self.assertEqual(item["href"],
                         "http://testserver/tiles/reports/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
        self.assertEqual(item["type"], "application/vnd.mapbox-vector-tile")
        [layer] = document["layers"]
        self.assertEqual((layer["id"], layer["geometryDimension"]), ("reports", 0))
        self.assertIn("public_id", layer["propertiesSchema"]["properties"])

    def test_the_tileset_limits_cover_the_areas(self):
        limits = self.client.get("/tiles/areas/tiles/WebMercatorQuad").json()["tileMatrixSetLimits"]
        tile = home_tile(14)
        [z14] = [limit for limit in limits if limit["tileMatrix"] == "14"]
        self.assertTrue(z14["minTileCol"] <= tile.x <= z14["maxTileCol"])
        self.assertTrue(z14["minTileRow"] <= tile.y <= z14["maxTileRow"])

    def test_a_tile_at_the_standard_path_is_the_same_tile(self):
        tile = home_tile(14)
        ogc = self.client.get(f"/tiles/reports/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}")
        plain = self.client.get(url("reports", tile))
        self.assertEqual((ogc.status_code, ogc["Content-Type"]), (200, "application/vnd.mapbox-vector-tile"))
        self.assertEqual((ogc.content, ogc["ETag"]), (plain.content, plain["ETag"]))

    def test_another_tile_matrix_set_answers_404_naming_it(self):
        for path in ("/tiles/reports/tiles/WorldCRS84Quad", "/tiles/reports/tiles/WorldCRS84Quad/1/0/0"):
            response = self.client.get(path)
            self.assertEqual(response.status_code, 404, path)
            self.assertIn("tileMatrixSetId", response.json())

    def test_an_unknown_layer_answers_404(self):
        self.assertEqual(self.client.get("/tiles/people/tiles").status_code, 404)
        self.assertEqual(self.client.get("/tiles/people/tiles/WebMercatorQuad").status_code, 404)

    def test_any_web_page_may_read_the_tilesets(self):
        self.assertEqual(self.client.get("/tiles/reports/tiles")["Access-Control-Allow-Origin"], "*")
