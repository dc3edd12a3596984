"""Department notices go through the outbox: written with the report, sent by the worker,
retried when the mail server fails; the worker that sends them keeps going when a pass fails."""

import io
import os
import signal
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.delivery.channels import CHANNELS, Channel
from incidents.delivery.outbox import send_pending
from incidents.intake import ReportDraft, submit_report
from incidents.models import OutboxMessage
from tests.world import build_world


class FailingBackend(BaseEmailBackend):
    """An SMTP server that is down (the process boundary is the only place we fake)."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


class OutboxTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.construction.email = "construction@example.vn"
        cls.construction.save()

    def submit(self):
        return submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"},
                                         description="Ổ gà <b>to</b>"))

    def test_new_report_queues_a_notice_to_its_department(self):
        report = self.submit()
        message = OutboxMessage.objects.get()
        self.assertEqual((message.recipient, message.report), ("construction@example.vn", report))
        self.assertIn(report.public_id, message.subject)
        self.assertEqual(len(mail.outbox), 0)  # nothing is sent inside the request

    def test_worker_sends_it_in_vietnamese_and_english(self):
        report = self.submit()
        self.assertEqual(send_pending(), (1, 0))
        self.assertEqual(len(mail.outbox), 1)
        body = mail.outbox[0].body
        self.assertIn("Có phản ánh mới được chuyển đến Sở Xây dựng", body)
        self.assertIn("A new report was routed to Construction", body)
        self.assertIn("Ổ gà <b>to</b>", body)  # plain text mail: no HTML escaping
        self.assertIn("10.020000, 105.720000", body)
        self.assertIsNotNone(OutboxMessage.objects.get().sent_at)
        self.assertEqual(send_pending(), (0, 0))  # sent once only
        self.assertEqual(report.messages.count(), 1)

    def test_department_without_email_gets_no_message(self):
        submit_report(ReportDraft(category_code="encroachment", lon=105.72, lat=10.02))
        self.assertFalse(OutboxMessage.objects.exists())

    @override_settings(EMAIL_BACKEND="tests.delivery.test_outbox.FailingBackend")
    def test_failed_send_is_kept_and_retried_later(self):
        self.submit()
        self.assertEqual(send_pending(), (0, 1))
        message = OutboxMessage.objects.get()
        self.assertEqual(message.attempts, 1)
        self.assertIn("smtp down", message.last_error)
        self.assertIsNone(message.sent_at)
        self.assertGreater(message.send_after, message.created_at)
        self.assertEqual(send_pending(), (0, 0))  # not due yet

    def test_message_for_a_channel_without_sender_is_not_emailed_and_keeps_the_error(self):
        self.submit()
        OutboxMessage.objects.update(channel="fax")
        self.assertEqual(send_pending(), (0, 1))
        self.assertEqual(len(mail.outbox), 0)
        message = OutboxMessage.objects.get()
        self.assertEqual(message.attempts, 1)
        self.assertIn("no sender for channel 'fax'", message.last_error)
        self.assertIsNone(message.sent_at)
        self.assertIsNone(message.failed_at)
        self.assertGreater(message.send_after, message.created_at)

    def test_message_that_keeps_failing_is_given_up_after_the_last_attempt(self):
        self.submit()
        OutboxMessage.objects.update(channel="fax")
        now = timezone.now()
        for _ in range(settings.CITYPIN_OUTBOX_MAX_ATTEMPTS):
            self.assertEqual(send_pending(now), (0, 1))
            now += timedelta(days=1)  # past any backoff
        message = OutboxMessage.objects.get()
        self.assertEqual(message.attempts, settings.CITYPIN_OUTBOX_MAX_ATTEMPTS)
        self.assertIsNotNone(message.failed_at)
        self.assertEqual(send_pending(now), (0, 0))  # given up: not tried again
        self.assertEqual(len(mail.outbox), 0)

    def test_each_message_goes_to_the_sender_of_its_channel(self):
        class Recording(Channel):
            def __init__(self):
                self.sent = []

            def send(self, message):
                self.sent.append(message.recipient)

        webhook = Recording()
        self.submit()
        OutboxMessage.objects.update(channel="webhook")
        with mock.patch.dict(CHANNELS, {"webhook": webhook}):
            self.assertEqual(send_pending(), (1, 0))
        self.assertEqual(webhook.sent, ["construction@example.vn"])
        self.assertEqual(len(mail.outbox), 0)

    def test_rejected_report_sends_nothing(self):
        with self.assertRaises(Exception):
            submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={}))
        self.assertFalse(OutboxMessage.objects.exists())


class WorkerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.construction.email = "construction@example.vn"
        cls.construction.save()

    def test_one_pass_sends_mail_and_computes_hotspots(self):
        from incidents import worker

        worker._last_hotspots = None
        submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"}))
        summary = worker.run_once()
        self.assertIn("outbox: 1 sent, 0 failed", summary)
        self.assertIn("hotspots: 0 after", summary)
        self.assertEqual(len(mail.outbox), 1)


def test_worker_survives_a_failed_pass(monkeypatch, caplog, settings):
    """A pass that fails (the database restarting, say) is logged and the next pass runs."""
    from django.core.management import call_command

    from incidents.management.commands import run_worker

    passes = []

    def flaky():
        passes.append(1)
        if len(passes) == 1:
            raise RuntimeError("server closed the connection unexpectedly")
        os.kill(os.getpid(), signal.SIGTERM)  # stop after the second pass
        return "outbox: 1 sent, 0 failed"

    monkeypatch.setattr(run_worker, "run_once", flaky)
    monkeypatch.setattr(run_worker, "start_outbox", lambda *args: None)
    settings.CITYPIN_WORKER_INTERVAL = 0
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    out = io.StringIO()
    try:
        call_command("run_worker", stdout=out)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert len(passes) == 2
    assert "outbox: 1 sent" in out.getvalue()
    assert "worker pass failed" in caplog.text


def test_worker_stops_on_sigterm_while_it_waits_without_another_pass(monkeypatch, settings):
    """systemd and `make serve` stop the worker with SIGTERM: it must not sleep out its interval
    and run one more pass first."""
    import threading

    from django.core.management import call_command

    from incidents.management.commands import run_worker

    passes = []
    monkeypatch.setattr(run_worker, "run_once", lambda: passes.append(1) or "")
    monkeypatch.setattr(run_worker, "start_outbox", lambda *args: None)
    settings.CITYPIN_WORKER_INTERVAL = 3600
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        call_command("run_worker", stdout=io.StringIO())
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert passes == [1]


def test_worker_once_reports_a_failed_pass(monkeypatch):
    from django.core.management import CommandError, call_command

    from incidents.management.commands import run_worker

    def failing():
        raise RuntimeError("boom")

    monkeypatch.setattr(run_worker, "run_once", failing)
    with pytest.raises(CommandError, match="worker pass failed: boom"):
        call_command("run_worker", "--once")
