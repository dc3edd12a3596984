"""Faults, each against a real HTTP receiver on 127.0.0.1 started by the test: a receiver that
is down, slow or failing; two workers at once; a worker killed mid-batch (SIGKILL) or stopped
(SIGTERM). What must hold: nothing is lost, and a message sent twice carries the same
idempotency id both times (the receiver drops the second)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.delivery.outbox import send_pending
from incidents.models import Department, OutboxMessage, WebhookEndpoint
from tests.delivery.receiver import Receiver
from tests.processes import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queue(n: int, url: str) -> WebhookEndpoint:
    department = Department.objects.create(code=f"d{time.monotonic_ns()}", name_vi="Phòng")
    endpoint = WebhookEndpoint.objects.create(department=department, url=url, secret="s")
    OutboxMessage.objects.bulk_create([
        OutboxMessage(channel="webhook", endpoint=endpoint, recipient=url, subject="report.routed", body=f'{{"n": {i}}}')
        for i in range(n)])
    return endpoint


class ReceiverFaultTests(TestCase):
    def test_a_receiver_that_is_down_then_back_gets_each_message_once(self):
        port = free_port()
        queue(3, f"http://127.0.0.1:{port}/hook")
        now = timezone.now()
        self.assertEqual(send_pending(now), (0, 3))
        self.assertIn("Connection refused", OutboxMessage.objects.first().last_error)
        with Receiver(port=port) as receiver:
            self.assertEqual(send_pending(now + timedelta(days=1)), (3, 0))
        self.assertEqual((len(receiver.requests), len(receiver.unique)), (3, 3))

    @override_settings(CITYPIN_WEBHOOK_TIMEOUT=0.3)
    def test_a_receiver_that_times_out_is_retried_with_the_same_idempotency_id(self):
        with Receiver(delay=1.0) as receiver:
            queue(1, receiver.url)
            now = timezone.now()
            self.assertEqual(send_pending(now), (0, 1))
            self.assertIn("timed out", OutboxMessage.objects.get().last_error)
            receiver.delay = 0
            self.assertEqual(send_pending(now + timedelta(days=1)), (1, 0))
        self.assertEqual((len(receiver.requests), len(receiver.unique)), (2, 1))  # the slow one arrived too

    def test_500_three_times_then_200_is_delivered_once_after_three_retries(self):
        with Receiver(script=[500, 500, 500]) as receiver:
            queue(1, receiver.url)
            now = timezone.now()
            results = []
            for _ in range(5):
                results.append(send_pending(now))
                now += timedelta(days=1)
        self.assertEqual(results, [(0, 1), (0, 1), (0, 1), (1, 0), (0, 0)])
        message = OutboxMessage.objects.get()
        self.assertEqual((message.attempts, message.sent_at is not None), (4, True))
        self.assertEqual(len(receiver.unique), 1)


@override_settings(CITYPIN_OUTBOX_BATCH=10)
def test_two_workers_at_once_send_each_message_once(transactional_db):
    with Receiver(delay=0.005) as receiver:
        queue(200, receiver.url)
        counts = []

        def work():
            try:
                counts.append(send_pending()[0])
            finally:
                connection.close()

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sum(counts) == 200 and min(counts) > 0, counts  # both worked, together exactly once each
    assert (len(receiver.requests), len(receiver.unique)) == (200, 200)
    assert OutboxMessage.objects.filter(sent_at__isnull=False).count() == 200


def start_worker() -> subprocess.Popen:
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CITYPIN_OUTBOX_LEASE": "1", "CITYPIN_OUTBOX_BATCH": "40", "CITYPIN_OUTBOX_CONCURRENCY": "2",
           "CITYPIN_WEBHOOK_ALLOW_PRIVATE": "1", "CITYPIN_WORKER_INTERVAL": "0.5"}
    return subprocess.Popen([sys.executable, "manage.py", "run_worker", "--outbox-only"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing(transactional_db):
    with Receiver(delay=0.01) as receiver:
        queue(300, receiver.url)
        worker = start_worker()
        wait_until(lambda: len(receiver.requests) >= 60)
        worker.send_signal(signal.SIGKILL)  # between sending and recording, with rows claimed
        worker.wait()
        assert OutboxMessage.objects.filter(sent_at__isnull=True).exists()
        worker = start_worker()
        try:
            wait_until(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists())
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
    assert len(receiver.unique) == 300  # nothing lost
    by_key: dict[str, set[bytes]] = {}
    for request in receiver.requests:
        by_key.setdefault(request.headers["Idempotency-Key"], set()).add(request.body)
    assert all(len(bodies) == 1 for bodies in by_key.values())  # a duplicate is the same message, same id


def test_a_worker_stopped_with_sigterm_records_what_it_sent_and_releases_the_rest(transactional_db):
    with Receiver(delay=0.01) as receiver:
        queue(300, receiver.url)
        worker = start_worker()
        wait_until(lambda: len(receiver.requests) >= 30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    sent = OutboxMessage.objects.filter(sent_at__isnull=False).count()
    assert sent == len(receiver.requests) == len(receiver.unique) < 300  # each item in hand finished and recorded
    assert not OutboxMessage.objects.filter(sent_at__isnull=True, send_after__gt=timezone.now()).exists()  # released
