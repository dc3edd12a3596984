"""Spatial reference data: administrative and service areas, asset layers and their assets.

Every geometry is stored in WGS-84 (SRID 4326). Distances are measured in metres on the
geography type (see the expression indexes in the migrations), never in degrees.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def in_language(vi: str, en: str) -> str:
    """The English text when English is active and there is one; the Vietnamese otherwise."""
    return en if en and (get_language() or "vi").startswith("en") else vi


class BilingualName(models.Model):
    """A Vietnamese and an English name; `name` gives the one for the active language."""

    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return in_language(self.name_vi, self.name_en)

    def __str__(self) -> str:
        return self.name


class Area(BilingualName):
    """An administrative unit or service area, e.g. a province or a ward (phường/xã)."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("province / city")
        WARD = "ward", _("ward / commune")
        SERVICE_AREA = "service_area", _("service area")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=40)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # srid=4326, lon/lat; GiST index on the geometry, and on boundary::geography (migration 0002).
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)
    # Area on the ellipsoid in m², kept by a database trigger. "The smaller area wins" in routing.
    area_m2 = models.FloatField(_("area (m²)"), default=0, editable=False)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="area_kind_code_unique")]
        ordering = ["kind", "code"]


class AreaPart(models.Model):
    """An area's boundary cut into pieces of at most 64 vertices (ST_Subdivide), kept by a
    database trigger whenever a boundary is written. Point-in-area and distance tests run
    against these small pieces through their GiST indexes instead of against a province
    outline of thousands of vertices."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="parts")
    geom = models.PolygonField(srid=4326)  # SRID 4326; GiST on geom and on geom::geography

    class Meta:
        verbose_name = _("area part")


class AssetLayer(BilingualName):
    """A kind of physical asset departments are responsible for: roads, drains, street lights."""

    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("asset layer")
        verbose_name_plural = _("asset layers")
        ordering = ["code"]


class Asset(models.Model):
    """One asset (a road segment, a lamp post), with a class used by routing rules."""

    layer = models.ForeignKey(AssetLayer, verbose_name=_("layer"), on_delete=models.CASCADE, related_name="assets")
    code = models.CharField(_("code"), max_length=80)
    name = models.CharField(_("name"), max_length=200, blank=True)
    # e.g. for roads: "national", "provincial", "district"; free text, matched by routing rules.
    asset_class = models.CharField(_("class"), max_length=40, db_index=True)
    # srid=4326; lines or points. GiST index on geom, and on geom::geography (migration 0002).
    geom = models.GeometryField(_("geometry"), srid=4326)
    properties = models.JSONField(_("source properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        constraints = [models.UniqueConstraint(fields=["layer", "code"], name="asset_layer_code_unique")]
        ordering = ["layer", "code"]

    def __str__(self) -> str:
        return f"{self.name or self.code} ({self.asset_class})"


class AssetPart(models.Model):
    """An asset's geometry cut into pieces of at most 64 vertices (ST_Subdivide), kept by a
    database trigger. A national road is one feature of thousands of vertices; distance tests
    in metres run against the small pieces through the geography GiST index."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="parts")
    geom = models.GeometryField(srid=4326)  # SRID 4326; GiST on geom and on geom::geography

    class Meta:
        verbose_name = _("asset part")

