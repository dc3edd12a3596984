"""A database outage answers Open311 clients with an Open311 error document (503 and
Retry-After) in the format they asked for, never the site's HTML page."""

import pytest
from django.test import SimpleTestCase, override_settings

from tests.http.test_outage import database_unreachable
from tests.open311.helpers import BASE

pytestmark = pytest.mark.django_db


@override_settings(CITYPIN_DB_WAIT_S=0.3)
class Open311OutageTests(SimpleTestCase):
    databases = {"default"}

    def test_json_clients_get_a_json_503(self):
        with database_unreachable():
            response = self.client.get(f"{BASE}/requests.json")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "30")
        self.assertEqual(response.json()[0]["code"], 503)

    def test_xml_clients_get_an_xml_503_for_a_post_too(self):
        with database_unreachable():
            response = self.client.post(f"{BASE}/requests.xml", {"api_key": "k", "service_code": "pothole"})
        self.assertEqual(response.status_code, 503)
        self.assertIn(b"<errors><error><code>503</code>", response.content)
