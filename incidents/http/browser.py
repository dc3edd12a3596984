"""A random id kept in a cookie, so one browser supports a report once without an account."""

from __future__ import annotations

import re
import secrets

COOKIE = "citypin_browser"
_VALID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def browser_id(request, create: bool = True) -> str:
    """The browser's id from its cookie; without one, a new id (the middleware sets the cookie)
    or, with create=False, ""."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    value = request.COOKIES.get(COOKIE, "")
    if not _VALID.match(value):
        if not create:
            return ""
        value = getattr(request, "_citypin_new_browser", "") or secrets.token_urlsafe(24)
        request._citypin_new_browser = value
    return value


class BrowserIdMiddleware:
    """Sets the cookie when a view handed out a new id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        new = getattr(request, "_citypin_new_browser", "")
        if new:
            response.set_cookie(COOKIE, new, max_age=5 * 365 * 24 * 3600, httponly=True, samesite="Lax")
        return response
