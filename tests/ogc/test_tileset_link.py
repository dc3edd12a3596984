"""Each OGC collection links its vector tiles (OGC API - Tiles), and the link leads to them."""

from django.test import TestCase

from tests.world import build_world

TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"


class TilesetLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_every_collection_links_its_vector_tilesets(self):
        for collection in ("reports", "incidents", "hotspots", "areas"):
            with self.subTest(collection=collection):
                body = self.client.get(f"/ogc/collections/{collection}?f=json").json()
                (link,) = [lk for lk in body["links"] if lk["rel"] == TILESETS]
                self.assertEqual(link["href"], f"http://testserver/tiles/{collection}/tiles")
                self.assertEqual(self.client.get(link["href"]).status_code, 200)
