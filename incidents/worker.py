"""What the background worker does on each pass. Each job is a plain function, so tests call
them directly and the worker loop stays trivial."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from incidents.delivery.outbox import send_pending
from incidents.escalation import escalate_overdue
from incidents.hotspots import refresh_hotspots
from incidents.read.snapshot import make_snapshot, snapshot_due

_last_hotspots = None
_last_snapshot_try = None
SNAPSHOT_RETRY_S = 3600  # a snapshot that failed (disk full, GDAL missing) is tried again an hour later


def run_once() -> str:
    """One pass over every job; returns a one-line summary, or "" when nothing happened."""
    global _last_hotspots, _last_snapshot_try
    lines = []
    sent, failed = send_pending()
    if sent or failed:
        lines.append(f"outbox: {sent} sent, {failed} failed")
    now = timezone.now()
    escalated = escalate_overdue(now)
    if escalated:
        lines.append(f"escalated: {escalated} reports not acknowledged in time")
    if _last_hotspots is None or (now - _last_hotspots).total_seconds() >= settings.CITYPIN_HOTSPOT_INTERVAL:
        _last_hotspots = now
        result = refresh_hotspots(now=now)
        if result.full or result.incremental:
            lines.append(result.summary())
    if snapshot_due() and (_last_snapshot_try is None or (now - _last_snapshot_try).total_seconds() >= SNAPSHOT_RETRY_S):
        _last_snapshot_try = now  # the day's open-data files; at 1M reports this pass takes about a minute
        lines.append("open-data snapshot: " + ", ".join(f.name for f in make_snapshot()))
    return "; ".join(lines)
