"""A database outage answers 503 with Retry-After, in the client's format, never a 500; a short
one (a restart) is ridden through.

A view that finds the database gone waits for it, reconnecting with backoff (0.1 s, doubling,
at most 1 s apart) for up to CITYPIN_DB_WAIT_S seconds. If it comes back, a read (GET, HEAD) is
run again, once, and answered as if nothing happened; a write is not run twice here (it may
have committed before the connection broke): it answers 503 with Retry-After: 1, and the
client's retry with its Idempotency-Key (http/idempotency.py) is answered once. A write that
carries such a key (or the web form's one-time token) is run again here instead, once: its key
makes the second run safe, and the client sees no 503 at all. If the database
stays away, 503 with Retry-After: RETRY_AFTER_S.

A face that answers in its own format (Open311's error documents) sets
`request.outage_response`, a function of the Retry-After seconds.

The errors are those of a database that cannot be reached or went away mid-request: connection
refused, server closed the connection, connection already closed. Django wraps psycopg2's as
django.db's; both are listed, since a raw driver error can escape code that uses psycopg2
directly.
"""

from __future__ import annotations

import logging
import sys
import time

import psycopg2
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (OperationalError, InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError)
RETRY_AFTER_S = 30
RETRY_SOON_S = 1  # the database is back: the client may retry at once
SAFE_METHODS = ("GET", "HEAD")
API_PREFIX = "/api/"
API_MESSAGE = "The database is unavailable; try again shortly."


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def log_outage(request: HttpRequest, exc: BaseException) -> None:
    logger.error("Database unavailable on %s %s: %s", request.method, request.path, exc)


def wait_for_database(limit_s: float) -> bool:
    """Reconnect with backoff until the database answers (True) or `limit_s` seconds pass."""
    deadline, delay = time.monotonic() + limit_s, 0.1
    while True:
        try:
            connection.close()  # the broken connection, if any
        except OUTAGE_ERRORS:
            pass
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except OUTAGE_ERRORS:
            pass
        if time.monotonic() + delay > deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def outage_response(request: HttpRequest, retry_after_s: int = RETRY_AFTER_S) -> HttpResponse:
    face_response = getattr(request, "outage_response", None)
    if face_response is not None:
        response = face_response(retry_after_s)
    elif request.path.startswith(API_PREFIX):
        response = JsonResponse({"database": [API_MESSAGE]}, status=503)
    else:
        # No RequestContext: its processors (messages, user) may themselves need the database.
        response = HttpResponse(render_to_string("citypin/unavailable.html"), status=503)
    response.status_code = 503
    response["Retry-After"] = str(retry_after_s)
    response["Cache-Control"] = "no-store"
    return response


def skip_health_check(request: HttpRequest) -> None:
    """Spare a read answered whole (not streamed) Django's health check of its connection
    (CONN_HEALTH_CHECKS: a `SELECT 1` before the request's first statement, a round trip that
    costs a busy server as much as a tile's own query). It buys such a read nothing: if the
    server dropped the connection, the read's statement fails, and DatabaseOutageMiddleware
    reconnects and runs the read again. Not for writes (never run twice here), nor for a
    streamed body (its statements run after the middleware has returned), nor for the retry."""
    if request.method not in SAFE_METHODS or getattr(request, "_citypin_retried", False):
        return
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            conn.health_check_done = True


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        log_outage(request, exception)
        if not wait_for_database(settings.CITYPIN_DB_WAIT_S):
            return outage_response(request)
        if runs_again_safely(request) and not getattr(request, "_citypin_retried", False):
            request._citypin_retried = True
            return self.get_response(request)  # again, on the new connection
        return outage_response(request, RETRY_SOON_S)


def runs_again_safely(request: HttpRequest) -> bool:
    """A read, or a write that says it is safe to run twice: one with an idempotency key
    (http/idempotency.py marks it), whose second run finds the first one's record if it had
    committed before the connection broke, and otherwise runs afresh."""
    return request.method in SAFE_METHODS or getattr(request, "replay_safe", False)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an outage that escaped the views (a session saved after the view, a
    middleware's query) still answers 503 with Retry-After, never a 500."""
    exception = sys.exc_info()[1]
    if exception is not None and is_outage(exception):
        log_outage(request, exception)
        return outage_response(request)
    return defaults.server_error(request)
