"""Which database a request reads from, once replicas are configured (incidents/read/replicas.py).

Rules, in order:
- a write (any method but GET, HEAD, OPTIONS) runs wholly on the primary;
- staff paths (/console/, /admin/) and signed-in users read from the primary;
- a client that wrote within CITYPIN_READ_PRIMARY_S seconds reads from the primary
  (read-your-writes): a successful write answers with the cookie `citypin_primary` and the header
  `Citypin-Primary-Until` (a Unix time); a client without cookies may echo that header;
- any other read uses a well replica (the primary if none is well).

A replica that fails mid-request is marked unwell; the outage middleware (http/outage.py) above
this one then runs the read again, which now goes elsewhere. A streamed body (exports) is read
after the view returned, so its iteration keeps the request's alias.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, HttpResponse

from incidents.http.outage import is_outage
from incidents.read.replicas import choose_replica, is_replica, mark_unwell, reading_from, request_alias

READ_METHODS = ("GET", "HEAD", "OPTIONS")
PRIMARY_PATHS = ("/console/", "/admin/")
COOKIE = "citypin_primary"
HEADER = "Citypin-Primary-Until"


def primary_until(request: HttpRequest) -> float:
    """Until when (Unix time) this client reads from the primary: its cookie or echoed header.
    A value further ahead than the setting allows is not honoured (a client cannot pin itself)."""
    latest = time.time() + settings.CITYPIN_READ_PRIMARY_S + 1
    until = 0.0
    for raw in (request.COOKIES.get(COOKIE), request.headers.get(HEADER)):
        try:
            value = float(raw) if raw else 0.0
        except ValueError:
            continue
        if value <= latest:
            until = max(until, value)
    return until


def alias_for(request: HttpRequest) -> str:
    if request.method not in READ_METHODS or request.path.startswith(PRIMARY_PATHS):
        return DEFAULT_DB_ALIAS
    if primary_until(request) > time.time():
        return DEFAULT_DB_ALIAS
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return DEFAULT_DB_ALIAS
    return choose_replica()


def mark_writer(response: HttpResponse) -> None:
    """Read-your-writes: this client reads from the primary for the next few seconds."""
    seconds = settings.CITYPIN_READ_PRIMARY_S
    until = f"{time.time() + seconds:.3f}"
    response.set_cookie(COOKIE, until, max_age=max(1, round(seconds)), httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)
    response[HEADER] = until


def _kept_on(alias: str, content: Iterable[bytes]) -> Iterator[bytes]:
    """`content`, each part produced while reads use `alias` (and nothing else's reads do)."""
    parts = iter(content)
    while True:
        with reading_from(alias):
            try:
                part = next(parts)
            except StopIteration:
                return
        yield part


class ReplicaReadMiddleware:
    def __init__(self, get_response):
        if not settings.CITYPIN_REPLICAS:
            raise MiddlewareNotUsed  # single node: no cost per request
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        alias = alias_for(request)
        # Set for the primary too: the outage middleware's retry runs inside the first attempt.
        with reading_from(alias):
            response = self.get_response(request)
            wrote = alias != DEFAULT_DB_ALIAS and request_alias() == DEFAULT_DB_ALIAS  # pinned: it wrote
        if alias != DEFAULT_DB_ALIAS and response.streaming and not response.is_async:
            response.streaming_content = _kept_on(alias, response.streaming_content)
        if (wrote or request.method not in READ_METHODS) and response.status_code < 400:
            mark_writer(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        alias = request_alias()
        if is_replica(alias) and is_outage(exception):
            mark_unwell(alias)  # the outage middleware's retry reads elsewhere
        return None
