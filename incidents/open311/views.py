"""Open311 GeoReport v2 views: each parses, checks the key or the jurisdiction, calls services.py,
requests.py or submit.py, and answers in the format its path ends with. Every problem is an
Open311 error document (400 bad input, 403 key, 404 unknown, 405 method) in that format."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from incidents.http.idempotency import idempotent
from incidents.http.opendata import open_data
from incidents.http.ratelimit import ScopedIpThrottle
from incidents.models import ApiKey, Report
from incidents.open311 import services
from incidents.open311.params import MAX_PAGE_SIZE, page_of, parse_requests_query, window
from incidents.open311.protocol import SPECIFICATION, Open311Error, document, errors, format_of, joined
from incidents.open311.requests import Page, request_documents, request_id_for_token, update_documents
from incidents.open311.submit import draft_of, submit
from incidents.read.query import ReportQuery
from incidents.read.sql import language

CHANGESET = "2026-11-30T00:00:00+00:00"  # when this endpoint's behaviour last changed


class Open311SubmitThrottle(ScopedIpThrottle):
    """Reports per client application (api_key), wherever it posts from: an aggregator posts
    for many citizens from one address."""

    scope = "open311_submit"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.open311_key_id}


def open311(methods: tuple[str, ...] = ("GET",)) -> Callable:
    """A view of the Open311 API: the format from the path, the language from `locale` (or
    Accept-Language), jurisdiction_id checked, Open311Error answered as an error document."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, fmt: str = "xml", **kwargs) -> HttpResponse:
            locale = request.GET.get("locale") or (request.POST.get("locale") if request.method == "POST" else None)
            with translation.override(language(locale) if locale else translation.get_language()):
                try:
                    if request.method not in methods:
                        raise Open311Error(405, [_("Use %(methods)s here.") % {"methods": " or ".join(methods)}])
                    _check_jurisdiction(request)
                    return view(request, *args, fmt=fmt, **kwargs)
                except Open311Error as error:
                    return errors(fmt, error)

        limited = open_data(wrapped)

        @wraps(view)
        def answering_outages(request: HttpRequest, *args, fmt: str = "xml", **kwargs) -> HttpResponse:
            # During a database outage (met by the rate limit's count too, before the view): an
            # error document a client can read, not the site's page.
            request.outage_response = lambda retry_after_s: errors(fmt, Open311Error(503, [
                _("The database is unavailable; try again in %(s)s s.") % {"s": retry_after_s}]))
            return limited(request, *args, fmt=fmt, **kwargs)

        return csrf_exempt(answering_outages)

    return decorate


def _check_jurisdiction(request: HttpRequest) -> None:
    given = request.POST.get("jurisdiction_id") if request.method == "POST" else None
    given = given or request.GET.get("jurisdiction_id")
    if given and given not in services.jurisdiction_ids():
        raise Open311Error(404, [_("jurisdiction_id not found: %(id)s.") % {"id": given[:80]}])


def _site(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@open311()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    return document(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": settings.CITYPIN_OPEN311_CONTACT or _("See %(url)s") % {"url": request.build_absolute_uri("/open311/")},
        "key_service": _("API keys are issued by the city's administrators: %(url)s") % {
            "url": request.build_absolute_uri("/open311/#keys")},
        "endpoints": [{"specification": SPECIFICATION, "url": base.rstrip("/"), "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    })


@open311()
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return document(fmt, "services", services.service_list())


@open311()
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    definition = services.service_definition(code)
    if definition is None:
        raise Open311Error(404, [_("service_code not found: %(code)s.") % {"code": code[:40]}])
    return document(fmt, "service_definition", definition)


@open311(methods=("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    parsed = parse_requests_query(request.GET)
    items = request_documents(fmt, parsed.query, parsed.page, parsed.extended, translation.get_language(),
                              _site(request))
    return joined(fmt, "service_requests", items)


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    key = ApiKey.find_active(request.POST.get("api_key") or request.GET.get("api_key") or "")
    if key is None:
        raise Open311Error(403, [_("api_key: missing, unknown or revoked. Ask the city for a key.")])
    request.open311_key_id = key.pk
    throttle = Open311SubmitThrottle()
    if not throttle.allow_request(request, None):
        raise Open311Error(429, [_("Too many requests from this api_key; try again in %(s)s s.") % {
            "s": int(throttle.wait() or 1)}])
    return idempotent(request, f"open311:{key.pk}", lambda: _submit(request, fmt, key),
                      refuse=lambda message: errors(fmt, Open311Error(400, [message])))


def _submit(request: HttpRequest, fmt: str, key: ApiKey) -> HttpResponse:
    report = submit(draft_of(request.POST, request.FILES, key, request.META.get("REMOTE_ADDR")))
    return document(fmt, "service_requests", [{
        "service_request_id": report.public_id,
        "token": report.client_submission.token,
        "service_notice": _service_notice(report),
        "account_id": report.client_submission.account_id or None,
    }], status=201)


def _service_notice(report: Report) -> str:
    """Who handles it and by when: the department and its target time to resolve."""
    due = timezone.localtime(report.resolve_due_at).strftime("%Y-%m-%d %H:%M") if report.resolve_due_at else None
    if due is None:
        return _("Sent to %(department)s.") % {"department": report.department.name}
    return _("Sent to %(department)s; target to resolve: %(due)s.") % {"department": report.department.name,
                                                                       "due": due}


@open311()
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    extended = (request.GET.get("extensions") or "").lower() in ("true", "1")
    items = request_documents(fmt, ReportQuery(public_ids=(request_id,)), Page(size=1), extended,
                              translation.get_language(), _site(request))
    if not items:
        raise Open311Error(404, [_("service_request_id not found: %(id)s.") % {"id": request_id[:40]}])
    return joined(fmt, "service_requests", items)


@open311()
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    request_id = request_id_for_token(token[:40])
    if request_id is None:
        raise Open311Error(404, [_("token not found: %(token)s.") % {"token": token[:40]}])
    return document(fmt, "service_requests", [{"service_request_id": request_id, "token": token}])


@open311()
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    problems: list[str] = []
    start, end = window(request.GET, problems)
    page = page_of(request.GET, problems)
    if problems:
        raise Open311Error(400, problems)
    return joined(fmt, "service_request_updates", update_documents(fmt, start, end, page))


@csrf_exempt
def unknown(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything else under /open311/v2/: a 404 in the format the path asks for."""
    fmt = format_of(request.path)
    return errors(fmt, Open311Error(404, [_("Nothing at %(path)s. See %(docs)s") % {
        "path": request.path[:100], "docs": request.build_absolute_uri("/open311/")}]))


def developers(request: HttpRequest) -> HttpResponse:
    """The page for developers: endpoints, parameters, errors and curl examples."""
    return render(request, "open311/index.html", {
        "base": request.build_absolute_uri("/open311/v2/").rstrip("/"),
        "jurisdictions": services.jurisdiction_ids(),
        "services": services.service_list()[:3],
        "max_page_size": MAX_PAGE_SIZE,
        "sample": Report.objects.order_by("-created_at").values_list("public_id", flat=True).first(),
    })
