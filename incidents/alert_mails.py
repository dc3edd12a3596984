"""The mails of area alerts (incidents/alerts.py): the confirmation, an immediate alert, the
daily digest. Each is rendered in the subscriber's language (the one they subscribed in),
subject included, from incidents/templates/alerts/; the outbox's e-mail channel adds the HTML
part, autoescaped. A report is told by its public fields only (PublicReport), never its
reporter, its exact point or anything staff-only. Every mail carries the one-click unsubscribe
link and the RFC 8058 headers (List-Unsubscribe, List-Unsubscribe-Post)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.contrib.gis.geos import Point
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from gis.models import in_language
from incidents.models import AreaAlert, Report

MAX_DIGEST_REPORTS = 50  # listed in one digest; the rest are counted, with a link to the map
MAX_DESCRIPTION = 300  # characters of a report's public description in a mail


@dataclass(frozen=True)
class PublicReport:
    """What an alert may say of a report: the public map's fields, nothing more."""

    id: int
    public_id: str
    status: str
    category_vi: str
    category_en: str
    ward_vi: str
    ward_en: str
    address: str
    description: str
    created_at: datetime

    @property
    def category(self) -> str:
        return in_language(self.category_vi, self.category_en)

    @property
    def ward(self) -> str:
        return in_language(self.ward_vi, self.ward_en)

    @property
    def url(self) -> str:
        return f"{settings.CITYPIN_SITE_URL}/r/{self.public_id}/"


def public_reports(ids: list[int]) -> dict[int, PublicReport]:
    """The public fields of these reports, by id (only those columns are read)."""
    rows = (Report.objects.filter(pk__in=ids).select_related("category", "ward")
            .only("public_id", "status", "address", "public_description", "created_at", "category__name_vi",
                  "category__name_en", "ward__name_vi", "ward__name_en"))
    return {r.pk: PublicReport(r.pk, r.public_id, r.status, r.category.name_vi, r.category.name_en,
                               r.ward.name_vi if r.ward else "", r.ward.name_en if r.ward else "",
                               r.address, r.public_description, r.created_at) for r in rows}


class Subscriber(Protocol):
    """What a mail needs of a subscription: an AreaAlert, or a match row (alerts.Match)."""

    id: int
    kind: str
    email: str
    language: str
    unsubscribe_token: str
    radius_m: int | None
    center: Point | None


def unsubscribe_url(token: str) -> str:
    return settings.CITYPIN_SITE_URL + reverse("alert-unsubscribe", args=[token])


def confirm_url(token: str) -> str:
    return settings.CITYPIN_SITE_URL + reverse("alert-confirm", args=[token])


def area_words(kind: str, *, ward: tuple[str, str] = ("", ""), radius_m: int | None = None,
               center: Point | None = None, slug: str | None = None, category: tuple[str, str] | None = None) -> str:
    """The subscription's area (and category) in words, in the active language."""
    if kind == AreaAlert.Kind.WARD:
        words = in_language(*ward)
    elif kind == AreaAlert.Kind.CIRCLE:
        words = _("within %(radius_m)s m of %(lat)s, %(lon)s") % {
            "radius_m": radius_m, "lat": f"{center.y:.5f}" if center else "", "lon": f"{center.x:.5f}" if center else ""}
    else:
        words = _("the area you drew (no. %(slug)s)") % {"slug": slug}
    if category is not None and category[0]:
        words += " (" + _("%(category)s only") % {"category": in_language(*category)} + ")"
    return words


def describe(alert: AreaAlert) -> str:
    """An AreaAlert's area in words, in the active language (for pages and mails)."""
    ward = (alert.ward.name_vi, alert.ward.name_en) if alert.ward_id else ("", "")
    category = (alert.category.name_vi, alert.category.name_en) if alert.category_id else None
    return area_words(alert.kind, ward=ward, radius_m=alert.radius_m, center=alert.center,
                      slug=alert.drawn_area.slug if alert.drawn_area_id else None, category=category)


def _one_line(text: str) -> str:
    # A subject is one header line: whatever the template or a name holds, no line break.
    return " ".join(text.split())[:200]


# Rendered in place of the unsubscribe token (and of the area's words), then replaced per
# subscriber: one rendering serves every subscriber of a language (a report can match hundreds).
# Random, so no text a citizen wrote can contain them.
_TOKEN_SLOT = "slot" + secrets.token_hex(16)
_AREA_SLOT = "slot" + secrets.token_hex(16)


def _render(language: str, name: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of mail `name` in `language`, the unsubscribe token left as a slot."""
    context = {**context, "site_url": settings.CITYPIN_SITE_URL, "unsubscribe_url": unsubscribe_url(_TOKEN_SLOT),
               "max_description": MAX_DESCRIPTION}
    with override(language):
        subject = _one_line(render_to_string(f"alerts/{name}_subject.txt", context))
        body = render_to_string(f"alerts/{name}_body.txt", context)
    return subject, body


def _addressed(subscriber: Subscriber, subject: str, body: str) -> dict[str, Any]:
    """OutboxMessage fields of a rendered mail for this subscriber, with their unsubscribe link."""
    unsubscribe = unsubscribe_url(subscriber.unsubscribe_token)
    return {"recipient": subscriber.email, "subject": subject, "body": body.replace(_TOKEN_SLOT, subscriber.unsubscribe_token),
            # Content-Language: the mail is in one language; the e-mail channel marks its HTML so.
            "headers": {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                        "Content-Language": subscriber.language}}


def _mail(subscriber: Subscriber, name: str, context: dict[str, Any]) -> dict[str, Any]:
    return _addressed(subscriber, *_render(subscriber.language, name, context))


def confirmation_mail(alert: AreaAlert) -> dict[str, Any]:
    with override(alert.language):
        area = describe(alert)
    return _mail(alert, "confirm", {"area": area, "confirm_url": confirm_url(alert.confirm_token),
                                    "frequency": alert.frequency, "days": settings.CITYPIN_ALERT_CONFIRM_DAYS})


def immediate_mails(matches: list, report: PublicReport) -> list[dict[str, Any]]:
    """The alert of one new report to each matching subscription (alerts.Match). The mail is
    rendered once per language, its area words and unsubscribe token left as slots filled per
    subscriber: a report may match hundreds."""
    rendered: dict[str, tuple[str, str]] = {}
    mails = []
    for match in matches:
        if match.language not in rendered:
            rendered[match.language] = _render(match.language, "immediate", {"area": _AREA_SLOT, "report": report})
        with override(match.language):
            area = area_words(match.kind, ward=(report.ward_vi, report.ward_en), radius_m=match.radius_m,
                              center=match.center, slug=match.slug)
        subject, body = rendered[match.language]
        mails.append({**_addressed(match, subject, body.replace(_AREA_SLOT, area)), "report_id": report.id})
    return mails


def digest_mail(alert: AreaAlert, reports: list[PublicReport], count: int | None = None,
                gathered: bool = False) -> dict[str, Any]:
    """The daily digest of `reports`; `gathered`: an immediate subscription's mail of the `count`
    reports its window gathered (`reports`: the first of them), with the same list."""
    count = len(reports) if count is None else count
    with override(alert.language):
        area = describe(alert)
    return _mail(alert, "digest", {"area": area, "reports": reports[:MAX_DIGEST_REPORTS], "count": count,
                                   "more": max(0, count - min(len(reports), MAX_DIGEST_REPORTS)),
                                   "gathered": gathered})

