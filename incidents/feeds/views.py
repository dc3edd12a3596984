"""The feeds face: Atom feeds of new public reports in a ward, a category or an area drawn on the
map (DrawnArea, by its public slug), and of one report's public updates, for feed readers,
newsrooms and neighbours.

Each view parses (the language: ?lang=vi|en, else Accept-Language or the language cookie,
Vietnamese by default), reads through queries.py (one SQL query over the public projection),
and answers Atom with an ETag (a hash of the document) and Last-Modified (its newest entry), so
a reader polling every few minutes gets 304. (A reader sending only If-Modified-Since misses a
report taken down until something newer comes: the ETag, which readers send too and which wins
when both come, changes at once.) Every view is an open-data read
(http.opendata.open_data): CORS open for GET, the per-IP read limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from incidents.feeds import queries
from incidents.feeds.atom import NOTHING_YET, Entry, Feed, render
from incidents.feeds.queries import EventRow, ReportRow
from incidents.http.opendata import open_data
from incidents.models import Report
from incidents.read.sql import language

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
LANGUAGES = ("vi", "en")


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name, self.message = name, message


def _language(request: HttpRequest) -> str:
    asked = request.GET.getlist("lang")
    if len(asked) > 1:
        raise BadParameter("lang", _("Give this parameter once."))
    if asked and asked[0] not in LANGUAGES:
        raise BadParameter("lang", _("Use vi or en."))
    return asked[0] if asked else language()


def feed_view(build: Callable[..., Feed | None]) -> Callable[..., HttpResponse]:
    """An open-data Atom view: `build(request, lang, **kwargs)` gives the Feed, or None for 404."""

    @open_data
    @require_safe
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        try:
            lang = _language(request)
            for name, value in kwargs.items():  # a code in the path: PostgreSQL refuses NUL in text
                if "\x00" in value:
                    raise BadParameter(name, _("Contains a NUL character."))
        except BadParameter as exc:
            return JsonResponse({exc.name: [exc.message]}, status=400)
        with translation.override(lang):
            feed = build(request, lang, **kwargs)
            if feed is None:
                raise Http404(_("No such feed."))
            return _respond(request, feed)

    view.__name__ = build.__name__
    return view


def _respond(request: HttpRequest, feed: Feed) -> HttpResponse:
    body = render(feed)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    updated = None if feed.updated == NOTHING_YET else int(feed.updated.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=updated)
    if response is None:
        response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["ETag"] = etag
    if updated is not None:
        response["Last-Modified"] = http_date(updated)
    response["Cache-Control"] = "public, max-age=60"
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _url(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def _self(request: HttpRequest, lang: str) -> str:
    return _url(request, request.path) + "?lang=" + lang


def _rights() -> str:
    return " ".join(settings.CITYPIN_DATA_LICENSE[:2])


def _status(code: str) -> str:
    return capfirst(Report.Status(code).label) if code in Report.Status.values else code


class _ReportEntries:
    """Makes the entries of one feed: the words that repeat (status names, the tracking page's
    URL) are translated and reversed once per feed, not once per entry."""

    PLACEHOLDER = "PUBLICID"  # a public id is letters, digits and dashes: replacing it is safe

    def __init__(self, request: HttpRequest):
        self.track = _url(request, reverse("track", args=[self.PLACEHOLDER]))
        self.statuses = {code: capfirst(label) for code, label in Report.Status.choices}
        self.status_line, self.address_line = _("Status: %(status)s"), _("Address: %(address)s")

    def __call__(self, row: ReportRow) -> Entry:
        url = self.track.replace(self.PLACEHOLDER, row.public_id)
        lines = [self.status_line % {"status": self.statuses.get(row.status, row.status)}]
        if row.address:
            lines.append(self.address_line % {"address": row.address})
        if row.description:
            lines.append(row.description)
        title = " · ".join(p for p in (row.category_name, row.ward_name or row.address, row.public_id) if p)
        return Entry(id=url, link=url, title=title, summary="\n".join(lines), published=row.created_at,
                     updated=row.updated_at, point=_point(row), categories=(row.category,))


def _point(row: ReportRow) -> tuple[float, float] | None:
    return None if row.lon is None else (row.lon, row.lat)


def _reports_feed(request: HttpRequest, lang: str, title: str, rows: list[ReportRow]) -> Feed:
    return Feed(id=_url(request, request.path), title=title,
                subtitle=_("The latest %(n)s public reports, newest first. Citypin.") % {"n": queries.MAX_ENTRIES},
                self_url=_self(request, lang), alternate_url=_url(request, reverse("map")), language=lang,
                entries=list(map(_ReportEntries(request), rows)), rights=_rights())


@feed_view
def ward_feed(request: HttpRequest, lang: str, code: str) -> Feed | None:
    found = queries.ward_reports(code, lang)
    if found is None:
        return None
    name, rows = found
    return _reports_feed(request, lang, _("New reports in %(ward)s") % {"ward": name}, rows)


@feed_view
def category_feed(request: HttpRequest, lang: str, code: str) -> Feed | None:
    found = queries.category_reports(code, lang)
    if found is None:
        return None
    name, rows = found
    return _reports_feed(request, lang, _("New reports: %(category)s") % {"category": name}, rows)


@feed_view
def area_feed(request: HttpRequest, lang: str, slug: str) -> Feed | None:
    found = queries.area_reports(slug, lang)
    if found is None:
        return None
    name, rows = found
    return _reports_feed(request, lang, _("New reports in the drawn area %(id)s") % {"id": name}, rows)


def _event_title(event: EventRow) -> str:
    if event.kind == "created":
        return _("Report received")
    if event.kind == "comment":
        return _("Reply")
    return _status(event.to_status) if event.to_status else _("Status changed")


def _event_entry(report_url: str, report: ReportRow, event: EventRow) -> Entry:
    title = _event_title(event)
    return Entry(id=f"{report_url}#event-{event.id}", link=report_url, title=f"{report.public_id}: {title}",
                 summary=event.message or title, published=event.created_at, updated=event.created_at,
                 point=_point(report))


@feed_view
def report_feed(request: HttpRequest, lang: str, public_id: str) -> Feed | None:
    found = queries.report_timeline(public_id, lang)
    if found is None:
        return None
    report, events = found
    url = _url(request, reverse("track", args=[report.public_id]))
    return Feed(id=_url(request, request.path),
                title=_("Updates of report %(id)s: %(category)s") % {"id": report.public_id,
                                                                       "category": report.category_name},
                subtitle=_("Status changes and replies, newest first. Citypin."), self_url=_self(request, lang),
                alternate_url=url, language=lang, entries=[_event_entry(url, report, e) for e in events],
                rights=_rights(), point=_point(report))
