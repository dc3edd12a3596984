"""API keys in the admin: one per client application, made there and shown once, listed with
the reports each sent, revoked (never deleted); a revoked key is refused at once."""

import re

from django.contrib.auth import get_user_model
from django.test import TestCase

from incidents.models import ApiKey
from tests.open311.helpers import BASE, build_open311_world


class ApiKeyAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_open311_world(cls)
        cls.admin = get_user_model().objects.create_superuser("admin", "admin@example.vn", "pw")

    def setUp(self):
        self.client.force_login(self.admin)

    def add_key(self, name: str) -> str:
        response = self.client.post("/admin/incidents/apikey/add/", {"name": name, "contact": "x@example.org"},
                                    follow=True, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        match = re.search(r'<code class="api-key">([^<]+)</code>', response.content.decode())
        self.assertIsNotNone(match, "the new key is shown")
        return match.group(1)

    def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(self):
        raw = self.add_key("Báo cáo Cần Thơ app")
        key = ApiKey.objects.get(name="Báo cáo Cần Thơ app")
        self.assertEqual(key.key_hash, ApiKey.hash(raw))
        self.assertEqual(key.prefix, raw[:8])
        self.assertGreaterEqual(len(raw), 40)
        again = self.client.get(f"/admin/incidents/apikey/{key.pk}/change/").content.decode()
        self.assertNotIn(raw, again)
        self.assertNotIn(raw, self.client.get("/admin/incidents/apikey/").content.decode())

    def test_the_new_key_sends_reports(self):
        raw = self.add_key("Field app")
        response = self.client.post(f"{BASE}/requests.json", {"api_key": raw, "service_code": "encroachment",
                                                               "lat": "10.02", "long": "105.72"})
        self.assertEqual(response.status_code, 201, response.content)

    def test_the_list_counts_what_each_client_sent(self):
        self.client.post(f"{BASE}/requests.json", {"api_key": self.raw_key, "service_code": "encroachment",
                                                   "lat": "10.02", "long": "105.72"})
        listing = self.client.get("/admin/incidents/apikey/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn("Ứng dụng Thử", listing)
        self.assertRegex(listing, r'field-report_count">1<')

    def test_revoking_refuses_the_key_and_keeps_the_row(self):
        response = self.client.post("/admin/incidents/apikey/", {"action": "revoke", "_selected_action": [self.key.pk]},
                                    follow=True)
        self.assertEqual(response.status_code, 200)
        self.key.refresh_from_db()
        self.assertFalse(self.key.active)
        self.assertIsNotNone(self.key.revoked_at)
        refused = self.client.post(f"{BASE}/requests.json", {"api_key": self.raw_key, "service_code": "encroachment",
                                                             "lat": "10.02", "long": "105.72"})
        self.assertEqual(refused.status_code, 403)

    def test_keys_cannot_be_deleted(self):
        response = self.client.get(f"/admin/incidents/apikey/{self.key.pk}/delete/")
        self.assertEqual(response.status_code, 403)
