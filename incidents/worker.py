"""What the background worker does on each pass. Each job is a plain function, so tests call
them directly and the worker loop stays trivial."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.alerts import send_digests, send_immediate_alerts
from incidents.cells import fold_tile_cells
from incidents.delivery.open311_poll import poll_open311
from incidents.delivery.outbox import send_pending, serve
from incidents.escalation import escalate_overdue
from incidents.hotspots import refresh_hotspots
from incidents.notices import enqueue_dead_message_digest, send_gathered_notices
from incidents.read.snapshot import make_snapshot, snapshot_due

_last_hotspots = None
_last_snapshot_try = None
SNAPSHOT_RETRY_S = 3600  # a snapshot that failed (disk full, GDAL missing) is tried again an hour later
_outbox: threading.Thread | None = None
_folder: threading.Thread | None = None
FOLD_INTERVAL_S = 1.0  # how often the tiles' kept counts take in what was written (incidents.cells)
log = logging.getLogger(__name__)


def start_outbox(stop: threading.Event, write: Callable[[str], None]) -> threading.Thread:
    """Deliver the outbox in a thread of its own, at once when messages are queued, so a long
    job of the pass (the daily snapshot takes about a minute at 1M reports) never holds mail up."""
    global _outbox
    _outbox = threading.Thread(target=serve, args=(stop, write), name="outbox")
    _outbox.start()
    return _outbox


def start_folding(stop: threading.Event) -> threading.Thread:
    """Fold the tiles' pending count changes every FOLD_INTERVAL_S, in a thread of its own, so
    that they stay few (readers add them up) whatever the pass is doing."""
    global _folder
    _folder = threading.Thread(target=_fold_until, args=(stop,), name="cells")
    _folder.start()
    return _folder


def _fold_until(stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            try:
                fold_tile_cells(stop=stop)
            except Exception:  # noqa: BLE001 - a long-running loop (the database restarting...): log, reconnect
                log.exception("folding the tile counts failed; retrying in %s s", FOLD_INTERVAL_S)
                connection.close()
            stop.wait(FOLD_INTERVAL_S)
    finally:
        connection.close()


def run_once() -> str:
    """One pass over every job; returns a one-line summary, or "" when nothing happened."""
    global _last_hotspots, _last_snapshot_try
    lines = []
    if _outbox is None or not _outbox.is_alive():  # else the outbox thread delivers
        sent, failed = send_pending()
        if sent or failed:
            lines.append(f"outbox: {sent} sent, {failed} failed")
    if _folder is None or not _folder.is_alive():  # else the folding thread does it
        fold_tile_cells()
    alerts = send_immediate_alerts()  # the new public reports' area alerts, and the windows that ended (its own clock)
    if alerts:
        lines.append(f"area alerts: {alerts} immediate mails queued")
    now = timezone.now()
    escalated = escalate_overdue(now)
    if escalated:
        lines.append(f"escalated: {escalated} reports not acknowledged in time")
    gathered = send_gathered_notices(now)  # each staff address's new reports of a window that ended
    if gathered:
        lines.append(f"gathered notices: {gathered} mails of new reports to staff")
    dead = enqueue_dead_message_digest(now)  # at most every CITYPIN_DEAD_DIGEST_HOURS, and only when some died
    if dead:
        lines.append(f"dead-message digest: {dead} mails to the operations centers")
    polled = poll_open311(now)  # each back office at most every CITYPIN_OPEN311_POLL_INTERVAL
    if polled.summary():
        lines.append(polled.summary())
    digests = send_digests(now)  # a cheap indexed look when none is due
    if digests:
        lines.append(f"area alerts: {digests} daily digests queued")
    if _last_hotspots is None or (now - _last_hotspots).total_seconds() >= settings.CITYPIN_HOTSPOT_INTERVAL:
        _last_hotspots = now
        result = refresh_hotspots(now=now)
        if result.full or result.incremental:
            lines.append(result.summary())
    if snapshot_due() and (_last_snapshot_try is None or (now - _last_snapshot_try).total_seconds() >= SNAPSHOT_RETRY_S):
        _last_snapshot_try = now  # the day's open-data files; at 1M reports this pass takes about a minute
        lines.append("open-data snapshot: " + ", ".join(f.name for f in make_snapshot()))
    return "; ".join(lines)
