"""A tile (and an OGC items page) spares the per-request health check of a connection it
already holds (a SELECT 1 round trip as long as the tile's own query on a busy server), and is
still served when the server dropped that connection: the outage middleware reconnects and
reads again."""

from __future__ import annotations

from unittest import mock

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import SimpleTestCase, override_settings

pytestmark = pytest.mark.django_db  # a SimpleTestCase gets the test database only when marked

TILE = "/tiles/reports/14/12950/7660.mvt"
ITEMS = "/ogc/collections/reports/items?limit=2"


def as_a_server_starts_a_request() -> None:
    """What Django's request_started handler does to a kept connection (the test client leaves
    that handler out): its health is to be checked again before its next statement."""
    connections["default"].close_if_unusable_or_obsolete()


# Outside a test transaction the read limit's counts would be committed and outlive these tests.
UNCOUNTED = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
    **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "open_data_read": None}}


@override_settings(REST_FRAMEWORK=UNCOUNTED)
class ConnectionTests(SimpleTestCase):
    databases = {"default"}  # real connections: a terminated one would break a test transaction

    def test_a_tile_runs_no_health_check_on_the_connection_it_holds(self):
        self.client.get(TILE)
        as_a_server_starts_a_request()
        with mock.patch.object(type(connections["default"]), "is_usable", autospec=True, return_value=True) as checked:
            response = self.client.get(TILE)
        self.assertIn(response.status_code, (200, 204))
        checked.assert_not_called()

    def test_an_items_page_runs_no_health_check_on_the_connection_it_holds(self):
        self.client.get(ITEMS)
        as_a_server_starts_a_request()
        with mock.patch.object(type(connections["default"]), "is_usable", autospec=True, return_value=True) as checked:
            response = self.client.get(ITEMS)
        self.assertEqual(response.status_code, 200)
        checked.assert_not_called()

    def test_a_tile_is_served_after_the_server_closed_its_connection(self):
        self.client.get(TILE)
        pid = connection.connection.get_backend_pid()
        other = psycopg2.connect(**connection.get_connection_params())
        try:
            with other, other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            as_a_server_starts_a_request()
            with self.assertLogs("incidents.http.outage", "ERROR"):
                response = self.client.get(TILE)
        finally:
            other.close()
        self.assertIn(response.status_code, (200, 204))
        self.assertNotEqual(connection.connection.get_backend_pid(), pid)
