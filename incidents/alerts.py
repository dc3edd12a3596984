"""Area alerts: anyone may subscribe by e-mail to the new public reports in a ward, in a circle
around a point, or in a polygon drawn on the map, optionally of one category, at once or as a
daily digest (issue 14, "Who is told what").

- subscribe_alert validates a request (errors name the field; nothing is saved then), saves the
  subscription pending and queues the confirmation mail in the same transaction. Nothing else
  is mailed until the address confirms (double opt-in).
- enqueue_area_alerts runs inside submit_report's transaction and only marks the report due
  (AlertDue): intake costs the same whatever the number of subscribers.
- send_immediate_alerts is the worker's pass: one SQL statement matches a batch of due reports
  against the confirmed immediate subscriptions. A subscription gets its first new report at
  once and opens a window (CITYPIN_ALERT_GATHER_S); what it matches in the window goes as one
  mail when the window ends. So a flood in a ward with a thousand subscribers makes a mail per
  subscriber every ten minutes, not one per report each.
- send_digests is the worker's daily job: each due daily subscription gets the new reports of
  its area since its last digest (no mail when there are none); last_digest_at moves in the
  transaction that queues the mail.
- Every mail is in the subscriber's language, carries a one-click unsubscribe link and the
  RFC 8058 headers, and says only what the public map says of a report (alert_mails.py).

Geometries are WGS-84 (SRID 4326); radii are metres on the ellipsoid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gis.models import Area
from incidents.alert_mails import (
    MAX_DIGEST_REPORTS,
    PublicReport,
    confirmation_mail,
    digest_mail,
    immediate_mails,
    public_reports,
)
from incidents.models import AreaAlert, Category, DrawnArea, OutboxMessage, Report
from incidents.models.alerts import polygon_problem
from incidents.prepared import PreparedQuery

LANGUAGES = {code for code, _name in settings.LANGUAGES}


@dataclass
class AlertRequest:
    """What the subscribe form sends, as text. `area` is a GeoJSON Polygon geometry (lon/lat)."""

    email: str = ""
    language: str = "vi"
    kind: str = ""
    ward: str = ""  # an Area id of kind ward
    lat: str = ""
    lon: str = ""
    radius_m: str = ""
    area: str = ""
    category: str = ""  # a Category code; empty: every category
    frequency: str = AreaAlert.Frequency.IMMEDIATE


# A circle's reach polygon: the circle on the ellipsoid (SRID 4326, metres), enlarged by 1 % and
# a metre so that the 32-sided polygon ST_Buffer draws contains the whole circle (its edges cut
# inside the circle by at most 0.5 %). Matching tests the reach by index, then ST_DWithin exactly.
REACH_SQL = "SELECT ST_Buffer(ST_GeomFromEWKB(%(center)s)::geography, %(radius_m)s * 1.01 + 1)::geometry"


def _bad(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _clean_email(value: str, errors: dict[str, list[str]]) -> str:
    # No control character anywhere (a line break would start a header); EmailValidator
    # refuses spaces inside, so an address can never carry a header.
    email = (value or "").strip(" ")
    try:
        if not email or len(email) > 254 or any(ord(ch) < 32 or ord(ch) == 127 for ch in email):
            raise ValidationError("")
        EmailValidator()(email)
    except ValidationError:
        _bad(errors, "email", _("Enter a valid e-mail address, e.g. name@example.com."))
        return ""
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _number(value: str, field: str, low: float, high: float, errors: dict[str, list[str]]) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        _bad(errors, field, _("Enter a number."))
        return None
    if not low <= number <= high:  # NaN fails too
        _bad(errors, field, _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return None
    return number


def _clean_circle(request: AlertRequest, errors: dict[str, list[str]]) -> tuple[Point | None, int | None]:
    lat = _number(request.lat, "lat", -90, 90, errors)
    lon = _number(request.lon, "lon", -180, 180, errors)
    if lat is None or lon is None:
        if "lat" in errors or "lon" in errors:
            errors.setdefault("center", []).append(_("Tap the map to choose the centre of the circle."))
    low, high = settings.CITYPIN_ALERT_RADIUS_MIN, settings.CITYPIN_ALERT_RADIUS_MAX
    radius = _number(request.radius_m, "radius_m", low, high, errors)
    if lat is None or lon is None or radius is None:
        return None, None
    return Point(lon, lat, srid=4326), round(radius)


def _clean_area(request: AlertRequest, errors: dict[str, list[str]]) -> GEOSGeometry | None:
    text = (request.area or "").strip()
    if not text:
        _bad(errors, "area", _("Draw an area on the map."))
        return None
    try:
        geometry = json.loads(text)
        if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
            raise ValueError
        geom = GEOSGeometry(json.dumps(geometry), srid=4326)
    except (ValueError, TypeError, GEOSException, GDALException):
        _bad(errors, "area", _("The area must be one GeoJSON polygon in longitude and latitude."))
        return None
    problem = polygon_problem(geom)
    if problem:
        _bad(errors, "area", problem)
        return None
    return geom


def _clean(request: AlertRequest) -> tuple[AreaAlert, GEOSGeometry | None]:
    """An unsaved AreaAlert (and the polygon to save first for a drawn one), or ValidationError
    with {field: [messages]}."""
    errors: dict[str, list[str]] = {}
    alert = AreaAlert(email=_clean_email(request.email, errors),
                      language=request.language if request.language in LANGUAGES else settings.LANGUAGE_CODE)
    alert.frequency = request.frequency or AreaAlert.Frequency.IMMEDIATE
    if alert.frequency not in AreaAlert.Frequency.values:
        _bad(errors, "frequency", _("Choose at once or a daily digest."))
    if request.category:
        alert.category = Category.objects.filter(code=request.category, active=True).first()
        if alert.category is None:
            _bad(errors, "category", _("Unknown category."))
    alert.kind, polygon = request.kind, None
    if request.kind == AreaAlert.Kind.WARD:
        ward_id = request.ward if str(request.ward).isdigit() else None
        alert.ward = Area.objects.filter(pk=ward_id, kind=Area.Kind.WARD).first() if ward_id else None
        if alert.ward is None:
            _bad(errors, "ward", _("Choose a ward from the list."))
    elif request.kind == AreaAlert.Kind.CIRCLE:
        alert.center, alert.radius_m = _clean_circle(request, errors)
    elif request.kind == AreaAlert.Kind.DRAWN:
        polygon = _clean_area(request, errors)
    else:
        _bad(errors, "kind", _("Choose a ward, a circle or a drawn area."))
    if errors:
        raise ValidationError(errors)
    return alert, polygon


# Subscriptions an address holds: confirmed ones, and pending ones whose link still works.
def held_by(email: str, now: datetime) -> int:
    pending_since = now - timedelta(days=settings.CITYPIN_ALERT_CONFIRM_DAYS)
    return (AreaAlert.objects.filter(email__iexact=email)
            .exclude(confirmed_at__isnull=True, created_at__lt=pending_since).count())


@transaction.atomic
def subscribe_alert(request: AlertRequest) -> AreaAlert:
    """Save a pending subscription and queue its confirmation mail. Raises ValidationError with
    {field: [messages]}; nothing is saved then (a drawn polygon neither)."""
    alert, polygon = _clean(request)
    now = timezone.now()
    with connection.cursor() as cursor:
        # One address's subscribes take turns, so two at once cannot both pass the cap.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('citypin-alert:' || lower(%s)))", [alert.email])
    if held_by(alert.email, now) >= settings.CITYPIN_ALERT_MAX_PER_ADDRESS:
        raise ValidationError({"email": [_("This address already has %(n)d alerts, the most allowed. "
                                           "Unsubscribe from one first.") % {"n": settings.CITYPIN_ALERT_MAX_PER_ADDRESS}]})
    if polygon is not None:
        alert.drawn_area = DrawnArea.objects.create(geom=polygon)
    if alert.center is not None:
        with connection.cursor() as cursor:
            cursor.execute(REACH_SQL, {"center": bytes(alert.center.ewkb), "radius_m": alert.radius_m})
            alert.reach = GEOSGeometry(cursor.fetchone()[0])  # hex EWKB
    alert.created_at = now
    alert.save()
    OutboxMessage.objects.create(**confirmation_mail(alert))
    return alert


def pending_alert(token: str) -> AreaAlert | None:
    """The subscription a confirmation link names, while the link is valid (confirmed or not)."""
    since = timezone.now() - timedelta(days=settings.CITYPIN_ALERT_CONFIRM_DAYS)
    alert = AreaAlert.objects.filter(confirm_token=token).select_related("ward", "category", "drawn_area").first()
    if alert is None or (alert.confirmed_at is None and alert.created_at < since):
        return None
    return alert


def confirm_alert(alert: AreaAlert) -> AreaAlert:
    """Confirm a subscription (again: nothing changes). Its first digest covers reports from now."""
    if alert.confirmed_at is None:
        now = timezone.now()
        AreaAlert.objects.filter(pk=alert.pk, confirmed_at__isnull=True).update(confirmed_at=now, last_digest_at=now)
        alert.confirmed_at = alert.last_digest_at = now
    return alert


def alert_to_unsubscribe(token: str) -> AreaAlert | None:
    return AreaAlert.objects.filter(unsubscribe_token=token).select_related("ward", "category", "drawn_area").first()


def unsubscribe_alert(token: str) -> bool:
    """Delete the subscription the token names; False when there is none (already gone)."""
    deleted, _rows = AreaAlert.objects.filter(unsubscribe_token=token).delete()
    return bool(deleted)


# ---------------------------------------------------------------------------------------------
# Matching. A report's point here is always its public point (Report.public_location, the
# location snapped to the category's public precision, or the ward's point for a ward-only
# category; SRID 4326), never the exact one: an alert can tell no more than the public map.
# One branch per kind, each on its own index: a ward alert by its ward (btree
# alert_confirmed_ward), a circle by the GiST index of its reach polygon and then ST_DWithin on
# the geography (metres, exact), a drawn area by the GiST index of its polygon (ST_Intersects on
# the geometry: for a city-sized polygon the planar and geodesic edges differ by centimetres).
# A report without a point (an address only) matches ward alerts only.

_CATEGORY = "(a.category_id IS NULL OR a.category_id = r.category_id)"
# A digest leaves out what staff rejected before it went out (spam, abuse, not the city's).
_DIGESTED = f"{_CATEGORY} AND r.status <> 'rejected'"

# The confirmed immediate subscriptions each of the due reports %(reports)s (ids) matches, as
# (subscription id, report id) pairs in that order: only reports made after the subscription was
# confirmed (as when intake matched them), and not those staff rejected meanwhile (as from a
# digest). Each branch probes its index once per report.
_IMMEDIATE = f"a.confirmed_at <= r.created_at AND a.frequency = 'immediate' AND {_CATEGORY}"
IMMEDIATE_MATCH_SQL = f"""
WITH r AS MATERIALIZED (
    SELECT id, ward_id, category_id, public_location, created_at FROM incidents_report
    WHERE id = ANY(%(reports)s) AND status <> 'rejected'
)
SELECT a.id, r.id FROM r JOIN incidents_areaalert a ON a.ward_id = r.ward_id
 WHERE a.kind = 'ward' AND {_IMMEDIATE}
UNION ALL
SELECT a.id, r.id FROM r JOIN incidents_areaalert a ON ST_Intersects(a.reach, r.public_location)
 WHERE a.kind = 'circle' AND ST_DWithin(a.center::geography, r.public_location::geography, a.radius_m)
   AND {_IMMEDIATE}
UNION ALL
SELECT a.id, r.id FROM r JOIN incidents_drawnarea da ON ST_Intersects(da.geom, r.public_location)
       JOIN incidents_areaalert a ON a.drawn_area_id = da.id
 WHERE a.kind = 'drawn' AND {_IMMEDIATE}
ORDER BY 1, 2
"""

# The reports made public in each of the due daily subscriptions %(alerts)s since its last
# digest, up to %(until)s: (alert id, report id) pairs, oldest report first.
DIGEST_MATCH_SQL = f"""
WITH a AS (SELECT * FROM incidents_areaalert WHERE id = ANY(%(alerts)s))
SELECT a.id, r.id, r.created_at FROM a JOIN incidents_report r ON r.ward_id = a.ward_id
 WHERE a.kind = 'ward' AND r.created_at > a.last_digest_at AND r.created_at <= %(until)s AND {_DIGESTED}
UNION ALL
SELECT a.id, r.id, r.created_at FROM a JOIN incidents_report r ON ST_Intersects(a.reach, r.public_location)
 WHERE a.kind = 'circle' AND ST_DWithin(a.center::geography, r.public_location::geography, a.radius_m)
   AND r.created_at > a.last_digest_at AND r.created_at <= %(until)s AND {_DIGESTED}
UNION ALL
SELECT a.id, r.id, r.created_at FROM a JOIN incidents_drawnarea da ON da.id = a.drawn_area_id
       JOIN incidents_report r ON ST_Intersects(da.geom, r.public_location)
 WHERE a.kind = 'drawn' AND r.created_at > a.last_digest_at AND r.created_at <= %(until)s AND {_DIGESTED}
ORDER BY 1, 3, 2
"""

DUE_INSERT = PreparedQuery("citypin_alert_due", "INSERT INTO incidents_alertdue (report_id) VALUES (%(report)s)",
                           {"report": "bigint"})
# Due reports taken by one worker (SKIP LOCKED), oldest first.
TAKE_DUE_SQL = """
DELETE FROM incidents_alertdue WHERE report_id IN (
    SELECT report_id FROM incidents_alertdue ORDER BY report_id LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
RETURNING report_id
"""
DUE_BATCH = 200  # due reports matched and mailed in one transaction
DUE_BATCHES = 25  # at most, in one pass: the worker's other jobs run between passes
WINDOW_BATCH = 200  # ended windows mailed in one transaction


@dataclass
class Match:
    """A subscription a report matched: what its mail needs, and nothing more."""

    id: int
    kind: str
    email: str
    language: str
    unsubscribe_token: str
    radius_m: int | None
    center: Point | None
    ward_id: int | None
    slug: str | None


def enqueue_area_alerts(report: Report) -> None:
    """Mark a report just made public as due for the immediate alerts (call inside the
    transaction that saved it); the worker matches and mails it (send_immediate_alerts)."""
    with connection.cursor() as cursor:
        DUE_INSERT.execute(cursor, {"report": report.pk})


def send_immediate_alerts(now: datetime | None = None) -> int:
    """The worker's pass: match the due reports, a batch per transaction (two workers at once
    share the batches), and mail or gather them; then send the windows that ended with reports
    waiting. Returns the number of mails queued."""
    now, queued = now or timezone.now(), 0
    for _batch in range(DUE_BATCHES):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(TAKE_DUE_SQL, {"batch": DUE_BATCH})
                taken = [report_id for (report_id,) in cursor.fetchall()]
                if taken:
                    cursor.execute(IMMEDIATE_MATCH_SQL, {"reports": taken})
                    queued += _alert(cursor.fetchall(), now)
        if len(taken) < DUE_BATCH:
            break
    return queued + _send_windows(now)


# What the pass reads of a subscription: what its mails need, and the names (not the outlines) of
# its ward, category and drawn area; a ward's boundary alone can be thousands of vertices.
_SUBSCRIPTION_FIELDS = (
    "kind", "email", "language", "unsubscribe_token", "radius_m", "center", "window_until", "waiting",
    "waiting_count", "ward__name_vi", "ward__name_en", "category__name_vi", "category__name_en", "drawn_area__slug")


def _subscriptions(skip_locked: bool = False, limit: int | None = None, **filters) -> list[AreaAlert]:
    """Subscriptions, locked, with what their mails name (their ward, category, drawn area)."""
    return list(AreaAlert.objects.select_for_update(skip_locked=skip_locked, of=("self",)).filter(**filters)
                .select_related("ward", "category", "drawn_area").only(*_SUBSCRIPTION_FIELDS).order_by("id")[:limit])


# Reports %(reports)s join what waits in subscriptions %(alerts)s (the two arrays pair them): the
# oldest MAX_DIGEST_REPORTS (the lowest ids) are kept to be listed, all are counted.
WAIT_SQL = """
UPDATE incidents_areaalert a
SET waiting = (SELECT array_agg(x ORDER BY x) FROM unnest(a.waiting || v.reports) AS x)[1:%(listed)s],
    waiting_count = a.waiting_count + cardinality(v.reports)
FROM (SELECT alert, array_agg(report ORDER BY report) AS reports
      FROM unnest(%(alerts)s::bigint[], %(reports)s::bigint[]) AS p(alert, report) GROUP BY alert) v
WHERE a.id = v.alert
"""
# Subscriptions %(alerts)s mailed now: their next window ends at %(until)s (NULL: none, they stay
# quiet), and nothing waits in it.
OPEN_WINDOW_SQL = """
UPDATE incidents_areaalert SET window_until = %(until)s, waiting = '{}', waiting_count = 0 WHERE id = ANY(%(alerts)s)
"""


def _alert(pairs: list[tuple[int, int]], now: datetime) -> int:
    """Each matched subscription: its first report mailed at once if it is quiet, opening a
    window; the others added to what waits for its window's end."""
    matched: dict[int, list[int]] = {}
    for alert_id, report_id in pairs:
        matched.setdefault(alert_id, []).append(report_id)
    if not matched:
        return 0
    seconds = settings.CITYPIN_ALERT_GATHER_S
    at_once: dict[int, list[Match]] = {}  # report id: the subscriptions it is mailed to now
    opened, waiting = [], ([], [])  # subscriptions whose window opens; (subscription, report) pairs that wait
    for alert in _subscriptions(pk__in=list(matched)):  # one unsubscribed meanwhile is gone
        ids = matched[alert.pk]
        if seconds <= 0:
            now_ids, later = ids, []
        elif alert.waiting_count == 0 and (alert.window_until is None or alert.window_until <= now):
            now_ids, later = ids[:1], ids[1:]
            opened.append(alert.pk)
        else:
            now_ids, later = [], ids
        match = Match(alert.pk, alert.kind, alert.email, alert.language, alert.unsubscribe_token, alert.radius_m,
                      alert.center, alert.ward_id, alert.drawn_area.slug if alert.drawn_area_id else None)
        for report_id in now_ids:
            at_once.setdefault(report_id, []).append(match)
        waiting[0].extend([alert.pk] * len(later))
        waiting[1].extend(later)
    with connection.cursor() as cursor:
        if opened:
            cursor.execute(OPEN_WINDOW_SQL, {"until": now + timedelta(seconds=seconds), "alerts": opened})
        if waiting[0]:
            cursor.execute(WAIT_SQL, {"alerts": waiting[0], "reports": waiting[1], "listed": MAX_DIGEST_REPORTS})
    reports = public_reports(list(at_once))  # one deleted since the match is not mailed
    mails = [OutboxMessage(**fields) for report_id, matches in at_once.items() if report_id in reports
             for fields in immediate_mails(matches, reports[report_id])]
    OutboxMessage.objects.bulk_create(mails, batch_size=1000)
    return len(mails)


def _send_windows(now: datetime) -> int:
    """One mail for each subscription whose window ended with reports waiting, and its next
    window; those staff rejected meanwhile are left out."""
    queued = 0
    while True:
        with transaction.atomic():
            alerts = _subscriptions(skip_locked=True, limit=WINDOW_BATCH, waiting_count__gt=0, window_until__lte=now)
            if not alerts:
                return queued
            reports = public_reports(sorted({i for alert in alerts for i in alert.waiting}))
            mails, mailed = [], []
            for alert in alerts:
                listed = [reports[i] for i in alert.waiting
                          if i in reports and reports[i].status != Report.Status.REJECTED]
                count = alert.waiting_count - (len(alert.waiting) - len(listed))
                if count > 0:  # those beyond the listed ones are counted, even when none is listed
                    mails.append(OutboxMessage(**digest_mail(alert, listed, count, gathered=True)))
                    mailed.append(alert.pk)
            with connection.cursor() as cursor:
                cursor.execute(OPEN_WINDOW_SQL, {"until": now + timedelta(seconds=settings.CITYPIN_ALERT_GATHER_S),
                                                 "alerts": mailed})
                cursor.execute(OPEN_WINDOW_SQL, {"until": None, "alerts": [a.pk for a in alerts if a.pk not in mailed]})
            OutboxMessage.objects.bulk_create(mails)
            queued += len(mails)
        if len(alerts) < WINDOW_BATCH:
            return queued


def digest_due_before(now: datetime) -> datetime:
    """The latest daily digest time (CITYPIN_ALERT_DIGEST_HOUR, local time) at or before now: a
    daily subscription whose last digest is older is due."""
    local = timezone.localtime(now)
    today = local.replace(hour=settings.CITYPIN_ALERT_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return today if local >= today else today - timedelta(days=1)


DIGEST_BATCH = 200
# A digest covers reports up to this long before it runs: a report is stamped when its intake
# transaction starts, so one still committing as the digest runs is in the next digest, not lost.
DIGEST_LAG = timedelta(minutes=1)
_last_forget: datetime | None = None


def forget_unconfirmed(now: datetime) -> int:
    """Delete the subscriptions never confirmed whose link has expired; at most hourly."""
    global _last_forget
    if _last_forget is not None and now - _last_forget < timedelta(hours=1):
        return 0
    _last_forget = now
    since = now - timedelta(days=settings.CITYPIN_ALERT_CONFIRM_DAYS)
    deleted, _rows = AreaAlert.objects.filter(confirmed_at__isnull=True, created_at__lt=since).delete()
    return deleted


def send_digests(now: datetime | None = None) -> int:
    """Queue the daily digest of every due daily subscription, a batch per transaction; two
    workers at once share the batches (SKIP LOCKED). Returns the number of mails queued."""
    now = now or timezone.now()
    forget_unconfirmed(now)
    due_before, until, queued = digest_due_before(now), now - DIGEST_LAG, 0
    while True:
        with transaction.atomic():
            alerts = _subscriptions(skip_locked=True, limit=DIGEST_BATCH, confirmed_at__isnull=False,
                                    frequency=AreaAlert.Frequency.DAILY, last_digest_at__lt=due_before)
            if not alerts:
                return queued
            with connection.cursor() as cursor:
                cursor.execute(DIGEST_MATCH_SQL, {"alerts": [a.pk for a in alerts], "until": until})
                pairs = cursor.fetchall()
            reports = public_reports(list({report_id for _a, report_id, _at in pairs}))
            found: dict[int, list[PublicReport]] = {}
            for alert_id, report_id, _at in pairs:
                found.setdefault(alert_id, []).append(reports[report_id])
            mails = [OutboxMessage(**digest_mail(a, found[a.pk])) for a in alerts if found.get(a.pk)]
            OutboxMessage.objects.bulk_create(mails)
            AreaAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(last_digest_at=until)
            queued += len(mails)
