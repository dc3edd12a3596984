"""The daily digest (incidents.alerts.send_digests, run by the worker): each due daily
subscription gets the new public reports of its area since its last digest, in one mail, and
its last_digest_at moves in the transaction that queued it; no report, no mail."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import TestCase, override_settings

from incidents.alerts import DIGEST_LAG, digest_due_before, forget_unconfirmed, send_digests
from incidents.models import AreaAlert, OutboxMessage
from incidents.worker import run_once
from incidents.workflow import transition_report
from tests.alerts.helpers import in_ward, reported, subscribed
from tests.world import build_world

LOCAL = ZoneInfo(settings.TIME_ZONE)


def digests(to: str = "lan@example.vn") -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(recipient=to, report__isnull=True).exclude(body__contains="/alerts/confirm/"))


def tomorrow_after_digest_hour() -> datetime:
    base = datetime.now(LOCAL) + timedelta(days=1)
    return base.replace(hour=settings.CITYPIN_ALERT_DIGEST_HOUR, minute=5, second=0, microsecond=0)


class DigestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_a_ward_digest_lists_that_wards_new_reports_only(self):
        in_ward(self.ward_a, frequency="daily")
        in_a = [reported(105.72, 10.02), reported(105.73, 10.06)]
        in_b = reported(105.77, 10.02)
        self.assertEqual(send_digests(tomorrow_after_digest_hour()), 1)
        [digest] = digests()
        for report in in_a:
            self.assertIn(f"/r/{report.public_id}/", digest.body)
        self.assertNotIn(in_b.public_id, digest.body)
        self.assertIn("2", digest.subject)

    def test_a_report_staff_rejected_before_the_digest_is_left_out(self):
        in_ward(self.ward_a, frequency="daily")
        kept, spam = reported(105.72, 10.02), reported(105.73, 10.06)
        transition_report(spam.pk, "rejected", message="Không phải vấn đề của thành phố")
        send_digests(tomorrow_after_digest_hour())
        [digest] = digests()
        self.assertIn(kept.public_id, digest.body)
        self.assertNotIn(spam.public_id, digest.body)

    def test_no_new_report_no_mail_but_the_digest_time_moves(self):
        alert = in_ward(self.ward_a, frequency="daily")
        reported(105.77, 10.02)  # in ward B
        now = tomorrow_after_digest_hour()
        self.assertEqual(send_digests(now), 0)
        alert.refresh_from_db()
        self.assertEqual((digests(), alert.last_digest_at), ([], now - DIGEST_LAG))

    def test_a_digest_is_sent_once_a_day(self):
        in_ward(self.ward_a, frequency="daily")
        reported(105.72, 10.02)
        now = tomorrow_after_digest_hour()
        send_digests(now)
        self.assertEqual(send_digests(now + timedelta(hours=3)), 0)
        self.assertEqual(len(digests()), 1)

    def test_the_next_digest_has_only_the_reports_since_the_last(self):
        in_ward(self.ward_a, frequency="daily")
        first = reported(105.72, 10.02)
        now = tomorrow_after_digest_hour()
        send_digests(now)
        later = reported(105.72, 10.03)
        type(later).objects.filter(pk=later.pk).update(created_at=now + timedelta(hours=1))
        send_digests(now + timedelta(days=1))
        newest = OutboxMessage.objects.filter(recipient="lan@example.vn").latest("id")
        self.assertIn(later.public_id, newest.body)
        self.assertNotIn(first.public_id, newest.body)

    def test_a_new_subscription_waits_for_the_next_digest_hour(self):
        alert = in_ward(self.ward_a, frequency="daily")
        reported(105.72, 10.02)
        self.assertEqual(send_digests(alert.last_digest_at + timedelta(minutes=1)), 0)

    def test_the_digest_hour_is_local_time(self):
        at = datetime(2026, 3, 2, settings.CITYPIN_ALERT_DIGEST_HOUR, 30, tzinfo=LOCAL)
        self.assertEqual(digest_due_before(at), at.replace(minute=0))
        self.assertEqual(digest_due_before(at - timedelta(hours=1)), at.replace(minute=0) - timedelta(days=1))

    def test_an_immediate_subscription_gets_no_digest(self):
        in_ward(self.ward_a)
        reported(105.72, 10.02)
        self.assertEqual(send_digests(tomorrow_after_digest_hour()), 0)

    def test_a_pending_subscription_gets_no_digest(self):
        in_ward(self.ward_a, frequency="daily", confirm=False)
        reported(105.72, 10.02)
        self.assertEqual(send_digests(tomorrow_after_digest_hour()), 0)

    def test_a_circle_digest_and_a_category_filter(self):
        subscribed(kind="circle", lat="10.02", lon="105.72", radius_m="500", category="pothole", frequency="daily")
        reported(105.72, 10.02)  # encroachment: another category
        self.assertEqual(send_digests(tomorrow_after_digest_hour()), 0)

    def test_the_digest_is_in_the_subscribers_language_with_unsubscribe_headers(self):
        alert = subscribed(kind="ward", ward=self.ward_a.pk, frequency="daily", language="en")
        reported(105.72, 10.02)
        send_digests(tomorrow_after_digest_hour())
        [digest] = digests()
        self.assertEqual(digest.subject, "1 new report in Ward A")
        self.assertIn("Encroachment", digest.body)
        self.assertEqual(digest.headers["List-Unsubscribe"],
                         f"<{settings.CITYPIN_SITE_URL}/alerts/unsubscribe/{alert.unsubscribe_token}/>")
        self.assertNotIn("bimat", digest.body)

    @override_settings(CITYPIN_ALERT_DIGEST_HOUR=0)
    def test_the_worker_pass_queues_due_digests(self):
        in_ward(self.ward_a, frequency="daily")
        report = reported(105.72, 10.02)
        type(report).objects.filter(pk=report.pk).update(created_at=report.created_at - timedelta(hours=1))
        AreaAlert.objects.update(last_digest_at=datetime.now(LOCAL) - timedelta(days=2))
        self.assertIn("1 daily digests queued", run_once())
        self.assertEqual(len(digests()), 1)


class DigestEdgeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_a_report_stamped_just_before_the_digest_waits_for_the_next_one(self):
        in_ward(self.ward_a, frequency="daily")
        report = reported(105.72, 10.02)
        now = tomorrow_after_digest_hour()
        type(report).objects.filter(pk=report.pk).update(created_at=now - DIGEST_LAG / 2)  # still committing
        self.assertEqual(send_digests(now), 0)
        self.assertEqual(send_digests(now + timedelta(days=1)), 1)

    def test_subscriptions_never_confirmed_are_forgotten_when_their_link_expires(self):
        pending = in_ward(self.ward_a, confirm=False)
        confirmed = in_ward(self.ward_b)
        later = pending.created_at + timedelta(days=settings.CITYPIN_ALERT_CONFIRM_DAYS, minutes=1)
        forget_unconfirmed.__globals__["_last_forget"] = None
        self.assertEqual(forget_unconfirmed(later), 1)
        self.assertEqual(list(AreaAlert.objects.all()), [confirmed])
