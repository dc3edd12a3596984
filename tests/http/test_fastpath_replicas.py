"""The open-data fast path keeps the replica routing (incidents/http/replicas.py): an anonymous
tile or items page reads from a replica, a signed-in user's from the primary (a session cookie
keeps the full chain), and a replica that went away mid-request is skipped and the read served.
The stand-in replica of tests/replicas/test_routing.py: a second connection to the test database."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.replicas.test_routing import ALIAS, PRIMARY_BOOKKEEPING, StandInReplicaCase, reads, stand_in_replica  # noqa: F401 (stand_in_replica: the fixture)

TILE = "/tiles/reports/12/3250/1918.mvt"
ITEMS = "/ogc/collections/reports/items"

pytestmark = pytest.mark.django_db


class FastPathReplicaTests(StandInReplicaCase):
    staff = "staff-fastpath"

    def test_an_anonymous_tile_and_items_page_read_from_the_replica(self):
        for url in (TILE, ITEMS):
            with self.subTest(url):
                status, on_replica, on_primary = reads(url)
                self.assertIn(status, (200, 204))
                self.assertTrue(on_replica)
                self.assertTrue(all(any(t in sql for t in PRIMARY_BOOKKEEPING) for sql in on_primary), on_primary)

    def test_a_signed_in_users_tile_reads_from_the_primary(self):
        staff = APIClient()
        staff.force_login(get_user_model().objects.get(username="staff-fastpath"))
        status, on_replica, on_primary = reads(TILE, staff)
        self.assertIn(status, (200, 204))
        self.assertEqual(on_replica, [])
        self.assertTrue(on_primary)

    def test_a_replica_that_went_away_mid_request_is_skipped_and_the_tile_served(self):
        self.assertIn(reads(TILE)[0], (200, 204))  # found well and used
        self.lose_replica()
        status, _, on_primary = reads(TILE)
        self.assertIn(status, (200, 204))  # read on the primary, not a 503
        self.assertTrue(on_primary)
