"""What the city acts on: an incident is one real-world problem, reported once or many times;
a hotspot is a place where a category keeps being reported. Geometries are WGS-84 (SRID 4326);
distances are metres."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.config import Category, Department


class Incident(models.Model):
    """One problem on the ground. Its status drives its reports' statuses; its location and
    footprint follow its reports (centroid and convex hull, kept by refresh_incident, or by
    join_incident's one step when a report joins it)."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT)
    status = models.CharField(_("status"), max_length=20, default="new")  # same values as Report.Status
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)  # centroid of its reports
    public_location = models.PointField(srid=4326, null=True, blank=True)  # snapped like its reports
    footprint = models.GeometryField(_("footprint"), srid=4326, null=True, blank=True)  # convex hull of them
    description = models.TextField(_("description"), blank=True)  # the first report's public text
    report_count = models.PositiveIntegerField(_("reports"), default=0)
    supporter_count = models.PositiveIntegerField(_("supporters"), default=0)
    first_reported_at = models.DateTimeField(_("first reported"), default=timezone.now)
    last_reported_at = models.DateTimeField(_("last reported"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"#{self.pk} {self.category}"


class Hotspot(models.Model):
    """A DBSCAN cluster of one category's reports in a rolling window (refresh_hotspots)."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    footprint = models.PolygonField(srid=4326)  # convex hull of the cluster, padded by eps/2
    centroid = models.PointField(srid=4326, spatial_index=False)  # only shown, never searched
    report_count = models.PositiveIntegerField()
    open_count = models.PositiveIntegerField()
    previous_count = models.PositiveIntegerField(help_text=_("Reports in the same place in the previous window."))
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hotspot")
        verbose_name_plural = _("hotspots")

    @property
    def open_share(self) -> float:
        return self.open_count / self.report_count if self.report_count else 0.0

    @property
    def trend(self) -> float:
        """Relative change against the previous window: +1.0 is twice as many reports."""
        return (self.report_count - self.previous_count) / max(self.previous_count, 1)


class HotspotRun(models.Model):
    """When a category's hotspots were last computed, and up to which report."""

    category = models.OneToOneField(Category, on_delete=models.CASCADE, related_name="hotspot_run")
    last_report_id = models.BigIntegerField(default=0)
    full_at = models.DateTimeField(null=True)
    ran_at = models.DateTimeField(default=timezone.now)
