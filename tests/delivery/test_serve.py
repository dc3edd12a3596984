"""The worker's delivery loop (outbox.serve) in a thread, against committed rows: woken by the
commit rather than its poll, stopped at once, and alive after a failed pass."""

import threading
import time

from django.core import mail
from django.db import transaction

from incidents.delivery import outbox
from incidents.models import OutboxMessage


def run_serve(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=outbox.serve, args=(stop,))
    thread.start()
    return thread


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def queue_mail() -> None:
    with transaction.atomic():
        OutboxMessage.objects.create(recipient="ban@example.vn", subject="Thư", body="…")


def test_a_committed_message_leaves_before_the_poll_interval(transactional_db, settings):
    settings.CITYPIN_WORKER_INTERVAL = 60  # only the commit's NOTIFY can wake it in time
    stop = threading.Event()
    thread = run_serve(stop)
    try:
        time.sleep(0.5)  # idle and listening
        queue_mail()
        wait_until(lambda: len(mail.outbox) == 1, timeout=5)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_loop_stops_promptly_when_asked(transactional_db, settings):
    settings.CITYPIN_WORKER_INTERVAL = 60
    stop = threading.Event()
    thread = run_serve(stop)
    time.sleep(0.3)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - started < 2


def test_the_loop_survives_a_failed_pass(transactional_db, settings, monkeypatch, caplog):
    settings.CITYPIN_WORKER_INTERVAL = 0.1
    real, calls = outbox._listener, []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database is restarting")
        return real()

    monkeypatch.setattr(outbox, "_listener", flaky)
    queue_mail()
    stop = threading.Event()
    thread = run_serve(stop)
    try:
        wait_until(lambda: len(mail.outbox) == 1)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert "outbox pass failed" in caplog.text
