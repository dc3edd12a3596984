"""The per-IP (or per-client) request counters of the rate limits (incidents/http/ratelimit.py):
one row per key and time window, counted up by a single statement, shared by every server
process. UNLOGGED (migration): counters need no crash safety and no WAL."""

from __future__ import annotations

from django.db import models


class RateCount(models.Model):
    pk = models.CompositePrimaryKey("key", "window")
    key = models.CharField(max_length=200)  # the limit's scope and who is counted
    window = models.BigIntegerField()  # the window's number: Unix time // its length in seconds
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)  # when the window stops mattering (it ends, plus one length)
