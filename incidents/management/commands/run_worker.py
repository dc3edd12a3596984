import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from incidents.delivery.outbox import serve
from incidents.worker import run_once, start_folding, start_outbox

log = logging.getLogger("citypin.worker")


class Command(BaseCommand):
    help = ("Background worker: sends the outbox (e-mails), escalates reports not acknowledged in time, "
            "refreshes hotspots, folds the tiles' counts. Runs until stopped; --once for one pass.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--outbox-only", action="store_true",
                            help="Only deliver the outbox (more delivery workers beside a full one).")

    def handle(self, *args, once=False, outbox_only=False, **options):
        # SIGTERM (systemd, `make serve`) and SIGINT end the loop after the pass under way, or at
        # once while it waits; nothing half-done is left behind (each job is its own transaction).
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        if outbox_only:
            return serve(stopping, self.stdout.write)
        outbox = None if once else start_outbox(stopping, self.stdout.write)
        folder = None if once else start_folding(stopping)
        try:
            self._loop(once, stopping)
        finally:
            stopping.set()
            if outbox is not None:
                outbox.join()  # it finishes or releases the messages in hand
            if folder is not None:
                folder.join()

    def _loop(self, once: bool, stopping: threading.Event) -> None:
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
