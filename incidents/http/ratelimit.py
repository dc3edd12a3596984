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
count too, so a client that keeps hammering stays refused until it slows down.

A high limit (open-data reads: 1,200 a minute) would still cost a statement per tile. So each
process counts up to 1% of a limit itself, for at most a second, and adds it to the shared count
in one statement (a write limit of 30 an hour is counted exactly, every request). A client may
then pass a limit by at most 1% per server process: 5% with `make serve`'s five processes."""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

# This window's count goes up by n; the previous window's is read in the same statement.
COUNT_SQL = """
WITH counted AS (
    INSERT INTO incidents_ratecount (key, "window", count, expires_at)
    VALUES (%(key)s, %(window)s, %(n)s, %(expires_at)s)
    ON CONFLICT (key, "window") DO UPDATE SET count = incidents_ratecount.count + %(n)s
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


LOCAL_SHARE = 0.01  # of a limit, counted by a process before it adds them to the shared count
LOCAL_S = 1.0  # ... or for at most this long
LOCAL_KEYS = 10_000  # clients a process remembers before it forgets the quiet ones


@dataclass
class _Local:
    """What this process knows of one key's count in one window, and has not added yet."""

    window: int
    current: int  # the shared count at the last statement
    previous: int  # the previous window's
    since: float  # when that statement ran
    unsent: int = 0


_local: dict[tuple[str, int, int], _Local] = {}
_lock = threading.Lock()


def forget_local() -> None:
    """Drop what this process counted and has not added (tests start afresh with it)."""
    with _lock:
        _local.clear()


def count(key: str, limit: int, duration: int, now: float | None = None) -> tuple[bool, float]:
    """Count one request under `key`: (allowed, seconds to wait when it is not). Always on the
    primary (a replica cannot count), in the request's transaction if there is one."""
    now = time.time() if now is None else now
    window, into = divmod(now, duration)
    window = int(window)
    batch, slot = int(limit * LOCAL_SHARE), (key, limit, duration)
    with _lock:
        ours = _local.get(slot)
        if ours and ours.window == window and ours.unsent < batch and now - ours.since < LOCAL_S:
            ours.unsent += 1
            return _verdict(ours.current + ours.unsent, ours.previous, limit, duration, into)
        _local.pop(slot, None)  # what it had not added goes with this statement
    current, previous = _add(key, window, duration, now, ours)
    with _lock:
        _local[slot] = _Local(window, current, previous, now)
        if len(_local) > LOCAL_KEYS:  # many clients: forget the quiet ones (at most 1% of a count each)
            for quiet in [k for k, v in _local.items() if now - v.since >= LOCAL_S]:
                del _local[quiet]
    return _verdict(current, previous, limit, duration, into)


def _add(key: str, window: int, duration: int, now: float, ours: _Local | None) -> tuple[int, int]:
    """Add this request and what this process counted but had not added: to this window, or an
    earlier window's count to that window. Returns this window's and the previous one's count."""
    n, late = 1, None
    if ours is not None and ours.window == window:
        n += ours.unsent
    elif ours is not None and ours.unsent:
        late = ours
    with connections["default"].cursor() as cursor:
        if random.randrange(PURGE_ONE_IN) == 0:
            cursor.execute(PURGE_SQL, {"now": datetime.fromtimestamp(now, tz=UTC)})
        if late is not None:
            cursor.execute(COUNT_SQL, {"key": key, "window": late.window, "n": late.unsent,
                                       "expires_at": datetime.fromtimestamp((late.window + 2) * duration, tz=UTC)})
        cursor.execute(COUNT_SQL, {"key": key, "window": window, "n": n,
                                   "expires_at": datetime.fromtimestamp((window + 2) * duration, tz=UTC)})
        return cursor.fetchone()


def _verdict(current: int, previous: int, limit: int, duration: int, into: float) -> tuple[bool, float]:
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
        # The rate was read and parsed by __init__, once per request (a throttle lives for one).
        key = self.get_cache_key(request, view)
        if self.num_requests is None or key is None:
            return True
        allowed_now, self.wait_s = count(key, self.num_requests, self.duration)
        return allowed_now

    def wait(self):
        return math.ceil(getattr(self, "wait_s", 0.0)) or None

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request):
        """DRF's get_ident, reading X-Forwarded-For from META: request.headers would build a
        dict of every header on each open-data read for this one."""
        xff = request.META.get("HTTP_X_FORWARDED_FOR")
        remote_addr = request.META.get("REMOTE_ADDR")
        num_proxies = api_settings.NUM_PROXIES
        if num_proxies is not None:
            if num_proxies == 0 or xff is None:
                return remote_addr
            addrs = xff.split(",")
            return addrs[-min(num_proxies, len(addrs))].strip()
        return "".join(xff.split()) if xff else remote_addr


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
