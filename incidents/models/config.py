"""Who is responsible and for what: departments, categories and their attributes, routing
rules, staff memberships and API keys. Distances are metres (fields end in `_m`)."""

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

from gis.models import Area, AssetLayer, BilingualName, in_language


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
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=50,
                                                     validators=[MinValueValidator(1)])
    duplicate_window_days = models.PositiveIntegerField(_("duplicate time window (days)"), default=30,
                                                        validators=[MinValueValidator(1)])
    target_acknowledge_hours = models.PositiveIntegerField(_("target to acknowledge (working hours)"), default=8)
    target_resolve_hours = models.PositiveIntegerField(_("target to resolve (working hours)"), default=72)
    public_location_precision_m = models.PositiveIntegerField(
        _("public location precision (m)"),
        default=0,
        help_text=_("0 publishes the exact point; otherwise public outputs snap it to a grid of this size."),
    )
    public_location_ward_only = models.BooleanField(
        _("publish the ward only"), default=False,
        help_text=_("For sensitive categories: public outputs show the ward's representative point, never the "
                    "report's. Needs a public location precision, used outside every ward and for distances."),
    )
    allow_anonymous = models.BooleanField(
        _("anonymous reports allowed"),
        default=True,
        help_text=_("If not, the reporter must give a name and an e-mail address or a phone number."),
    )
    class DuplicateAction(models.TextChoices):
        ATTACH = "attach", _("attach to the incident automatically")
        SUGGEST = "suggest", _("only suggest the incident")

    duplicate_action = models.CharField(_("when a new report matches an incident"), max_length=10,
                                        choices=DuplicateAction.choices, default=DuplicateAction.ATTACH)
    duplicate_threshold = models.FloatField(
        _("match score threshold"), default=0.5,
        help_text=_("0–1. A candidate incident scoring at least this is a match (distance, age and text)."))
    match_group = models.BooleanField(_("match incidents of the whole group"), default=False)
    recurrence_days = models.PositiveIntegerField(
        _("recurrence window (days)"), default=90,
        help_text=_("A new report near an incident resolved this recently is flagged as a recurrence. 0: off."))
    hotspot_eps_m = models.PositiveIntegerField(_("hotspot distance (m)"), default=150)
    hotspot_min_points = models.PositiveIntegerField(_("hotspot minimum reports"), default=5)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["group__order", "order", "code"]

    @property
    def description(self) -> str:
        return in_language(self.description_vi, self.description_en)

    def clean(self) -> None:
        super().clean()
        if self.public_location_ward_only and not self.public_location_precision_m:
            raise ValidationError({"public_location_precision_m": [
                _("A category published to its ward only needs a precision (metres) for reports outside every ward.")]})


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


class ApiKey(models.Model):
    """A key of one client application (Open311 `api_key`). Only its SHA-256 is stored: the key
    itself is shown once, when it is issued. A revoked key stays, so that the reports it sent
    still name their client."""

    name = models.CharField(_("client application"), max_length=200)
    contact = models.EmailField(_("contact e-mail"), blank=True,
                                help_text=_("Who to write to about this client (private)."))
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, name: str, raw_key: str | None = None, contact: str = "") -> tuple["ApiKey", str]:
        """A new active key for `name` and the key itself (to show once). Given `raw_key` (the
        demo's, derived from the installation's secret), issuing again reactivates it."""
        raw_key = raw_key or secrets.token_urlsafe(32)
        key, _created = cls.objects.update_or_create(
            key_hash=cls.hash(raw_key),
            defaults={"name": name, "contact": contact, "prefix": raw_key[:8], "active": True, "revoked_at": None},
        )
        return key, raw_key

    def revoke(self) -> None:
        self.active = False
        self.revoked_at = timezone.now()
        self.save(update_fields=["active", "revoked_at"])

    @classmethod
    def find_active(cls, raw_key: str) -> "ApiKey | None":
        if not raw_key or len(raw_key) > 200:
            return None
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


class CalendarDay(models.Model):
    """An exception to the office calendar: a closure (is_working_day off) on a day that would
    be worked, or a make-up working day (e.g. a Saturday worked to lengthen Tết)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
