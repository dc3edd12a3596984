"""What the background worker does on each pass. Each job is a plain function, so tests call
them directly and the worker loop stays trivial."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from incidents.alerts import send_digests
from incidents.delivery.open311_poll import poll_open311
from incidents.delivery.outbox import send_pending, serve
from incidents.escalation import escalate_overdue
from incidents.hotspots import refresh_hotspots
from incidents.notices import enqueue_dead_message_digest
from incidents.read.snapshot import make_snapshot, snapshot_due

_last_hotspots = None
_last_snapshot_try = None
SNAPSHOT_RETRY_S = 3600  # a snapshot that failed (disk full, GDAL missing) is tried again an hour later
_outbox: threading.Thread | None = None


def start_outbox(stop: threading.Event, write: Callable[[str], None]) -> threading.Thread:
    """Deliver the outbox in a thread of its own, at once when messages are queued, so a long
    job of the pass (the daily snapshot takes about a minute at 1M reports) never holds mail up."""
    global _outbox
    _outbox = threading.Thread(target=serve, args=(stop, write), name="outbox")
    _outbox.start()
    return _outbox


def run_once() -> str:
    """One pass over every job; returns a one-line summary, or "" when nothing happened."""
    global _last_hotspots, _last_snapshot_try
    lines = []
    if _outbox is None or not _outbox.is_alive():  # else the outbox thread delivers
        sent, failed = send_pending()
        if sent or failed:
            lines.append(f"outbox: {sent} sent, {failed} failed")
    now = timezone.now()
    escalated = escalate_overdue(now)
    if escalated:
        lines.append(f"escalated: {escalated} reports not acknowledged in time")
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
