"""Which database each request reads from, with a stand-in replica: replica_0 is a second
connection to the test database, so every face can be checked cheaply (tests/replicas/
test_streaming.py checks a real streaming replica). Counted per connection: what a request ran
on replica_0 and on the primary."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections, transaction
from django.test import SimpleTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents.http.replicas import COOKIE, HEADER
from incidents.read.replicas import forget_health, read_alias, reading_from
from tests.world import World, build_world

ALIAS = "replica_0"
REPORT = {"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
          "attributes": {"size": "large"}}
PUBLIC_READS = ["/api/v1/reports/", "/api/v1/categories/", "/api/v1/areas/", "/", "/open311/v2/requests.json",
                "/ogc/collections/reports/items", "/tiles/reports/12/3250/1918.mvt", "/open-data/reports.csv"]
# What a public read may still do on the primary: count its rate limit.
PRIMARY_BOOKKEEPING = ("incidents_ratecount",)

# pytest-django creates the test database for a SimpleTestCase only when it is marked so.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def stand_in_replica(django_db_setup):
    primary = connections["default"].settings_dict
    connections.settings[ALIAS] = {**primary, "TEST": {**primary["TEST"], "MIRROR": "default"}}
    yield
    connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]


def reads(url: str, client: APIClient | None = None) -> tuple[int, list[str], list[str]]:
    """The status of GET url and the SQL it ran on the replica and on the primary."""
    with CaptureQueriesContext(connections[ALIAS]) as replica, CaptureQueriesContext(connections["default"]) as primary:
        response = (client or APIClient()).get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return (response.status_code, [q["sql"] for q in replica.captured_queries],
            [q["sql"] for q in primary.captured_queries])


@override_settings(CITYPIN_REPLICAS=[ALIAS], DATABASE_ROUTERS=["incidents.read.replicas.ReplicaRouter"],
                   CITYPIN_REPLICA_MAX_LAG_S=5, CITYPIN_REPLICA_CHECK_S=3600, CITYPIN_READ_PRIMARY_S=5)
class StandInReplicaCase(SimpleTestCase):
    """A committed world read through the stand-in replica; `staff` names a staff user made for
    the class (each class its own, as classes may run in one database)."""

    databases = {"default", ALIAS}
    staff = "staff-routing"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_world(World())
        get_user_model().objects.create_user(cls.staff, password="x", is_staff=True)

    @classmethod
    def tearDownClass(cls):
        call_command("flush", interactive=False, verbosity=0)  # the world was committed
        super().tearDownClass()

    def setUp(self):
        forget_health()

    def tearDown(self):
        connections[ALIAS].settings_dict["PORT"] = connections["default"].settings_dict["PORT"]
        connections[ALIAS].close()
        forget_health()

    def lose_replica(self) -> None:
        """The stand-in replica goes away mid-run: its session ended, its port now refusing (the
        settings are put back in tearDown)."""
        replica = connections[ALIAS]
        pid = replica.connection.get_backend_pid()
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        with socket.socket() as probe:  # and it does not come back
            probe.bind(("127.0.0.1", 0))
            replica.settings_dict["PORT"] = probe.getsockname()[1]


class RoutingTests(StandInReplicaCase):
    def test_every_public_face_reads_from_the_replica(self):
        for url in PUBLIC_READS:
            with self.subTest(url):
                status, on_replica, on_primary = reads(url)
                self.assertLess(status, 400)
                self.assertTrue(on_replica)
                self.assertEqual([sql for sql in on_primary if not any(t in sql for t in PRIMARY_BOOKKEEPING)], [])

    def test_a_write_runs_wholly_on_the_primary_and_marks_the_client(self):
        client = APIClient()
        with CaptureQueriesContext(connections[ALIAS]) as on_replica:
            response = client.post("/api/v1/reports/", REPORT, format="json")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(on_replica.captured_queries, [])
        self.assertEqual(client.cookies[COOKIE].value, response[HEADER])
        self.assertEqual(client.cookies[COOKIE]["max-age"], 5)

    def test_a_client_that_wrote_reads_from_the_primary(self):
        client = APIClient()
        client.post("/api/v1/reports/", REPORT, format="json")
        _, on_replica, on_primary = reads("/api/v1/reports/", client)
        self.assertEqual(on_replica, [])
        self.assertTrue(on_primary)

    def test_a_refused_write_does_not_mark_the_client(self):
        client = APIClient()
        response = client.post("/api/v1/reports/", {"category": "no-such"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertNotIn(COOKIE, client.cookies)
        self.assertNotIn(HEADER, response)

    def test_a_public_read_does_not_mark_the_client(self):
        client = APIClient()
        response = client.get("/api/v1/reports/")
        self.assertNotIn(COOKIE, client.cookies)
        self.assertNotIn(HEADER, response)

    def test_the_console_reads_from_the_primary(self):
        _, on_replica, _ = reads("/console/login/")
        self.assertEqual(on_replica, [])

    def test_a_signed_in_user_reads_from_the_primary(self):
        staff = APIClient()
        staff.force_login(get_user_model().objects.get(username="staff-routing"))
        _, on_replica, on_primary = reads("/api/v1/reports/", staff)
        self.assertEqual(on_replica, [])
        self.assertTrue(on_primary)

    def test_a_read_inside_a_transaction_uses_the_primary(self):
        with reading_from(ALIAS):
            self.assertEqual(read_alias(), ALIAS)
            with transaction.atomic():
                self.assertEqual(read_alias(), "default")

    def test_a_replica_that_went_away_mid_request_is_skipped_and_the_read_served(self):
        self.assertEqual(reads("/api/v1/reports/CT-2000-000001/")[0], 404)  # found well and used
        self.lose_replica()
        status, _, on_primary = reads("/api/v1/reports/CT-2000-000001/")
        self.assertEqual(status, 404)  # looked up on the primary, not a 503
        self.assertTrue(on_primary)

    def test_a_replica_that_does_not_answer_is_skipped(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            connections[ALIAS].settings_dict["PORT"] = probe.getsockname()[1]
        with CaptureQueriesContext(connections["default"]) as on_primary:  # (capturing replica_0 would connect)
            response = APIClient().get("/api/v1/reports/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(on_primary.captured_queries)
