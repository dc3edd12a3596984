"""What every open-data read shares (OGC API, tiles, exports, Open311 reads): anyone may read
it from any web page (CORS open for GET and HEAD), and each IP may read at most
OPEN_DATA_READ_RATE requests (a setting, e.g. "600/min"); beyond that, 429 with Retry-After
and a short JSON body, so a scraper slows down instead of slowing the city's site."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from incidents.http.outage import skip_health_check
from incidents.http.ratelimit import ScopedIpThrottle

# On every answer; a preflight (OPTIONS) also gets PREFLIGHT_HEADERS, which browsers read only
# there (Fetch standard, CORS protocol), so a tile or a page does not carry them.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Link, Retry-After, Content-Disposition",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}


class OpenDataReadThrottle(ScopedIpThrottle):
    scope = "open_data_read"
    methods = ("GET", "HEAD")


def too_many(wait_s: float | None) -> HttpResponse:
    retry_after = str(max(1, math.ceil(wait_s or 1)))
    body = {"code": "TooManyRequests", "description": _("Too many requests from this address; try again in %(s)s s.")
            % {"s": retry_after}}
    response = HttpResponse(json.dumps(body), status=429, content_type="application/json")
    response["Retry-After"] = retry_after
    return response


def open_data(view: Callable[..., HttpResponse], whole: bool = False) -> Callable[..., HttpResponse]:
    """Wrap a read-only open-data view: CORS for any origin, a preflight answer, the per-IP limit.
    `whole`: the view answers whole bodies, never streamed ones, so its reads need no health check
    of the connection first (outage.skip_health_check)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if whole:
            skip_health_check(request)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            for name, value in PREFLIGHT_HEADERS.items():
                response.setdefault(name, value)
        else:
            throttle = OpenDataReadThrottle()
            response = (view(request, *args, **kwargs) if throttle.allow_request(request, None)
                        else too_many(throttle.wait()))
        for name, value in CORS_HEADERS.items():
            response.setdefault(name, value)
        return response

    wrapped.open_data = True  # http/fastpath.py may take it past the middleware it never needs
    return wrapped
