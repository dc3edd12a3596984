"""A database outage answers 503 with Retry-After, in the client's format, never a 500.

The errors are those of a database that cannot be reached or went away mid-request: connection
refused, server closed the connection, connection already closed. Django wraps psycopg2's as
django.db's; both are listed, since a raw driver error can escape code that uses psycopg2
directly.
"""

from __future__ import annotations

import logging

import psycopg2
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (OperationalError, InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError)
RETRY_AFTER_S = 30
API_PREFIX = "/api/"
API_MESSAGE = "The database is unavailable; try again shortly."


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def log_outage(request: HttpRequest, exc: BaseException) -> None:
    logger.error("Database unavailable on %s %s: %s", request.method, request.path, exc)


def outage_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"database": [API_MESSAGE]}, status=503)
    else:
        # No RequestContext: its processors (messages, user) may themselves need the database.
        response = HttpResponse(render_to_string("citypin/unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        log_outage(request, exception)
        return outage_response(request)
