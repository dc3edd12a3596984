"""Area alerts: areas citizens draw on the map, and e-mail subscriptions to the new public
reports in a ward, in a circle around a point, or in a drawn area. Geometries are WGS-84
(SRID 4326); radii and distances are metres on the ellipsoid, areas square metres.

The rules a subscription must satisfy (radius bounds, polygon size, cap per address) and the
SQL that matches reports live in incidents/alerts.py; the model keeps what is cheap to check."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.models import Area
from incidents.models.config import Category


def _slug() -> str:
    # 72 random bits, URL-safe, 12 characters: an id that cannot be guessed by counting.
    return secrets.token_urlsafe(9)


def _token() -> str:
    return secrets.token_urlsafe(24)


# The area on the ellipsoid (m²) of a polygon given as EWKB; SRID 4326.
POLYGON_AREA_M2_SQL = "SELECT ST_Area(ST_GeomFromEWKB(%s)::geography)"


def polygon_problem(geom) -> str | None:
    """Why `geom` cannot be a drawn area (a translated sentence), or None when it can: a simple
    valid polygon, not empty, of at most CITYPIN_ALERT_MAX_VERTICES vertices and at most
    CITYPIN_ALERT_MAX_AREA_KM2 square kilometres (a city, not a country)."""
    if geom is None or geom.empty:
        return str(_("Draw an area on the map."))
    if geom.geom_type != "Polygon":
        return str(_("The area must be one polygon."))
    if geom.srid not in (None, 4326) or geom.hasz:
        return str(_("The area must be in longitude and latitude (SRID 4326)."))
    minx, miny, maxx, maxy = geom.extent
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return str(_("The area must be in longitude and latitude (SRID 4326)."))
    if geom.num_coords - 1 > settings.CITYPIN_ALERT_MAX_VERTICES:
        return str(_("The area has too many corners (at most %(n)d).") % {"n": settings.CITYPIN_ALERT_MAX_VERTICES})
    if not geom.valid:
        return str(_("The area's outline crosses itself; draw it again."))
    geom.srid = 4326
    with connection.cursor() as cursor:
        cursor.execute(POLYGON_AREA_M2_SQL, [bytes(geom.ewkb)])
        area_m2 = cursor.fetchone()[0] or 0.0
    if area_m2 <= 0:
        return str(_("Draw an area on the map."))
    if area_m2 > settings.CITYPIN_ALERT_MAX_AREA_KM2 * 1e6:
        return str(_("The area is too large (at most %(km2)s km²).") % {"km2": settings.CITYPIN_ALERT_MAX_AREA_KM2})
    return None


class DrawnArea(models.Model):
    """A polygon someone drew on the map, public by its `slug` (an Atom feed and alerts refer
    to it). Never edited once created: a new drawing is a new area."""

    slug = models.CharField(_("id"), max_length=16, unique=True, default=_slug, editable=False)
    # srid=4326, lon/lat; GiST index (spatial_index). Checked by polygon_problem before saving.
    geom = models.PolygonField(_("area"), srid=4326)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("drawn area")
        verbose_name_plural = _("drawn areas")

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        problem = polygon_problem(self.geom)
        if problem:
            raise ValidationError({"geom": problem})


class AreaAlert(models.Model):
    """One e-mail subscription to new public reports in an area, optionally of one category.
    Pending until confirmed by the link mailed to the address (double opt-in); deleted on
    unsubscribe. Nothing is mailed to a pending subscription but the confirmation."""

    class Kind(models.TextChoices):
        WARD = "ward", _("ward")
        CIRCLE = "circle", _("circle around a point")
        DRAWN = "drawn", _("drawn area")

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("at once")
        DAILY = "daily", _("daily digest")

    email = models.EmailField(_("e-mail"), db_index=True)
    language = models.CharField(_("language"), max_length=8, default="vi")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    ward = models.ForeignKey(Area, verbose_name=_("ward"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    # A circle: its centre (srid=4326) and radius in metres; `reach` is the circle as a polygon
    # (srid=4326, GiST index) so that matching finds candidates by index before the exact
    # ST_DWithin on geography.
    center = models.PointField(_("centre"), srid=4326, null=True, blank=True)
    radius_m = models.PositiveIntegerField(_("radius (m)"), null=True, blank=True)
    reach = models.PolygonField(srid=4326, null=True, blank=True, editable=False)
    drawn_area = models.ForeignKey(DrawnArea, verbose_name=_("drawn area"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="alerts")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices,
                                 default=Frequency.IMMEDIATE)
    confirm_token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # The daily digest covers reports made public after this (created_at for a new one).
    last_digest_at = models.DateTimeField(_("last digest"), null=True, blank=True)
    # An immediate subscription mails its first new report at once and opens a window
    # (CITYPIN_ALERT_GATHER_S): the reports it matches before `window_until` wait, and go as one
    # mail when it ends. `waiting` holds the first of them (ids, at most MAX_DIGEST_REPORTS, the
    # ones the mail lists), `waiting_count` counts them all. Written only by the worker.
    window_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Database defaults: subscriptions made in SQL (imports, benchmarks) start quiet too.
    waiting = ArrayField(models.BigIntegerField(), db_default=[], blank=True, editable=False)
    waiting_count = models.PositiveIntegerField(db_default=0, editable=False)

    class Meta:
        verbose_name = _("area alert")
        verbose_name_plural = _("area alerts")
        indexes = [
            models.Index(fields=["ward"], condition=Q(confirmed_at__isnull=False), name="alert_confirmed_ward"),
            models.Index(fields=["frequency", "last_digest_at"], condition=Q(confirmed_at__isnull=False),
                         name="alert_confirmed_frequency"),
            models.Index(fields=["window_until"], condition=Q(waiting_count__gt=0), name="alert_waiting_window"),
        ]
        constraints = [
            # Each kind carries exactly its own area.
            models.CheckConstraint(
                condition=(Q(kind="ward", ward__isnull=False, center__isnull=True, drawn_area__isnull=True)
                           | Q(kind="circle", ward__isnull=True, center__isnull=False, radius_m__isnull=False,
                               reach__isnull=False, drawn_area__isnull=True)
                           | Q(kind="drawn", ward__isnull=True, center__isnull=True, drawn_area__isnull=False)),
                name="alert_kind_has_its_area"),
            # An outer bound whatever the settings say (incidents/alerts.py checks the setting).
            models.CheckConstraint(condition=Q(radius_m__isnull=True) | Q(radius_m__gte=1, radius_m__lte=50_000),
                                   name="alert_radius_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.kind})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class AlertDue(models.Model):
    """A report made public whose immediate alerts the worker has yet to send: written in the
    transaction that makes it public, taken by the worker (incidents/alerts.py), so intake costs
    the same whatever the number of subscribers."""

    report = models.OneToOneField("incidents.Report", primary_key=True, on_delete=models.CASCADE, related_name="+")
