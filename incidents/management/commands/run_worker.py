import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from incidents.worker import run_once


class Command(BaseCommand):
    help = "Background worker: sends the outbox (e-mails). Runs until stopped; --once for one pass."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, once=False, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while True:
            close_old_connections()  # a long-running process: drop broken or expired connections
            summary = run_once()
            if summary:
                self.stdout.write(summary)
            if once or stopping:
                return
            time.sleep(settings.CITYPIN_WORKER_INTERVAL)
