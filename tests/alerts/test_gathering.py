"""Immediate alerts in a storm (incidents.alerts.send_immediate_alerts, the worker's pass): intake
only marks a new public report due, whatever the number of subscribers; each subscription gets
its first new report at once and opens a window (CITYPIN_ALERT_GATHER_S), and the reports it
matches in the window go as one mail when it ends."""

import re
from datetime import timedelta

from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.alert_mails import MAX_DIGEST_REPORTS
from incidents.alerts import send_immediate_alerts, unsubscribe_alert
from incidents.models import AlertDue, AreaAlert, OutboxMessage
from incidents.worker import run_once
from incidents.workflow import transition_report
from tests.alerts.helpers import in_ward, reported
from tests.world import build_world

WINDOW_S = 600


def later(seconds: float = WINDOW_S + 1):
    return timezone.now() + timedelta(seconds=seconds)


def mails(to: str = "lan@example.vn") -> list[OutboxMessage]:
    """The alert mails to `to` (not the confirmation), oldest first."""
    return list(OutboxMessage.objects.filter(recipient=to).exclude(body__contains="/alerts/confirm/").order_by("id"))


@override_settings(CITYPIN_ALERT_GATHER_S=WINDOW_S)
class GatheringTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_intake_queues_no_alert_mail_and_the_worker_s_pass_sends_it(self):
        in_ward(self.ward_a)
        report = reported(105.72, 10.02, alerts=False)
        self.assertEqual(mails(), [])
        self.assertTrue(AlertDue.objects.filter(report=report).exists())
        self.assertIn("area alerts: 1 immediate mails queued", run_once())
        [mail] = mails()
        self.assertEqual(mail.report, report)
        self.assertFalse(AlertDue.objects.exists())

    def test_intake_runs_the_same_statements_whatever_the_number_of_subscribers(self):
        reported(105.72, 10.02, alerts=False)  # warm: the prepared statements exist
        statements = []
        for subscribers in (0, 30):
            for i in range(subscribers):
                in_ward(self.ward_a, email=f"s{i}@example.vn")
            with CaptureQueriesContext(connection) as queries:
                reported(105.72, 10.02, alerts=False)
            statements.append([re.sub(r'"s\d+_x\d+"', "", q["sql"].split("(")[0]) for q in queries])  # savepoints
        self.assertEqual(statements[0], statements[1])
        send_immediate_alerts()
        self.assertEqual(OutboxMessage.objects.filter(recipient__startswith="s", report__isnull=False).count(), 30)

    def test_the_first_report_goes_at_once_and_the_next_ones_wait_for_the_window(self):
        in_ward(self.ward_a)
        first = reported(105.72, 10.02)
        [mail] = mails()
        self.assertIn(first.public_id, mail.subject)
        second, third = reported(105.72, 10.03), reported(105.73, 10.04)
        self.assertEqual(len(mails()), 1)
        alert = AreaAlert.objects.get()
        self.assertEqual((alert.waiting, alert.waiting_count), ([second.pk, third.pk], 2))

        self.assertEqual(send_immediate_alerts(), 0)  # the window is still open
        self.assertEqual(send_immediate_alerts(later()), 1)
        gathered = mails()[-1]
        self.assertIsNone(gathered.report)
        self.assertIn("2", gathered.subject)
        self.assertIn("Trong vài phút qua có thêm 2 phản ánh mới", gathered.body)
        for report in (second, third):
            self.assertIn(f"/r/{report.public_id}/", gathered.body)
        self.assertNotIn(first.public_id, gathered.body)
        self.assertIn(f"/alerts/unsubscribe/{alert.unsubscribe_token}/", gathered.body)
        self.assertEqual(gathered.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        alert.refresh_from_db()
        self.assertEqual((alert.waiting, alert.waiting_count), ([], 0))

    def test_the_gathered_mail_is_in_the_subscriber_s_language_and_names_no_reporter(self):
        in_ward(self.ward_a, language="en")
        reported(105.72, 10.02)
        reported(105.72, 10.03, description="Gọi tôi 0909 555 123")
        send_immediate_alerts(later())
        gathered = mails()[-1]
        self.assertIn("1 more new report was made public in", gathered.body)
        self.assertIn("Ward A", gathered.body)
        self.assertEqual(gathered.headers["Content-Language"], "en")
        for private in ("Trần Thị Bí Mật", "bimat@example.vn", "0909 555 123"):
            self.assertNotIn(private, gathered.subject + gathered.body)

    def test_a_storm_in_one_pass_mails_the_first_at_once_and_lists_at_most_fifty(self):
        in_ward(self.ward_a)
        storm = [reported(105.72, 10.02 + i / 10000, alerts=False) for i in range(MAX_DIGEST_REPORTS + 3)]
        self.assertEqual(send_immediate_alerts(), 1)
        [first] = mails()
        self.assertEqual(first.report, storm[0])
        self.assertEqual(send_immediate_alerts(later()), 1)
        gathered = mails()[-1]
        self.assertEqual(gathered.body.count("/r/"), MAX_DIGEST_REPORTS)
        self.assertIn(f"thêm {MAX_DIGEST_REPORTS + 2} phản ánh mới", gathered.body)
        self.assertIn("…và 2 phản ánh khác: xem trên bản đồ.", gathered.body)
        listed = [r.public_id for r in storm[1:MAX_DIGEST_REPORTS + 1]]  # the oldest that waited
        self.assertEqual(re.findall(r"/r/([^/]+)/", gathered.body), listed)

    def test_when_every_listed_report_was_rejected_the_ones_counted_beyond_them_still_get_a_mail(self):
        in_ward(self.ward_a)
        storm = [reported(105.72, 10.02 + i / 10000, alerts=False) for i in range(MAX_DIGEST_REPORTS + 3)]
        send_immediate_alerts()
        for report in storm[1:MAX_DIGEST_REPORTS + 1]:
            transition_report(report.pk, "rejected", message="Rác")
        self.assertEqual(send_immediate_alerts(later()), 1)
        gathered = mails()[-1]
        self.assertNotIn("/r/", gathered.body)
        self.assertIn("thêm 2 phản ánh mới", gathered.body)

    def test_what_waits_is_kept_oldest_first_whichever_pass_adds_it(self):
        """Two workers may add a subscription's reports out of order (each takes its own batch)."""
        alert = in_ward(self.ward_a)
        reported(105.72, 10.02)
        older, newer = reported(105.72, 10.03, alerts=False), reported(105.72, 10.04, alerts=False)
        AlertDue.objects.filter(report=older).delete()  # taken by a slower worker: it comes second
        send_immediate_alerts()
        AlertDue.objects.create(report=older)
        send_immediate_alerts()
        alert.refresh_from_db()
        self.assertEqual(alert.waiting, [older.pk, newer.pk])

    def test_a_report_staff_rejected_while_it_waited_is_left_out(self):
        in_ward(self.ward_a)
        reported(105.72, 10.02)
        kept, spam = reported(105.72, 10.03), reported(105.72, 10.04)
        transition_report(spam.pk, "rejected", message="Không phải vấn đề của thành phố")
        send_immediate_alerts(later())
        gathered = mails()[-1]
        self.assertIn(kept.public_id, gathered.body)
        self.assertNotIn(spam.public_id, gathered.body)
        self.assertIn("thêm 1 phản ánh mới", gathered.body)

    def test_a_report_rejected_before_the_pass_is_never_mailed(self):
        in_ward(self.ward_a)
        spam = reported(105.72, 10.02, alerts=False)
        transition_report(spam.pk, "rejected", message="Rác")
        self.assertEqual(send_immediate_alerts(), 0)
        self.assertEqual(mails(), [])

    def test_after_a_quiet_window_the_next_report_goes_at_once_again(self):
        in_ward(self.ward_a)
        reported(105.72, 10.02)
        second = reported(105.72, 10.03, alerts=False)
        self.assertEqual(send_immediate_alerts(later()), 1)  # after the window: at once, not gathered
        self.assertEqual(mails()[-1].report, second)

    def test_a_report_after_the_gathered_mail_waits_for_the_next_window(self):
        alert = in_ward(self.ward_a)
        reported(105.72, 10.02)
        reported(105.72, 10.03)
        end = later()
        send_immediate_alerts(end)
        alert.refresh_from_db()
        self.assertEqual(alert.window_until, end + timedelta(seconds=WINDOW_S))
        third = reported(105.72, 10.04, alerts=False)
        self.assertEqual(send_immediate_alerts(end + timedelta(seconds=1)), 0)
        self.assertEqual(send_immediate_alerts(end + timedelta(seconds=WINDOW_S + 1)), 1)
        self.assertIn(third.public_id, mails()[-1].body)
        self.assertIsNone(mails()[-1].report)

    def test_a_window_that_ends_with_nothing_left_to_mail_leaves_the_subscription_quiet(self):
        alert = in_ward(self.ward_a)
        reported(105.72, 10.02)
        spam = reported(105.72, 10.03)
        transition_report(spam.pk, "rejected", message="Rác")
        self.assertEqual(send_immediate_alerts(later()), 0)
        alert.refresh_from_db()
        self.assertEqual((alert.window_until, alert.waiting_count), (None, 0))
        third = reported(105.72, 10.04)
        self.assertEqual(mails()[-1].report, third)

    def test_a_report_made_before_the_subscription_was_confirmed_is_not_mailed(self):
        reported(105.72, 10.02, alerts=False)
        in_ward(self.ward_a)
        self.assertEqual(send_immediate_alerts(), 0)

    def test_each_subscription_has_its_own_window(self):
        in_ward(self.ward_a)
        reported(105.72, 10.02)
        in_ward(self.ward_a, email="minh@example.vn")
        second = reported(105.72, 10.03)
        self.assertEqual(len(mails()), 1)  # lan's window is open
        [minh] = mails("minh@example.vn")
        self.assertEqual(minh.report, second)

    def test_an_address_that_unsubscribed_while_reports_waited_gets_nothing_more(self):
        alert = in_ward(self.ward_a)
        reported(105.72, 10.02)
        reported(105.72, 10.03)
        self.assertTrue(unsubscribe_alert(alert.unsubscribe_token))
        self.assertEqual(send_immediate_alerts(later()), 0)
        self.assertEqual(len(mails()), 1)

    def test_with_no_window_every_report_is_mailed(self):
        in_ward(self.ward_a)
        with self.settings(CITYPIN_ALERT_GATHER_S=0):
            reports = [reported(105.72, 10.02 + i / 1000) for i in range(3)]
        self.assertEqual([m.report for m in mails()], reports)
        self.assertIsNone(AreaAlert.objects.get().window_until)
