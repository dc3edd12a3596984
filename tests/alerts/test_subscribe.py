"""Subscribing on the page: each kind of area, the double opt-in, the cap per address, the rate
limit, and every kind of bad input (400, the field named, nothing saved)."""

import json

from django.conf import settings
from django.core import mail
from django.test import TestCase, override_settings

from incidents.delivery.outbox import send_pending
from incidents.models import AreaAlert, DrawnArea, OutboxMessage
from tests.alerts.helpers import SQUARE_IN_A
from tests.world import build_world

URL = "/alerts/"


class SubscribePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def post(self, **fields):
        data = {"email": "lan@example.vn", "frequency": "immediate", **fields}
        if isinstance(data.get("area"), dict):
            data["area"] = json.dumps(data["area"])
        return self.client.post(URL, data)

    def test_the_page_offers_a_ward_a_circle_and_a_drawn_area(self):
        response = self.client.get(URL)
        self.assertEqual(response.status_code, 200)
        for value in ("ward", "circle", "drawn"):
            self.assertContains(response, f'value="{value}"')
        self.assertContains(response, "Phường A")

    def test_the_page_speaks_english_when_asked(self):
        response = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, "E-mail alerts for an area")

    def test_subscribing_to_a_ward_saves_it_pending_and_redirects_to_check_your_mail(self):
        response = self.post(kind="ward", ward=self.ward_a.pk)
        self.assertRedirects(response, "/alerts/sent/")
        alert = AreaAlert.objects.get()
        self.assertEqual((alert.kind, alert.ward, alert.confirmed_at), ("ward", self.ward_a, None))

    def test_subscribing_to_a_circle_keeps_its_centre_and_radius(self):
        self.post(kind="circle", lat="10.02", lon="105.72", radius_m="400")
        alert = AreaAlert.objects.get()
        self.assertEqual((round(alert.center.x, 4), round(alert.center.y, 4), alert.radius_m), (105.72, 10.02, 400))
        self.assertTrue(alert.reach.contains(alert.center))

    def test_subscribing_to_a_drawn_area_saves_the_polygon_under_an_unguessable_id(self):
        self.post(kind="drawn", area=SQUARE_IN_A)
        alert = AreaAlert.objects.select_related("drawn_area").get()
        self.assertEqual(alert.drawn_area.geom.extent, (105.71, 10.01, 105.73, 10.03))
        self.assertRegex(alert.drawn_area.slug, r"^[A-Za-z0-9_-]{12}$")

    def test_a_category_and_the_daily_digest_are_kept(self):
        self.post(kind="ward", ward=self.ward_a.pk, category="pothole", frequency="daily")
        alert = AreaAlert.objects.get()
        self.assertEqual((alert.category, alert.frequency), (self.pothole, "daily"))

    def test_the_subscription_keeps_the_language_of_the_page(self):
        self.client.post(URL, {"email": "x@example.com", "kind": "ward", "ward": self.ward_a.pk}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(AreaAlert.objects.get().language, "en")

    def test_the_address_is_stored_with_its_domain_in_lower_case(self):
        self.post(kind="ward", ward=self.ward_a.pk, email="  Lan.Nguyen@Example.VN ")
        self.assertEqual(AreaAlert.objects.get().email, "Lan.Nguyen@example.vn")


class DoubleOptInTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def subscribe(self):
        self.client.post(URL, {"email": "lan@example.vn", "kind": "ward", "ward": self.ward_a.pk})
        return AreaAlert.objects.get()

    def test_subscribing_queues_one_confirmation_mail_with_the_link(self):
        alert = self.subscribe()
        message = OutboxMessage.objects.get()
        self.assertEqual(message.recipient, "lan@example.vn")
        self.assertIn(f"/alerts/confirm/{alert.confirm_token}/", message.body)

    def test_the_confirmation_mail_is_in_the_subscribers_language(self):
        self.client.post(URL, {"email": "x@example.com", "kind": "ward", "ward": self.ward_a.pk}, HTTP_ACCEPT_LANGUAGE="en")
        message = OutboxMessage.objects.get()
        self.assertEqual(message.subject, "Confirm your Citypin alert")
        self.assertIn("Ward A", message.body)

    def test_the_confirmation_mail_is_in_vietnamese_by_default(self):
        self.subscribe()
        message = OutboxMessage.objects.get()
        self.assertEqual(message.subject, "Xác nhận thông báo Citypin")
        self.assertIn("Phường A", message.body)

    def test_opening_the_link_asks_before_confirming(self):
        alert = self.subscribe()
        response = self.client.get(f"/alerts/confirm/{alert.confirm_token}/")
        self.assertContains(response, "<form method=\"post\">")
        alert.refresh_from_db()
        self.assertIsNone(alert.confirmed_at)

    def test_pressing_confirm_confirms(self):
        alert = self.subscribe()
        response = self.client.post(f"/alerts/confirm/{alert.confirm_token}/")
        self.assertEqual(response.status_code, 200)
        alert.refresh_from_db()
        self.assertIsNotNone(alert.confirmed_at)
        self.assertEqual(alert.last_digest_at, alert.confirmed_at)

    def test_an_unknown_confirmation_link_is_404(self):
        self.assertEqual(self.client.get("/alerts/confirm/nope/").status_code, 404)

    @override_settings(CITYPIN_ALERT_CONFIRM_DAYS=0)
    def test_an_expired_confirmation_link_confirms_nothing(self):
        alert = self.subscribe()
        self.assertEqual(self.client.post(f"/alerts/confirm/{alert.confirm_token}/").status_code, 404)
        alert.refresh_from_db()
        self.assertIsNone(alert.confirmed_at)

    def test_the_confirmation_mail_is_delivered_with_one_click_unsubscribe_headers(self):
        alert = self.subscribe()
        send_pending()
        self.assertEqual(len(mail.outbox), 1)
        sent = mail.outbox[0]
        self.assertEqual(sent.to, ["lan@example.vn"])
        self.assertEqual(sent.extra_headers["List-Unsubscribe"],
                         f"<{settings.CITYPIN_SITE_URL}/alerts/unsubscribe/{alert.unsubscribe_token}/>")
        self.assertEqual(sent.extra_headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")


@override_settings(CITYPIN_ALERT_MAX_PER_ADDRESS=2)
class CapTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def post(self, email="lan@example.vn"):
        return self.client.post(URL, {"email": email, "kind": "ward", "ward": self.ward_a.pk})

    def test_an_address_may_hold_up_to_the_cap(self):
        self.post(), self.post()
        self.assertEqual(AreaAlert.objects.count(), 2)

    def test_one_more_than_the_cap_is_refused_on_the_email_field(self):
        self.post(), self.post()
        response = self.post(email="LAN@example.vn")
        self.assertEqual(response.status_code, 400)
        self.assertIn("email", response.context["form"].errors)
        self.assertEqual((AreaAlert.objects.count(), OutboxMessage.objects.count()), (2, 2))

    def test_another_address_is_not_held_back(self):
        self.post(), self.post()
        self.assertEqual(self.post(email="minh@example.vn").status_code, 302)


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"alert_subscribe": "2/hour"}})
class RateLimitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_too_many_subscribes_from_one_connection_are_refused_with_429(self):
        for i in range(2):
            self.client.post(URL, {"email": f"p{i}@example.vn", "kind": "ward", "ward": self.ward_a.pk})
        response = self.client.post(URL, {"email": "p9@example.vn", "kind": "ward", "ward": self.ward_a.pk})
        self.assertEqual(response.status_code, 429)
        self.assertEqual(AreaAlert.objects.count(), 2)


class BadInputTests(TestCase):
    """Each refused request answers 400, names the field, and saves nothing (no subscription,
    no drawn area, no mail)."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def assert_refused(self, field, **fields):
        data = {"email": "lan@example.vn", "kind": "ward", "ward": self.ward_a.pk, **fields}
        if isinstance(data.get("area"), dict):
            data["area"] = json.dumps(data["area"])
        response = self.client.post(URL, data)
        self.assertEqual(response.status_code, 400)
        self.assertIn(field, response.context["form"].errors)
        self.assertContains(response, 'href="#', status_code=400)
        self.assertEqual((AreaAlert.objects.count(), DrawnArea.objects.count(), OutboxMessage.objects.count()), (0, 0, 0))
        return response

    def test_a_malformed_email_is_refused(self):
        self.assert_refused("email", email="lan@@example")

    def test_an_empty_email_is_refused(self):
        self.assert_refused("email", email="")

    def test_an_email_with_a_line_break_cannot_inject_a_header(self):
        self.assert_refused("email", email="lan@example.vn\nBcc: all@example.vn")

    def test_an_email_with_a_carriage_return_is_refused(self):
        self.assert_refused("email", email="lan@example.vn\r")

    def test_an_unknown_kind_is_refused(self):
        self.assert_refused("kind", kind="country")

    def test_an_unknown_ward_is_refused(self):
        self.assert_refused("ward", ward="999999")

    def test_a_province_is_not_a_ward(self):
        self.assert_refused("ward", ward=self.province.pk)

    def test_an_unknown_category_is_refused(self):
        self.assert_refused("category", category="unicorns")

    def test_an_inactive_category_is_refused(self):
        self.assert_refused("category", category="retired")

    def test_an_unknown_frequency_is_refused(self):
        self.assert_refused("frequency", frequency="hourly")

    def test_a_radius_too_large_is_refused(self):
        self.assert_refused("radius_m", kind="circle", lat="10.02", lon="105.72", radius_m="50000")

    def test_a_radius_too_small_is_refused(self):
        self.assert_refused("radius_m", kind="circle", lat="10.02", lon="105.72", radius_m="5")

    def test_a_radius_that_is_not_a_number_is_refused(self):
        self.assert_refused("radius_m", kind="circle", lat="10.02", lon="105.72", radius_m="nan")

    def test_a_circle_without_a_centre_is_refused(self):
        self.assert_refused("lat", kind="circle", radius_m="300")

    def test_a_latitude_off_the_globe_is_refused(self):
        self.assert_refused("lat", kind="circle", lat="91", lon="105.72", radius_m="300")

    def test_a_drawn_area_missing_is_refused(self):
        self.assert_refused("area", kind="drawn")

    def test_a_drawn_area_that_is_not_json_is_refused(self):
        self.assert_refused("area", kind="drawn", area="POLYGON((")

    def test_a_point_is_not_a_drawn_area(self):
        self.assert_refused("area", kind="drawn", area={"type": "Point", "coordinates": [105.72, 10.02]})

    def test_a_self_intersecting_polygon_is_refused(self):
        bowtie = {"type": "Polygon", "coordinates": [[[105.71, 10.01], [105.73, 10.03], [105.73, 10.01],
                                                       [105.71, 10.03], [105.71, 10.01]]]}
        response = self.assert_refused("area", kind="drawn", area=bowtie)
        self.assertContains(response, "tự cắt nhau", status_code=400)

    def test_a_polygon_the_size_of_a_country_is_refused(self):
        huge = {"type": "Polygon", "coordinates": [[[102, 8], [110, 8], [110, 23], [102, 23], [102, 8]]]}
        self.assert_refused("area", kind="drawn", area=huge)

    def test_a_polygon_with_too_many_corners_is_refused(self):
        import math
        ring = [[105.72 + 0.01 * math.cos(i * 2 * math.pi / 300), 10.02 + 0.01 * math.sin(i * 2 * math.pi / 300)]
                for i in range(300)]
        self.assert_refused("area", kind="drawn", area={"type": "Polygon", "coordinates": [ring + [ring[0]]]})

    def test_a_polygon_without_area_is_refused(self):
        flat = {"type": "Polygon", "coordinates": [[[105.71, 10.01], [105.73, 10.01], [105.71, 10.01], [105.71, 10.01]]]}
        self.assert_refused("area", kind="drawn", area=flat)

    def test_a_polygon_off_the_globe_is_refused(self):
        off = {"type": "Polygon", "coordinates": [[[500, 10.01], [500.02, 10.01], [500.02, 10.03], [500, 10.01]]]}
        self.assert_refused("area", kind="drawn", area=off)

    def test_a_polygon_with_heights_is_refused(self):
        tall = {"type": "Polygon", "coordinates": [[[105.71, 10.01, 5], [105.73, 10.01, 5], [105.73, 10.03, 5],
                                                     [105.71, 10.01, 5]]]}
        self.assert_refused("area", kind="drawn", area=tall)

    def test_a_polygon_with_malformed_coordinates_is_refused(self):
        self.assert_refused("area", kind="drawn", area={"type": "Polygon", "coordinates": [[["a", "b"]]]})

    def test_a_polygon_without_coordinates_is_refused(self):
        self.assert_refused("area", kind="drawn", area={"type": "Polygon"})
