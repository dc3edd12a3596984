"""Per-IP rate limits on anonymous writes and open-data reads, shared by the API and the web
pages. Rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], e.g. "30/hour") read at
each request.

Counting: every process and machine shares the counts, kept in PostgreSQL (RateCount, an
UNLOGGED table), one statement per counted request: an upsert of this window's count that also
reads the previous window's. The limit is a sliding window, estimated from the two fixed ones
(the previous window's count weighted by how much of it still overlaps the last `duration`
seconds, plus this window's): no burst of twice the rate across a window's edge, and no list of
timestamps to read and rewrite per request, as DRF's cache-backed history did (five statements
and a pickle of up to `rate` floats per request through the database cache). Refused requests
count too, so a client that keeps hammering stays refused until it slows down."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections
from rest_framework.throttling import SimpleRateThrottle

# This window's count goes up by one; the previous window's is read in the same statement.
COUNT_SQL = """
WITH counted AS (
    INSERT INTO incidents_ratecount (key, "window", count, expires_at)
    VALUES (%(key)s, %(window)s, 1, %(expires_at)s)
    ON CONFLICT (key, "window") DO UPDATE SET count = incidents_ratecount.count + 1
    RETURNING count
)
SELECT counted.count,
       coalesce((SELECT count FROM incidents_ratecount WHERE key = %(key)s AND "window" = %(window)s - 1), 0)
FROM counted
"""
# Windows no longer needed go a few at a time, on the way (about one counted request in
# PURGE_ONE_IN), found by the index on expires_at.
PURGE_SQL = """
DELETE FROM incidents_ratecount
WHERE (key, "window") IN (SELECT key, "window" FROM incidents_ratecount WHERE expires_at < %(now)s LIMIT 500)
"""
PURGE_ONE_IN = 256


def count(key: str, limit: int, duration: int, now: float | None = None) -> tuple[bool, float]:
    """Count one request under `key`: (allowed, seconds to wait when it is not). Always on the
    primary (a replica cannot count), in the request's transaction if there is one."""
    now = time.time() if now is None else now
    window, into = divmod(now, duration)
    window = int(window)
    expires_at = datetime.fromtimestamp((window + 2) * duration, tz=UTC)
    with connections["default"].cursor() as cursor:
        if random.randrange(PURGE_ONE_IN) == 0:
            cursor.execute(PURGE_SQL, {"now": datetime.fromtimestamp(now, tz=UTC)})
        cursor.execute(COUNT_SQL, {"key": key, "window": window, "expires_at": expires_at})
        current, previous = cursor.fetchone()
    overlap = 1 - into / duration  # how much of the previous window is still within the last `duration` s
    if previous * overlap + current <= limit:
        return True, 0.0
    if current > limit:  # this window alone is over: until it ends
        return False, duration - into
    # Over only with the previous window's share: until that share has shrunk enough.
    return False, max(1.0, duration * ((previous * overlap + current - limit) / previous))


class ScopedIpThrottle(SimpleRateThrottle):
    """A DRF throttle (throttle_classes) that plain views call too (allowed()): counts the
    requests of `methods` per client IP (DRF's get_ident: REMOTE_ADDR, or X-Forwarded-For
    behind NUM_PROXIES trusted proxies) under its `scope`'s rate."""

    scope = ""
    methods: tuple[str, ...] = ("POST",)

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]

    def allow_request(self, request, view):
        if request.method not in self.methods:
            return True
        self.num_requests, self.duration = self.parse_rate(self.get_rate())
        key = self.get_cache_key(request, view)
        if self.num_requests is None or key is None:
            return True
        allowed_now, self.wait_s = count(key, self.num_requests, self.duration)
        return allowed_now

    def wait(self):
        return math.ceil(getattr(self, "wait_s", 0.0)) or None

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ReportSubmitThrottle(ScopedIpThrottle):
    scope = "report_submit"


class SupportThrottle(ScopedIpThrottle):
    scope = "report_support"


class ReopenThrottle(ScopedIpThrottle):
    scope = "report_reopen"


class AlertSubscribeThrottle(ScopedIpThrottle):
    scope = "alert_subscribe"


def allowed(request, throttle: type[ScopedIpThrottle]) -> bool:
    """For plain Django views: True if this request is within the limit (and counts it)."""
    return throttle().allow_request(request, None)
