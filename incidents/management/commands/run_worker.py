import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from incidents.worker import run_once

log = logging.getLogger("citypin.worker")


class Command(BaseCommand):
    help = ("Background worker: sends the outbox (e-mails), escalates reports not acknowledged in time, "
            "refreshes hotspots. Runs until stopped; --once for one pass.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, once=False, **options):
        # SIGTERM (systemd, `make serve`) and SIGINT end the loop after the pass under way, or at
        # once while it waits; nothing half-done is left behind (each job is its own transaction).
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        while True:
            close_old_connections()  # a long-running process: drop broken or expired connections
            try:
                summary = run_once()
            except Exception as error:  # a failed pass (the database restarting…) is retried next pass
                if once:
                    raise CommandError(f"worker pass failed: {error}") from error
                log.exception("worker pass failed; retrying in %s s", settings.CITYPIN_WORKER_INTERVAL)
                summary = ""
            if summary:
                self.stdout.write(summary)
            if once or stopping.wait(settings.CITYPIN_WORKER_INTERVAL):
                return
