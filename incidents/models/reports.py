"""What was reported: reports, their photos, supporters and events, and the outbox of
messages they cause. Geometries are WGS-84 (SRID 4326)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gis.models import Area, in_language
from incidents.models.config import Category, Department, RoutingRule


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

    class Priority(models.IntegerChoices):
        LOW = 1, _("low")
        NORMAL = 2, _("normal")
        HIGH = 3, _("high")
        URGENT = 4, _("urgent")

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
    # What the public sees: `location` snapped to the category's public precision (SRID 4326).
    # Every public output filters, measures and aggregates on this, never on `location`.
    public_location = models.PointField(_("public location"), srid=4326, null=True, blank=True, editable=False)
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
    incident = models.ForeignKey("incidents.Incident", verbose_name=_("incident"), on_delete=models.PROTECT,
                                 related_name="reports", db_index=False)  # report_incident_recent serves it
    incident_score = models.FloatField(_("match score"), null=True, blank=True)
    suggested_incident = models.ForeignKey("incidents.Incident", verbose_name=_("possible duplicate of"), null=True,
                                           blank=True, on_delete=models.SET_NULL, related_name="+")
    recurrence_of = models.ForeignKey("incidents.Incident", verbose_name=_("recurrence of"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="recurrences")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)
    # Private: shown to authorised staff only; never in a public output.
    reporter_name = models.CharField(_("reporter name"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("reporter e-mail"), blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=40, blank=True)
    reporter_ip = models.GenericIPAddressField(_("reporter IP"), null=True, blank=True)
    # The language the citizen used (vi, en; "" when unknown): staff replies start in it.
    language = models.CharField(_("reporter's language"), max_length=8, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    supporter_count = models.PositiveIntegerField(_("supporters"), default=0, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Triage (staff only). Due times are working hours from routing on the office calendar
    # (incidents/sla.py), recomputed on reroute.
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="assigned_reports")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True, editable=False)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True, editable=False)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(_("escalated to the operations center"), null=True, blank=True,
                                        editable=False)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="report_created_keyset"),
            models.Index(fields=["status", "department"], name="report_status_department"),
            models.Index(fields=["department", "-created_at", "-id"], name="report_department_created"),
            # A ward's newest reports (its Atom feed): without it, a ward with few reports made
            # PostgreSQL walk report_created_keyset through every report (20 s at 1M).
            models.Index(fields=["ward", "-created_at", "-id"], name="report_ward_created"),
            # A category's reports of a time window, newest or oldest first; hotspots read them
            # from this index alone (index-only scan, no heap visits): what DBSCAN and the
            # footprints need.
            models.Index(fields=["category", "created_at"], include=["id", "location", "public_location", "status"],
                         name="report_hotspot_cover"),
            models.Index(fields=["acknowledge_due_at"], condition=Q(status="new", acknowledged_at__isnull=True, escalated_at__isnull=True),
                         name="report_awaiting_escalation"),
            # An incident's reports, newest first: matching scores a new report's text against the
            # incident's last 20 (CANDIDATES_SQL) reading 20 entries, not every report of it (a
            # street reported 2,000 times cost each new report 2 ms); also the foreign key's index.
            models.Index(fields=["incident", "id"], name="report_incident_recent"),
            # Whether an incident holds a report without a point (matching.JOIN_SQL): a few rows,
            # and nothing to write for the located reports that make nearly all of intake.
            models.Index(fields=["incident"], condition=Q(location__isnull=True), name="report_unlocated_incident"),
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


class ClientSubmission(models.Model):
    """How a machine client (an Open311 application) submitted a report: its key, the token it
    can look the report up by, and what it said about the device and account. Private: staff
    only, never in a public output. `media_url` is a link the client gave; it is never fetched
    nor published (only photos staff approve are public)."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="client_submission")
    api_key = models.ForeignKey("incidents.ApiKey", verbose_name=_("client application"), on_delete=models.PROTECT,
                                related_name="submissions")
    token = models.CharField(max_length=40, unique=True, editable=False)
    device_id = models.CharField(_("device id"), max_length=200, blank=True)
    account_id = models.CharField(_("account id"), max_length=200, blank=True)
    media_url = models.URLField(_("media URL (as given, unchecked)"), max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("client submission")
        verbose_name_plural = _("client submissions")


class Supporter(models.Model):
    """Someone who says "me too" about a report; with an e-mail they follow its updates."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="supporters")
    email = models.EmailField(_("e-mail"), blank=True)  # private, like the reporter's
    browser = models.CharField(max_length=64, blank=True)  # a random id in a cookie of the supporter's browser
    # The language the supporter used (vi, en; "" unknown): the mail they follow is in it.
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
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
        MERGED = "merged", _("merged into another incident")
        SPLIT = "split", _("split into its own incident")
        COMMENT = "comment", _("reply")
        NOTE = "note", _("internal note")
        ASSIGNED = "assigned", _("assigned")
        PRIORITY = "priority", _("priority changed")
        ESCALATED = "escalated", _("escalated to the operations center")
        PHOTO_APPROVED = "photo_approved", _("photo approved for public display")

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
        indexes = [
            # Public updates by time, for feeds of updates (Open311 servicerequestupdates).
            models.Index(fields=["created_at", "id"], condition=Q(is_public=True), name="event_public_created"),
        ]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Report events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Report events are append-only.")


def _webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A department's system that wants reports as signed JSON POSTs (incidents.delivery.webhook):
    HMAC-SHA256 over `timestamp + "." + body` under `secret`."""

    class Event(models.TextChoices):
        ROUTED = "report.routed", _("a new report routed to the department")
        REROUTED = "report.rerouted", _("a report rerouted to the department")
        REOPENED = "report.reopened", _("a report reopened")

    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.CASCADE,
                                   related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500,
                          help_text=_("HTTPS, on a public address (unless DEBUG is on)."))
    secret = models.CharField(_("signing secret"), max_length=100, default=_webhook_secret)
    events = ArrayField(models.CharField(max_length=30, choices=Event.choices), verbose_name=_("events"),
                        default=list, blank=True, help_text=_("Empty: every event."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["department", "id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class OutboxMessage(models.Model):
    """A message to send outside (an e-mail, a webhook POST), written in the transaction of the
    change that causes it and sent by the worker afterwards: a failed SMTP server never loses a
    report, and a rolled-back report never sends a message. A row is pending while `sent_at`
    and `failed_at` are empty; `send_after` is when it is next due (a worker that claims it moves
    it a lease ahead, so a crashed worker's rows come back); `failed_at` marks it dead."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WEBHOOK = "webhook", _("webhook")
        OPEN311 = "open311", _("Open311 forwarding")

    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    # Extra mail headers the cause asks for (List-Unsubscribe for a citizen's mail); names and
    # values are checked by Django's mail classes at send time, so a line break cannot inject one.
    headers = models.JSONField(default=dict, blank=True)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="messages", help_text=_("For a webhook: where it goes."))
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


class SavedView(models.Model):
    """A staff member's named console filter (the list's query string)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_unique")]


class ResponseTemplate(models.Model):
    """A canned public reply, offered in the console for a category (or every category) and a
    status (or any). A department's managers keep their own; templates without a department
    are the operations center's and offered to everyone."""

    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="response_templates")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE)
    status = models.CharField(_("for status"), max_length=20, blank=True,
                              help_text=_("Offered when the report moves to this status; empty: any."))
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    body_vi = models.TextField(_("text (Vietnamese)"), max_length=2000)
    body_en = models.TextField(_("text (English)"), max_length=2000, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def body(self) -> str:
        return in_language(self.body_vi, self.body_en)

    @property
    def display_title(self) -> str:
        return in_language(self.title, self.title_en)

    @property
    def status_label(self) -> str:
        return Report.Status(self.status).label if self.status in Report.Status.values else ""
