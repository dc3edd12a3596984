"""The outbox under a storm, beside plain Python doing the same sends in the same run.

1. Webhook throughput: N webhook messages committed at once, delivered by 2 worker processes
   (`run_worker --outbox-only`, already running and idle, woken by the commit) to a local
   receiver that answers at once; baseline: one plain Python loop POSTing the same body N times
   to the same receiver over one keep-alive connection (http.client). Target ≥ 0.5× the loop.
2. Commit-to-delivery delay at idle: single messages committed one at a time, 0.2 s apart; the
   time from the commit's return to the receiver's arrival. Target p95 < 2 s.
3. 10,000 queued mails drained by the same 2 workers into a local SMTP sink (aiosmtpd), from the
   commit to the last message received; baseline: one smtplib session sending them in a loop.
   Target ≥ 200 messages/s.

    CITYPIN_BENCH_DB=citypin_bench .venv/bin/python bench/outbox.py [--webhooks 3000] [--mails 10000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import _db

_db.use_bench_database()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from incidents.models import Department, OutboxMessage, WebhookEndpoint  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BODY = json.dumps({"event": "report.routed", "report": {"public_id": "CT-2026-000001", "description": "Ổ gà " * 80}},
                  ensure_ascii=False)


class Receiver:
    """A department's system that answers 200 at once and notes when each delivery arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.count += 1
                    receiver.arrived.setdefault(key, time.perf_counter())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Sink:
    """aiosmtpd handler: counts the messages it accepts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_workers(n: int, smtp_port: int) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": _db.database_url(),
           "CITYPIN_WEBHOOK_ALLOW_PRIVATE": "1", "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
           "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "DEBUG": "1", "LOG_LEVEL": "WARNING"}
    workers = [subprocess.Popen([sys.executable, "manage.py", "run_worker", "--outbox-only"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL) for _ in range(n)]
    time.sleep(4)  # Django started, LISTENing, idle
    return workers


def wait_for(condition, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.005)


def loop_posts(url: str, n: int) -> float:
    """Baseline: plain Python POSTs over one keep-alive connection; returns requests/s."""
    host, port = url.split("/")[2].split(":")
    conn = http.client.HTTPConnection(host, int(port))
    body = BODY.encode()
    start = time.perf_counter()
    for i in range(n):
        conn.request("POST", "/hook", body=body, headers={"Content-Type": "application/json",
                                                         "Idempotency-Key": f"loop-{i}"})
        conn.getresponse().read()
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def loop_smtp(port: int, n: int) -> float:
    """Baseline: one smtplib session sending n messages in a loop; returns messages/s."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "citypin@localhost", f"p{i}@example.vn", "Phản ánh"
            message.set_content("Có phản ánh mới.\n" * 20)
            smtp.send_message(message)
    return n / (time.perf_counter() - start)


def queue_webhooks(endpoint: WebhookEndpoint, n: int) -> float:
    with transaction.atomic():
        OutboxMessage.objects.bulk_create([
            OutboxMessage(channel="webhook", endpoint=endpoint, recipient=endpoint.url, subject="report.routed",
                          body=BODY) for _ in range(n)], batch_size=2000)
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhooks", type=int, default=3000)
    parser.add_argument("--mails", type=int, default=10000)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()

    OutboxMessage.objects.all().delete()
    receiver = Receiver()
    department, _ = Department.objects.get_or_create(code="bench-webhook", defaults={"name_vi": "Bench"})
    endpoint, _ = WebhookEndpoint.objects.update_or_create(department=department, defaults={"url": receiver.url})
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    workers = start_workers(2, smtp_port)
    try:
        # 1. Throughput to a webhook receiver.
        loop_rate = loop_posts(receiver.url, args.webhooks)
        before = receiver.count
        committed = queue_webhooks(endpoint, args.webhooks)
        wait_for(lambda: receiver.count - before >= args.webhooks)
        outbox_rate = args.webhooks / (time.perf_counter() - committed)
        wait_for(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists())
        print(f"webhooks, {args.webhooks} messages: outbox with 2 workers {outbox_rate:,.0f}/s, "
              f"plain Python loop {loop_rate:,.0f}/s: {outbox_rate / loop_rate:.2f}x (target >= 0.5x; "
              f"the old outbox's 50 per 5 s pass: 10/s)")

        # 2. Commit-to-delivery delay at idle.
        delays = []
        for _ in range(args.samples):
            time.sleep(0.2)
            with transaction.atomic():
                message = OutboxMessage.objects.create(channel="webhook", endpoint=endpoint, recipient=endpoint.url,
                                                       subject="report.routed", body=BODY)
            committed = time.perf_counter()
            key = f"citypin-{message.pk}-{int(message.created_at.timestamp())}"
            wait_for(lambda: key in receiver.arrived, timeout=30)
            delays.append(receiver.arrived[key] - committed)
        delays.sort()
        p95 = delays[int(0.95 * (len(delays) - 1))]
        print(f"commit-to-delivery at idle, {len(delays)} messages: median {statistics.median(delays) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms (target < 2000 ms; polling every CITYPIN_WORKER_INTERVAL without the "
              f"NOTIFY would wait up to {settings.CITYPIN_WORKER_INTERVAL * 1000:.0f} ms)")

        # 3. 10,000 queued mails into an SMTP sink.
        smtp_rate = loop_smtp(smtp_port, min(args.mails, 2000))
        before = sink.count
        start = time.perf_counter()
        with transaction.atomic():
            OutboxMessage.objects.bulk_create([
                OutboxMessage(recipient=f"nguoi{i}@example.vn", subject=f"[Citypin] Phản ánh CT-2026-{i:06d}",
                              body="Có phản ánh mới được chuyển đến Sở Xây dựng.\n" * 20)
                for i in range(args.mails)], batch_size=2000)
        committed = time.perf_counter()
        wait_for(lambda: sink.count - before >= args.mails)
        drained = time.perf_counter() - committed
        print(f"{args.mails:,} queued mails (queued in {committed - start:.1f} s) drained into aiosmtpd by 2 workers "
              f"in {drained:.1f} s: {args.mails / drained:,.0f} messages/s (target >= 200/s; "
              f"one smtplib session in a loop: {smtp_rate:,.0f}/s)")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
        controller.stop()
        OutboxMessage.objects.all().delete()


if __name__ == "__main__":
    main()
