"""Unfiltered tiles run as prepared statements (incidents.prepared): the same bytes as the plain
SQL in every layer and zoom class; a filtered tile runs its plain SQL."""

from django.db import connection
from django.test import TestCase, override_settings

from incidents.tiles.layers import LAYERS, POINTS_FROM_ZOOM
from tests.tiles.tileworld import build_tile_world, home_tile, url


def prepared_tiles() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements "
                       "WHERE name LIKE 'citypin_q_%%' AND statement LIKE '%%ST_AsMVT(%%'")
        return [row[0] for row in cursor.fetchall()]


class PreparedTileTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def tile(self, layer: str, z: int, query: str = "") -> bytes:
        response = self.client.get(url(layer, home_tile(z), query))
        self.assertIn(response.status_code, (200, 204))
        return response.content

    def test_every_layer_and_zoom_class_is_the_same_prepared_or_not(self):
        for layer in LAYERS:
            for z in (POINTS_FROM_ZOOM - 1, POINTS_FROM_ZOOM):
                with self.subTest(layer=layer, z=z):
                    with override_settings(CITYPIN_PREPARED_STATEMENTS=False):
                        plain = self.tile(layer, z)
                    self.assertEqual(self.tile(layer, z), plain)
        self.assertTrue(self.tile("reports", POINTS_FROM_ZOOM))  # the world has reports to draw

    def test_an_unfiltered_tile_is_prepared_and_a_filtered_one_is_not(self):
        self.tile("reports", POINTS_FROM_ZOOM)
        self.tile("reports", POINTS_FROM_ZOOM, "status=new")
        statements = prepared_tiles()
        self.assertEqual(len(statements), 1)
        self.assertNotIn("status = ANY", statements[0])
