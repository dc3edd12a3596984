"""Unsubscribing: the page asks (GET) and a POST unsubscribes; a mail program's one-click POST
(RFC 8058) works without a CSRF token; an unknown or used link says so."""

from django.test import Client, TestCase

from incidents.models import AreaAlert
from tests.alerts.helpers import in_ward
from tests.world import build_world


class UnsubscribeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def setUp(self):
        self.alert = in_ward(self.ward_a)
        self.url = f"/alerts/unsubscribe/{self.alert.unsubscribe_token}/"

    def test_opening_the_link_shows_a_button_and_changes_nothing(self):
        response = self.client.get(self.url)
        self.assertContains(response, '<form method="post">')
        self.assertContains(response, "Phường A")
        self.assertTrue(AreaAlert.objects.filter(pk=self.alert.pk).exists())

    def test_pressing_the_button_unsubscribes(self):
        response = self.client.post(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(AreaAlert.objects.filter(pk=self.alert.pk).exists())

    def test_a_one_click_post_without_a_csrf_token_unsubscribes(self):
        strict = Client(enforce_csrf_checks=True)
        response = strict.post(self.url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(AreaAlert.objects.filter(pk=self.alert.pk).exists())

    def test_a_second_unsubscribe_says_it_is_already_done(self):
        self.client.post(self.url)
        self.assertEqual(self.client.post(self.url).status_code, 404)

    def test_an_unknown_link_is_404(self):
        self.assertEqual(self.client.get("/alerts/unsubscribe/nope/").status_code, 404)

    def test_other_methods_are_refused(self):
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_a_pending_subscription_can_be_cancelled_from_its_confirmation_mail(self):
        pending = in_ward(self.ward_b, confirm=False)
        self.client.post(f"/alerts/unsubscribe/{pending.unsubscribe_token}/")
        self.assertFalse(AreaAlert.objects.filter(pk=pending.pk).exists())
