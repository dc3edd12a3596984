"""The outbox's claims, retries, dead messages, stops and concurrency, on rows written directly
(the domain's side is in test_outbox and test_webhook)."""

import threading
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.delivery.outbox import backoff, claim, dead_message_count, deliver, record, retry_messages, send_pending
from incidents.models import Department, OutboxMessage, WebhookEndpoint
from tests.delivery.receiver import Receiver


class CountingBackend(EmailBackend):
    """locmem, counting the SMTP sessions it would open."""

    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return True


def mails(n: int, **fields) -> list[OutboxMessage]:
    return OutboxMessage.objects.bulk_create([
        OutboxMessage(recipient=f"person{i}@example.vn", **{"subject": f"Thư {i}", "body": "…", **fields})
        for i in range(n)])


class ClaimTests(TestCase):
    def test_two_claims_never_take_the_same_message(self):
        mails(5)
        now = timezone.now()
        first, second = claim(now, limit=3), claim(now, limit=3)
        self.assertEqual((len(first), len(second)), (3, 2))
        self.assertFalse({m.pk for m in first} & {m.pk for m in second})

    def test_a_claim_holds_its_messages_for_the_lease(self):
        mails(2)
        now = timezone.now()
        claim(now)
        self.assertEqual(claim(now + timedelta(seconds=60)), [])

    @override_settings(CITYPIN_OUTBOX_LEASE=30)
    def test_messages_of_a_worker_that_died_come_back_after_the_lease(self):
        mails(2)
        now = timezone.now()
        claim(now)
        self.assertEqual(len(claim(now + timedelta(seconds=31))), 2)

    def test_messages_not_due_yet_are_not_claimed(self):
        mails(1, send_after=timezone.now() + timedelta(minutes=5))
        self.assertEqual(claim(timezone.now()), [])

    @override_settings(CITYPIN_OUTBOX_BATCH=7)
    def test_one_pass_drains_more_than_one_batch(self):
        mails(30)
        self.assertEqual(send_pending(), (30, 0))
        self.assertEqual(len(mail.outbox), 30)


@override_settings(CITYPIN_OUTBOX_BACKOFF=60, CITYPIN_OUTBOX_BACKOFF_MAX=3600)
class BackoffTests(TestCase):
    def test_the_delay_doubles_with_each_attempt_and_is_jittered_below_it(self):
        for attempts, full in [(1, 60), (2, 120), (3, 240), (5, 960)]:
            delays = {backoff(attempts).total_seconds() for _ in range(20)}
            self.assertTrue(all(full / 2 <= d <= full for d in delays), (attempts, delays))
            self.assertGreater(len(delays), 1)  # jitter: not every worker retries at the same instant

    def test_the_delay_stops_growing_at_the_cap(self):
        self.assertLessEqual(backoff(30).total_seconds(), 3600)


@override_settings(CITYPIN_OUTBOX_MAX_ATTEMPTS=3)
class DeadMessageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = get_user_model().objects.create_superuser("root", "root@example.vn", "pw")

    def kill(self, message: OutboxMessage) -> None:
        now = timezone.now()
        for _ in range(3):
            OutboxMessage.objects.filter(pk=message.pk).update(channel="fax", send_after=now)
            send_pending(now)
            now += timedelta(days=1)

    def test_a_message_is_dead_after_the_last_attempt_and_counted(self):
        [message] = mails(1)
        self.kill(message)
        message.refresh_from_db()
        self.assertEqual((message.attempts, message.failed_at is not None), (3, True))
        self.assertEqual(dead_message_count(), 1)

    def test_retry_now_makes_a_dead_message_due_with_fresh_attempts(self):
        [message] = mails(1)
        self.kill(message)
        OutboxMessage.objects.filter(pk=message.pk).update(channel="email")
        self.assertEqual(retry_messages([message.pk]), 1)
        self.assertEqual(send_pending(), (1, 0))
        self.assertEqual(dead_message_count(), 0)

    def test_retry_now_leaves_a_sent_message_alone(self):
        [message] = mails(1)
        send_pending()
        self.assertEqual(retry_messages([message.pk]), 0)

    def test_the_admin_lists_dead_messages(self):
        [message, other] = mails(2)
        self.kill(message)
        self.client.force_login(self.admin)
        page = self.client.get("/admin/incidents/outboxmessage/?state=dead")
        self.assertContains(page, message.recipient)
        self.assertNotContains(page, other.recipient)

    def test_the_admin_retries_a_dead_message_now(self):
        [message] = mails(1)
        self.kill(message)
        self.client.force_login(self.admin)
        page = self.client.post("/admin/incidents/outboxmessage/", {
            "action": "retry_now", "_selected_action": [message.pk]}, follow=True)
        self.assertContains(page, "1 thư sẽ được gửi lại ngay.")  # the admin speaks Vietnamese by default
        message.refresh_from_db()
        self.assertEqual((message.failed_at, message.attempts), (None, 0))


class StopTests(TestCase):
    def test_a_stopping_worker_releases_the_messages_it_has_not_started(self):
        mails(3)
        now = timezone.now()
        messages = claim(now)
        stop = threading.Event()
        stop.set()
        outcome = deliver(messages, stop)
        record(outcome, now)
        self.assertEqual((len(outcome.sent), len(outcome.released)), (0, 3))
        self.assertEqual(len(claim(now)), 3)  # due again at once, for the next worker
        self.assertEqual(OutboxMessage.objects.filter(attempts=0).count(), 3)


class ConnectionTests(TestCase):
    @override_settings(EMAIL_BACKEND="tests.delivery.test_claims.CountingBackend", CITYPIN_OUTBOX_CONCURRENCY=1)
    def test_one_smtp_session_carries_a_whole_batch(self):
        CountingBackend.opened = 0
        mails(20)
        self.assertEqual(send_pending(), (20, 0))
        self.assertEqual(CountingBackend.opened, 1)

    @override_settings(EMAIL_BACKEND="tests.delivery.test_claims.CountingBackend", CITYPIN_OUTBOX_CONCURRENCY=3)
    def test_the_concurrency_cap_bounds_the_smtp_sessions(self):
        CountingBackend.opened = 0
        mails(20)
        send_pending()
        self.assertEqual(CountingBackend.opened, 3)

    @override_settings(CITYPIN_OUTBOX_CONCURRENCY=2)
    def test_no_endpoint_gets_more_requests_at_once_than_the_cap(self):
        department = Department.objects.create(code="d", name_vi="D")
        with Receiver(delay=0.1) as receiver:
            endpoint = WebhookEndpoint.objects.create(department=department, url=receiver.url)
            mails(8, channel="webhook", endpoint=endpoint, subject="report.routed", body="{}")
            self.assertEqual(send_pending(), (8, 0))
        self.assertEqual(receiver.max_in_flight, 2)

    @override_settings(CITYPIN_OUTBOX_CONCURRENCY=2)
    def test_each_endpoint_has_its_own_cap(self):
        department = Department.objects.create(code="d", name_vi="D")
        with Receiver(delay=0.2) as one, Receiver(delay=0.2) as two:
            for receiver in (one, two):
                endpoint = WebhookEndpoint.objects.create(department=department, url=receiver.url)
                mails(4, channel="webhook", endpoint=endpoint, subject="report.routed", body="{}")
            self.assertEqual(send_pending(), (8, 0))
        self.assertEqual((one.max_in_flight, two.max_in_flight), (2, 2))


class DashboardTests(TestCase):
    """The operations center sees how many messages are dead on its console dashboard."""

    @classmethod
    def setUpTestData(cls):
        from incidents.models import StaffMembership
        from tests.world import build_world

        build_world(cls)
        cls.operator = get_user_model().objects.create_user("operator", "op@example.vn", "pw")
        StaffMembership.objects.create(user=cls.operator, department=cls.ioc, role="manager")
        cls.manager = get_user_model().objects.create_user("manager", "m@example.vn", "pw")
        StaffMembership.objects.create(user=cls.manager, department=cls.construction, role="manager")
        [cls.dead] = mails(1, failed_at=timezone.now(), attempts=8)

    def test_the_operations_center_sees_the_dead_messages_count(self):
        self.client.force_login(self.operator)
        page = self.client.get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, "1 message could not be delivered.")

    def test_a_department_manager_does_not(self):
        self.client.force_login(self.manager)
        page = self.client.get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(page, "could not be delivered")

    def test_no_dead_message_no_notice(self):
        OutboxMessage.objects.all().delete()
        self.client.force_login(self.operator)
        self.assertNotContains(self.client.get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="en"), "could not be delivered")

    def test_the_notice_is_in_vietnamese_by_default(self):
        self.client.force_login(self.operator)
        self.assertContains(self.client.get("/console/dashboard/"), "1 thư không gửi được.")
