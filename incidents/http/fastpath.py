"""A shorter way through the middleware for open-data reads (tiles, OGC API items): the same
answer, headers and all, without the per-request work such a read never needs.

Why: a zoomed-out tile costs about 1.3 ms of SQL, and Django's whole request cycle (fourteen
middleware, the URL resolver, the view's wrappers) cost about 1.5 ms more, whatever the tile.
Most of that is middleware an anonymous read of public data never uses.

How: this middleware sits below the security, compression and CSP middleware (they run as
always). For a request it takes (below), it resolves the URL itself and calls the view through
its own chain: the real instances of the middleware listed after it in MIDDLEWARE, in the same
order, except SKIPPED (and LocaleMiddleware, REPLACED by the same with its choice cached). So
the language (LocaleMiddleware: Vary, Content-Language), outages
(503, retries), ALLOWED_HOSTS and Content-Length (CommonMiddleware), replica routing and
X-Frame-Options are exactly as before, and a middleware added later is kept unless it is added
to SKIPPED with its reason. Exceptions go through the kept middleware's process_exception, then
Django's response_for_exception, as in BaseHandler.

SKIPPED, and why an open-data read that takes this path needs none of it:
- SessionMiddleware: the views never read the session (so no Vary: Cookie, no cookie);
- CsrfViewMiddleware: a read that renders no form hands out no token, so sets no cookie;
- AuthenticationMiddleware: open data is the same for everyone; the one use of the user
  (replicas: a signed-in user reads from the primary) is kept by leaving requests with a
  session cookie to the full chain when replicas are configured;
- LazyMessageMiddleware: no messages are read or added;
- RequestBodyLimitMiddleware: a request with a body never takes this path;
- BrowserIdMiddleware: open-data views hand out no browser id.
And no process_view hooks: those are CSRF's and the body limit's.

Which requests: GET, HEAD and OPTIONS under PREFIXES, without a body, not asking for HTML (a
page renders the language form, whose CSRF token needs its cookie, and reads messages and the
user), whose view is an open-data view (http/opendata.py marks it). Any other request goes on
down the full chain, as does everything when a database has ATOMIC_REQUESTS.
tests/http/test_fastpath.py compares status, headers and body with the full chain's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.urls import Resolver404, get_resolver
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

PREFIXES = ("/tiles/", "/ogc/")
METHODS = ("GET", "HEAD", "OPTIONS")
SKIPPED = frozenset({
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "incidents.http.messages.LazyMessageMiddleware",
    "incidents.http.limits.RequestBodyLimitMiddleware",
    "incidents.http.browser.BrowserIdMiddleware",
})


LANGUAGE_SETTINGS = ("LANGUAGES", "LANGUAGE_CODE", "LANGUAGE_COOKIE_NAME", "LOCALE_PATHS")


@lru_cache(maxsize=1024)
def negotiated_language(cookie: str | None, accept_language: str) -> str:
    """Django's choice of language for a language cookie and an Accept-Language header: a pure
    function of the two (and settings), worked out once per pair. Django's own answer is not
    cached: each unsupported code it tries (no cookie is one) raises and catches LookupError."""
    request = HttpRequest()
    if cookie is not None:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
    request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return translation.get_language_from_request(request)


@receiver(setting_changed)
def forget_languages(setting: str, **kwargs) -> None:
    if setting in LANGUAGE_SETTINGS:
        negotiated_language.cache_clear()


class OpenDataLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware as it behaves without i18n_patterns (our URLs have no language prefix),
    with the choice of language cached (negotiated_language) and the language prefix of the
    path, which only i18n_patterns read, not looked for twice per request. With i18n_patterns
    it is Django's."""

    def process_request(self, request: HttpRequest) -> None:
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_request(request)
        translation.activate(negotiated_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
                                                 request.META.get("HTTP_ACCEPT_LANGUAGE", "")))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


# In this path's chain, a middleware of MIDDLEWARE replaced by one that behaves the same, faster.
REPLACED = {"django.middleware.locale.LocaleMiddleware": OpenDataLocaleMiddleware}


def is_open_data_view(view: Callable) -> bool:
    return getattr(view, "open_data", False)


class OpenDataFastPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        if any(db.get("ATOMIC_REQUESTS") for db in settings.DATABASES.values()):
            raise MiddlewareNotUsed  # views would run in a transaction: BaseHandler knows how
        self.get_response = get_response
        self.exception_hooks: list[Callable] = []
        self.replicas = bool(settings.CITYPIN_REPLICAS)
        below = settings.MIDDLEWARE[settings.MIDDLEWARE.index(__name__ + "." + type(self).__name__) + 1:]
        # Built as BaseHandler.load_middleware builds the full chain: innermost first.
        handler = convert_exception_to_response(self.call_view)
        for path in reversed([p for p in below if p not in SKIPPED]):
            try:
                middleware = (REPLACED.get(path) or import_string(path))(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_exception"):
                self.exception_hooks.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self.chain = handler

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.takes(request):
            return self.get_response(request)
        try:
            match = get_resolver().resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if not is_open_data_view(match.func):
            return self.get_response(request)
        request.resolver_match = match
        return self.chain(request)

    def takes(self, request: HttpRequest) -> bool:
        """Cheap tests on the request alone, before the URL is resolved."""
        meta = request.META
        return (request.path_info.startswith(PREFIXES) and request.method in METHODS
                and meta.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in meta
                and "html" not in meta.get("HTTP_ACCEPT", "") and "html" not in meta.get("QUERY_STRING", "")
                and not (self.replicas and settings.SESSION_COOKIE_NAME in request.COOKIES))

    def call_view(self, request: HttpRequest) -> HttpResponse:
        match = request.resolver_match
        try:
            return match.func(request, *match.args, **match.kwargs)
        except Exception as exc:
            for hook in self.exception_hooks:
                response = hook(request, exc)
                if response is not None:
                    return response
            raise
