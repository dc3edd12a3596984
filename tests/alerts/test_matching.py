"""Immediate alerts: a new public report is matched in SQL against the confirmed immediate
subscriptions (ward, circle on the ellipsoid, drawn polygon; category filter) by the worker's
pass that follows intake (tests.alerts.helpers.reported runs it), and one mail per match is
queued (the suite runs with CITYPIN_ALERT_GATHER_S=0; test_gathering.py turns it on). Points
placed by hand in tests.world's world."""

from django.conf import settings
from django.core import mail
from django.test import TestCase

from incidents.delivery.outbox import send_pending
from incidents.models import Category, OutboxMessage
from tests.alerts.helpers import SQUARE_IN_A, in_ward, reported, subscribed
from tests.world import build_world, project


def alert_mails(to: str = "lan@example.vn") -> list[OutboxMessage]:
    # Confirmation mails are not alerts; an alert names a report.
    return list(OutboxMessage.objects.filter(recipient=to, report__isnull=False))


class WardMatchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_a_report_in_the_ward_is_mailed_to_its_subscriber(self):
        in_ward(self.ward_a)
        report = reported(105.72, 10.02)
        self.assertEqual([m.report for m in alert_mails()], [report])

    def test_a_report_in_another_ward_is_not(self):
        in_ward(self.ward_a)
        reported(105.77, 10.02)
        self.assertEqual(alert_mails(), [])

    def test_nothing_is_mailed_before_the_subscription_is_confirmed(self):
        in_ward(self.ward_a, confirm=False)
        reported(105.72, 10.02)
        self.assertEqual(alert_mails(), [])

    def test_a_daily_subscription_gets_no_immediate_mail(self):
        in_ward(self.ward_a, frequency="daily")
        reported(105.72, 10.02)
        self.assertEqual(alert_mails(), [])

    def test_a_category_subscription_ignores_other_categories(self):
        in_ward(self.ward_a, category="pothole")
        reported(105.72, 10.02, category="encroachment")
        self.assertEqual(alert_mails(), [])

    def test_a_category_subscription_gets_its_category(self):
        in_ward(self.ward_a, category="encroachment")
        reported(105.72, 10.02, category="encroachment")
        self.assertEqual(len(alert_mails()), 1)

    def test_each_matching_subscriber_gets_one_mail(self):
        in_ward(self.ward_a)
        in_ward(self.ward_a, email="minh@example.vn")
        in_ward(self.ward_b, email="hoa@example.vn")
        reported(105.72, 10.02)
        people = ["lan@example.vn", "minh@example.vn", "hoa@example.vn"]
        self.assertEqual(sorted(OutboxMessage.objects.filter(report__isnull=False, recipient__in=people)
                                .values_list("recipient", flat=True)), ["lan@example.vn", "minh@example.vn"])


class CircleMatchTests(TestCase):
    """A circle of 300 m around (105.72, 10.02): a point 290 m away is in, 310 m away is out,
    measured on the ellipsoid (tests.world.project)."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def setUp(self):
        subscribed(kind="circle", lat="10.02", lon="105.72", radius_m="300")

    def test_a_report_290_m_from_the_centre_is_mailed(self):
        reported(*project(105.72, 10.02, 290, 45))
        self.assertEqual(len(alert_mails()), 1)

    def test_a_report_310_m_from_the_centre_is_not(self):
        reported(*project(105.72, 10.02, 310, 45))
        self.assertEqual(alert_mails(), [])

    def test_a_report_just_inside_the_edge_between_the_reach_polygons_corners_is_mailed(self):
        # The reach polygon's corners are every 11.25°; halfway between two is where a polygon
        # drawn through points on the circle would cut inside it.
        reported(*project(105.72, 10.02, 298, 5.625))
        self.assertEqual(len(alert_mails()), 1)


class DrawnAreaMatchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def setUp(self):
        subscribed(kind="drawn", area=SQUARE_IN_A)

    def test_a_report_inside_the_drawn_area_is_mailed(self):
        reported(105.72, 10.02)
        self.assertEqual(len(alert_mails()), 1)

    def test_a_report_outside_the_drawn_area_is_not(self):
        reported(105.74, 10.02)
        self.assertEqual(alert_mails(), [])


class AlertMailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_the_mail_names_the_report_and_links_to_its_public_page(self):
        in_ward(self.ward_a)
        report = reported(105.72, 10.02)
        message = alert_mails()[0]
        self.assertIn(report.public_id, message.subject)
        self.assertIn(f"{settings.CITYPIN_SITE_URL}/r/{report.public_id}/", message.body)
        self.assertIn("Lấn chiếm", message.body)

    def test_the_mail_is_in_english_for_an_english_subscriber(self):
        subscribed(kind="ward", ward=self.ward_a.pk, language="en")
        reported(105.72, 10.02)
        message = alert_mails()[0]
        self.assertEqual(message.subject.split(":")[0].split(" ")[:2], ["New", "report"])
        self.assertIn("Encroachment", message.body)
        self.assertIn("Ward A", message.body)

    def test_the_mail_has_the_one_click_unsubscribe_link_and_headers(self):
        alert = in_ward(self.ward_a)
        reported(105.72, 10.02)
        message = alert_mails()[0]
        url = f"{settings.CITYPIN_SITE_URL}/alerts/unsubscribe/{alert.unsubscribe_token}/"
        self.assertIn(url, message.body)
        self.assertEqual(message.headers, {"List-Unsubscribe": f"<{url}>", "Content-Language": "vi",
                                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})

    def test_an_english_subscribers_mail_is_marked_english_in_html_too(self):
        subscribed(kind="ward", ward=self.ward_a.pk, language="en")
        report = reported(105.72, 10.02, description="Vỉa hè bị chiếm\n---\n\nvẫn chưa xử lý")
        send_pending()
        [sent] = [m for m in mail.outbox if report.public_id in m.subject and m.to == ["lan@example.vn"]]
        html = sent.alternatives[0][0]
        self.assertIn('<html lang="en">', html)
        self.assertNotIn('lang="vi"', html)

    def test_the_mail_never_shows_the_reporters_contact_details(self):
        in_ward(self.ward_a)
        reported(105.72, 10.02, description="Gọi tôi 0909 555 123, bimat@example.vn")
        send_pending()
        sent = [m for m in mail.outbox if m.to == ["lan@example.vn"] and m.extra_headers.get("X-Citypin-Delivery")
                and "/r/" in m.body]
        self.assertEqual(len(sent), 1)
        text = sent[0].subject + sent[0].body + sent[0].alternatives[0][0]
        for private in ("Trần Thị Bí Mật", "bimat@example.vn", "0909 555 123", "555 123"):
            self.assertNotIn(private, text)

    def test_report_text_cannot_inject_html_into_the_mail(self):
        in_ward(self.ward_a)
        reported(105.72, 10.02, description="<script>alert(1)</script> <b>ổ gà</b>")
        send_pending()
        html = [m for m in mail.outbox if m.to == ["lan@example.vn"] and "/r/" in m.body][0].alternatives[0][0]
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)


class SensitiveCategoryTests(TestCase):
    """A category published only to 500 m: the alert matches the published point, never the
    exact one, so a small circle cannot find where exactly a report was made."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        Category.objects.filter(pk=cls.encroachment.pk).update(public_location_precision_m=500)

    def test_a_circle_around_the_exact_point_that_misses_the_public_point_gets_nothing(self):
        lon, lat = 105.7213, 10.0217
        subscribed(kind="circle", lat=str(lat), lon=str(lon), radius_m="50")
        report = reported(lon, lat)
        self.assertGreater(report.public_location.distance(report.location), 0.001)  # snapped far (degrees, > 100 m)
        self.assertEqual(alert_mails(), [])

    def test_a_circle_around_the_public_point_gets_the_report(self):
        lon, lat = 105.7213, 10.0217
        probe = reported(lon, lat)  # where the public sees it
        subscribed(kind="circle", lat=str(probe.public_location.y), lon=str(probe.public_location.x), radius_m="50")
        reported(lon, lat)
        self.assertEqual(len(alert_mails()), 1)


class HeaderInjectionTests(TestCase):
    """Whatever a name holds, a mail's subject stays one header line and the mail is sent."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        Category.objects.filter(pk=cls.encroachment.pk).update(name_vi="Lấn chiếm\r\nBcc: everyone@example.vn")

    def test_a_line_break_in_a_category_name_never_becomes_a_header(self):
        in_ward(self.ward_a)
        report = reported(105.72, 10.02)
        send_pending()
        [sent] = [m for m in mail.outbox if report.public_id in m.subject and m.to == ["lan@example.vn"]]
        self.assertNotIn("\n", sent.subject)
        self.assertNotIn("Bcc", sent.message().as_string().split("\n\n", 1)[0].replace(sent.subject, ""))
        self.assertEqual(sent.bcc, [])


class IndexUseTests(TestCase):
    """With many subscriptions (2,000 circles, 2,000 drawn areas, 2,000 over 200 wards; analysed), the match is
    answered from the indexes: the circles' reach polygons and the drawn areas by GiST, the
    wards by btree. The plan is read, not timed."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        from django.db import connection

        with connection.cursor() as cursor:
            # Circles of 200 m on a 0.01° grid across the world, confirmed and immediate.
            cursor.execute("""
                INSERT INTO incidents_areaalert (email, language, kind, center, radius_m, reach, frequency,
                                                 confirm_token, unsubscribe_token, created_at, confirmed_at)
                SELECT 'c' || i || '@example.vn', 'vi', 'circle', p, 200, ST_Buffer(p::geography, 203)::geometry,
                       'immediate', 'ct' || i, 'ut' || i, now(), now()
                  FROM generate_series(1, 2000) i,
                       LATERAL (SELECT ST_SetSRID(ST_MakePoint(105.0 + (i % 100) * 0.01, 9.5 + (i / 100) * 0.01), 4326) p) g""")
            # 200 more wards, far away (a province has scores; a country thousands), and the ward
            # subscriptions spread over them, ten a ward, ten of them on ward B.
            cursor.execute("""
                INSERT INTO geo_area (kind, code, name_vi, name_en, boundary, area_m2)
                SELECT 'ward', 'W' || i, 'Phường ' || i, 'Ward ' || i,
                       ST_Multi(ST_MakeEnvelope(100 + i * 0.01, 0, 100.005 + i * 0.01, 0.005, 4326)), 300000
                  FROM generate_series(1, 200) i""")
            cursor.execute("""
                INSERT INTO incidents_areaalert (email, language, kind, ward_id, frequency, confirm_token,
                                                 unsubscribe_token, created_at, confirmed_at)
                SELECT 'w' || i || '@example.vn', 'vi', 'ward',
                       CASE WHEN i <= 10 THEN %s ELSE (SELECT id FROM geo_area WHERE code = 'W' || (i %% 200 + 1)) END,
                       'immediate', 'cw' || i, 'uw' || i, now(), now()
                  FROM generate_series(1, 2000) i""", [cls.ward_b.pk])
            cursor.execute("""
                INSERT INTO incidents_drawnarea (slug, geom, created_at)
                SELECT 'd' || i, ST_MakeEnvelope(105.0 + (i % 100) * 0.01, 9.5 + (i / 100) * 0.01,
                                                 105.005 + (i % 100) * 0.01, 9.505 + (i / 100) * 0.01, 4326), now()
                  FROM generate_series(1, 2000) i""")
            cursor.execute("ANALYZE incidents_areaalert")
            cursor.execute("ANALYZE incidents_drawnarea")

    def test_the_immediate_match_uses_the_spatial_and_ward_indexes(self):
        from django.db import connection

        from incidents.alerts import IMMEDIATE_MATCH_SQL

        subscribed(kind="drawn", area=SQUARE_IN_A)
        reports = [reported(105.72, 10.02).pk, reported(105.77, 10.02).pk]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + IMMEDIATE_MATCH_SQL, {"reports": reports})
            plan = "\n".join(row[0] for row in cursor.fetchall())
        self.assertRegex(plan, r"Index Scan using incidents_areaalert_reach_\w+_id")
        self.assertRegex(plan, r"Index Scan using incidents_drawnarea_geom_\w+_id")
        self.assertRegex(plan, r"Index Cond: \(ward_id = ")
