"""What the background worker does on each pass. Each job is a plain function, so tests call
them directly and the worker loop stays trivial."""

from __future__ import annotations

from .outbox import send_pending


def run_once() -> str:
    """One pass over every job; returns a one-line summary, or "" when nothing happened."""
    sent, failed = send_pending()
    return f"outbox: {sent} sent, {failed} failed" if sent or failed else ""
