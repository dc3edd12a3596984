"""What mail says and who gets it: editable mail templates per event and language, the rules
of who is told what (per department and category), the citizens' unsubscriptions, and the
runs of the operations center's dead-message digest. Rendering and choosing recipients is the
domain's (incidents.mailing, incidents.notices)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.config import Category, Department
from incidents.models.reports import Report


class Notice(models.TextChoices):
    """Every event Citypin writes mail for (a template each, per language)."""

    ROUTED = "routed", _("a new report routed to a department")
    REROUTED = "rerouted", _("a report rerouted to a department")
    REOPENED = "reopened", _("a report reopened")
    MILESTONE = "milestone", _("a supporter milestone")
    RECEIPT = "receipt", _("the reporter's receipt")
    STATUS = "status", _("a public status change")
    REPLY = "reply", _("a public reply")
    ESCALATED = "escalated", _("a report not acknowledged in time")
    DEAD_MESSAGES = "dead_messages", _("messages the outbox gave up on (digest)")


class MessageTemplate(models.Model):
    """A mail template for one event in one language, overriding the file template
    incidents/email/<event>_subject.txt / _body.txt. The HTML part is derived from the text,
    autoescaped (incidents/email/message.html)."""

    event = models.CharField(_("event"), max_length=20, choices=Notice.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("mail template")
        verbose_name_plural = _("mail templates")
        ordering = ["event", "language"]
        constraints = [models.UniqueConstraint(fields=["event", "language"], name="one_mail_template_per_language")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} ({self.language})"


class NotificationRule(models.Model):
    """Who is told of one event, for one department and/or one category (empty: any). The most
    specific active rule wins (department and category, then category, then department, then
    any); without one, Citypin's defaults apply (incidents.notices.DEFAULT_AUDIENCE)."""

    event = models.CharField(_("event"), max_length=20, choices=Notice.choices)
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.CASCADE, help_text=_("Empty: any department."))
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.CASCADE, help_text=_("Empty: any category."))
    to_department = models.BooleanField(_("the department"), default=False)
    to_reporter = models.BooleanField(_("the reporter"), default=False)
    to_supporters = models.BooleanField(_("supporters who gave an e-mail"), default=False)
    to_operations_center = models.BooleanField(_("the operations center"), default=False)
    extra_recipients = models.TextField(_("other addresses"), blank=True,
                                        help_text=_("Staff addresses, one a line; they get the staff mail."))
    milestone_every = models.PositiveIntegerField(
        _("milestone every"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("For supporter milestones: every this many supporters (empty: the installation's setting)."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["event", "department", "category"]
        constraints = [models.UniqueConstraint(fields=["event", "department", "category"], nulls_distinct=False,
                                               name="one_notification_rule_per_scope")]

    def __str__(self) -> str:
        return self.get_event_display()

    def extra_addresses(self) -> list[str]:
        return [line.strip().lower() for line in self.extra_recipients.splitlines() if line.strip()]

    def clean(self) -> None:
        for address in self.extra_addresses():
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"extra_recipients": _("Not an e-mail address: %(address)s") % {
                    "address": address[:80]}}) from None


class Unsubscription(models.Model):
    """A citizen's "no more mail": about one report, or (report empty) about every report. The
    address is kept only as a keyed hash (incidents.notices.address_key), enough to skip it."""

    address_key = models.CharField(max_length=64, db_index=True)
    report = models.ForeignKey(Report, verbose_name=_("report"), null=True, blank=True, on_delete=models.CASCADE,
                               help_text=_("Empty: every report."))
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)
    one_click = models.BooleanField(_("one-click (mail program)"), default=False)

    class Meta:
        verbose_name = _("unsubscription")
        verbose_name_plural = _("unsubscriptions")
        constraints = [models.UniqueConstraint(fields=["address_key", "report"], nulls_distinct=False,
                                               name="one_unsubscription_per_scope")]
        indexes = [models.Index(fields=["address_key"], condition=Q(report__isnull=True),
                                name="unsubscribed_everywhere")]


class DigestRun(models.Model):
    """When the operations center was last sent the dead-message digest, and about how many."""

    kind = models.CharField(max_length=20, choices=Notice.choices, default=Notice.DEAD_MESSAGES)
    created_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]


class StaffNoticeWindow(models.Model):
    """Until when a staff address gathers the mails of new reports routed to it
    (CITYPIN_STAFF_NOTICE_GATHER_S after its last such mail): in a storm the first report's mail
    goes at once, the rest wait as GatheredNotice rows and go as one mail (incidents.notices)."""

    recipient = models.CharField(max_length=254, primary_key=True)
    until = models.DateTimeField()


class GatheredNotice(models.Model):
    """A new report whose mail to `recipient` waits for the end of the address's window."""

    recipient = models.CharField(max_length=254)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["recipient", "id"], name="gathered_notice_recipient")]
