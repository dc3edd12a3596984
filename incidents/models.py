"""The domain: who is responsible (departments, routing rules), what can be reported
(categories and their attributes), and what was reported (reports and their events).

Geometries are WGS-84 (SRID 4326); distances are metres (fields end in `_m`).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.models import Area, AssetLayer, BilingualName


class Department(BilingualName):
    """A body that handles reports. The operations center (IOC) of a jurisdiction takes what
    no rule places; its `jurisdiction` area is where Citypin accepts reports at all."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    is_operations_center = models.BooleanField(_("operations center"), default=False)
    jurisdiction = models.ForeignKey(
        Area,
        verbose_name=_("jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("For an operations center: the area it covers. Reports outside every jurisdiction are refused."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_operations_center=False) | Q(jurisdiction__isnull=False),
                name="operations_center_has_jurisdiction",
            )
        ]


class CategoryGroup(BilingualName):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category group")
        verbose_name_plural = _("category groups")
        ordering = ["order", "code"]


class Category(BilingualName):
    """What can be reported; the Open311 "service"."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    group = models.ForeignKey(CategoryGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="categories")
    description_vi = models.TextField(_("description (Vietnamese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=400, blank=True, help_text=_("Comma-separated."))
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=50)
    duplicate_window_days = models.PositiveIntegerField(_("duplicate time window (days)"), default=30)
    target_acknowledge_hours = models.PositiveIntegerField(_("target to acknowledge (working hours)"), default=8)
    target_resolve_hours = models.PositiveIntegerField(_("target to resolve (working hours)"), default=72)
    public_location_precision_m = models.PositiveIntegerField(
        _("public location precision (m)"),
        default=0,
        help_text=_("0 publishes the exact point; otherwise public outputs snap it to a grid of this size."),
    )
    allow_anonymous = models.BooleanField(
        _("anonymous reports allowed"),
        default=True,
        help_text=_("If not, the reporter must give a name and an e-mail address or a phone number."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["group__order", "order", "code"]

    @property
    def description(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "vi").startswith("en") and self.description_en:
            return self.description_en
        return self.description_vi


class CategoryAttribute(BilingualName):
    """One extra question of a category, with an Open311 GeoReport v2 datatype."""

    class Datatype(models.TextChoices):
        STRING = "string", _("short text")
        NUMBER = "number", _("number")
        DATETIME = "datetime", _("date and time")
        TEXT = "text", _("long text")
        SINGLEVALUELIST = "singlevaluelist", _("one choice")
        MULTIVALUELIST = "multivaluelist", _("several choices")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(_("code"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    datatype = models.CharField(_("datatype"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    # For the list datatypes: [{"key": "small", "name_vi": "Nhỏ", "name_en": "Small"}, ...]
    values = models.JSONField(_("allowed values"), default=list, blank=True)
    min_value = models.FloatField(_("minimum"), null=True, blank=True)
    max_value = models.FloatField(_("maximum"), null=True, blank=True)

    class Meta:
        verbose_name = _("category attribute")
        verbose_name_plural = _("category attributes")
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="attribute_code_unique")]

    @property
    def is_list(self) -> bool:
        return self.datatype in (self.Datatype.SINGLEVALUELIST, self.Datatype.MULTIVALUELIST)

    def allowed_keys(self) -> list[str]:
        return [str(v["key"]) for v in self.values]

    def clean(self) -> None:
        if self.is_list:
            if not self.values or not all(isinstance(v, dict) and "key" in v for v in self.values):
                raise ValidationError({"values": _("A list attribute needs values like {\"key\": …, \"name_vi\": …}.")})
        elif self.values:
            raise ValidationError({"values": _("Only list attributes have allowed values.")})


class RoutingRule(models.Model):
    """Category (or group) × where → department. See incidents/routing.py for how one is chosen."""

    class Kind(models.TextChoices):
        AREA = "area", _("inside an area")
        ASSET = "asset", _("near an asset class")
        DEFAULT = "default", _("default for the jurisdiction")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE)
    category_group = models.ForeignKey(
        CategoryGroup, verbose_name=_("category group"), null=True, blank=True, on_delete=models.CASCADE
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("For 'inside an area' the area; for 'default' the jurisdiction."),
    )
    asset_layer = models.ForeignKey(AssetLayer, verbose_name=_("asset layer"), null=True, blank=True, on_delete=models.PROTECT)
    asset_class = models.CharField(_("asset class"), max_length=40, blank=True)
    buffer_m = models.FloatField(_("buffer (m)"), default=0, validators=[MinValueValidator(0)])
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher wins; then the smaller area; then the older rule."))
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(category__isnull=False) & Q(category_group__isnull=True))
                | (Q(category__isnull=True) & Q(category_group__isnull=False)),
                name="rule_has_category_or_group",
            ),
            models.CheckConstraint(
                condition=(Q(kind="asset") & Q(asset_layer__isnull=False) & ~Q(asset_class="") & Q(buffer_m__gt=0))
                | (~Q(kind="asset") & Q(area__isnull=False)),
                name="rule_where_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.category_id is None) == (self.category_group_id is None):
            raise ValidationError(_("Give either a category or a category group."))
        if self.kind == self.Kind.ASSET:
            if not (self.asset_layer_id and self.asset_class and self.buffer_m > 0):
                raise ValidationError(_("A rule near an asset class needs the layer, the class and a buffer in metres."))
        elif not self.area_id:
            raise ValidationError({"area": _("This kind of rule needs an area.")})
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("Must be after 'valid from'.")})


class Report(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("new")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")
        REJECTED = "rejected", _("rejected")
        DUPLICATE = "duplicate", _("duplicate")
        REOPENED = "reopened", _("reopened")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)

    class Source(models.TextChoices):
        WEB = "web", _("web form")
        API = "api", _("API")
        OPEN311 = "open311", _("Open311")
        STAFF = "staff", _("staff")
        PHONE = "phone", _("phone")

    public_id = models.CharField(_("public id"), max_length=32, unique=True, editable=False)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    # srid=4326; null for a report that has only an address (it goes to triage).
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    location_accuracy_m = models.FloatField(_("location accuracy (m)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=400, blank=True)
    ward = models.ForeignKey(Area, verbose_name=_("ward"), null=True, blank=True, on_delete=models.PROTECT)
    # Plain text as typed (escaped on output); public_description has contact details scrubbed.
    description = models.TextField(_("description"), max_length=4000, blank=True)
    public_description = models.TextField(_("public description"), blank=True, editable=False)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT)
    routing_rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL)
    routing = models.JSONField(_("routing explanation"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)
    # Private: shown to authorised staff only; never in a public output.
    reporter_name = models.CharField(_("reporter name"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("reporter e-mail"), blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=40, blank=True)
    reporter_ip = models.GenericIPAddressField(_("reporter IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    supporter_count = models.PositiveIntegerField(_("supporters"), default=0, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="report_created_keyset"),
            models.Index(fields=["status", "department"], name="report_status_department"),
            models.Index(fields=["category", "-created_at"], name="report_category_created"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


def photo_path(photo: "Photo", filename: str) -> str:
    """photos/2026/11/<uuid>.jpg, and <uuid>-thumb.jpg for the thumbnail (named by the caller)."""
    return f"photos/{timezone.now():%Y/%m}/{filename}"


class Photo(models.Model):
    """A photo of a report, stored re-encoded with every EXIF tag (GPS included) removed.
    Public only once staff approve it; served through a view that checks that."""

    uuid = models.UUIDField(unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_path)
    thumbnail = models.ImageField(upload_to=photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=20)
    is_public = models.BooleanField(_("approved for public display"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["report", "id"]


class Supporter(models.Model):
    """Someone who says "me too" about a report; with an e-mail they follow its updates."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="supporters")
    email = models.EmailField(_("e-mail"), blank=True)  # private, like the reporter's
    browser = models.CharField(max_length=64, blank=True)  # a random id in a cookie of the supporter's browser
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("supporter")
        verbose_name_plural = _("supporters")
        constraints = [
            models.UniqueConstraint(fields=["report", "email"], condition=~Q(email=""), name="one_support_per_email"),
            models.UniqueConstraint(fields=["report", "browser"], condition=~Q(browser=""),
                                    name="one_support_per_browser"),
        ]


class ReportEvent(models.Model):
    """Append-only history of a report, written in the transaction of the change it records."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        ROUTED = "routed", _("routed")
        STATUS_CHANGED = "status_changed", _("status changed")
        REROUTED = "rerouted", _("rerouted")
        SUPPORTED = "supported", _("supported")
        COMMENT = "comment", _("reply")
        NOTE = "note", _("internal note")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    from_status = models.CharField(_("from status"), max_length=20, choices=Report.Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Report.Status.choices, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    message = models.TextField(_("message"), blank=True)
    is_public = models.BooleanField(_("public"), default=False)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("report event")
        verbose_name_plural = _("report events")
        ordering = ["report", "created_at", "id"]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Report events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Report events are append-only.")


class ApiKey(models.Model):
    """A key for machine clients (Open311 `api_key`). Only its SHA-256 is stored."""

    name = models.CharField(_("name"), max_length=200)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, name: str, raw_key: str | None = None) -> tuple["ApiKey", str]:
        raw_key = raw_key or secrets.token_urlsafe(32)
        key, _created = cls.objects.update_or_create(
            key_hash=cls.hash(raw_key), defaults={"name": name, "prefix": raw_key[:8], "active": True}
        )
        return key, raw_key

    @classmethod
    def find_active(cls, raw_key: str) -> "ApiKey | None":
        return cls.objects.filter(key_hash=cls.hash(raw_key), active=True).first()


class StaffMembership(models.Model):
    """A staff member's place in a department. Members of an operations center see everything."""

    class Role(models.TextChoices):
        AGENT = "agent", _("agent")
        MANAGER = "manager", _("manager")
        VIEWER = "viewer", _("viewer")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.department.code} · {self.role}"


class OutboxMessage(models.Model):
    """A message to send outside (e-mail today), written in the transaction of the change that
    causes it and sent by the worker afterwards: a failed SMTP server never loses a report, and
    a rolled-back report never sends a message."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")

    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    send_after = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text=_("Given up after too many attempts."))
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["send_after"], condition=Q(sent_at__isnull=True, failed_at__isnull=True),
                                name="outbox_pending")]
