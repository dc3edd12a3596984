"""Open311 forwarding: a department whose own work-order system (its "back office") speaks
GeoReport v2 gets its reports POSTed there (incidents.delivery.open311), and that system's
status changes come back as events on our reports (incidents.delivery.open311_poll).

The back office's API key is never stored in the database: `api_key_env` names an environment
variable of the web and worker processes that holds it. A database dump or a read-only admin
account then reveals no key, rotating a key is a restart, and no encryption key derived from
SECRET_KEY has to survive SECRET_KEY's own rotation. The name must start with
API_KEY_ENV_PREFIX, so a mistyped or malicious admin entry can never make Citypin send another
secret of its environment (SECRET_KEY, a database password) to an outside server."""

from __future__ import annotations

import os
import re

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.config import Category, Department
from incidents.models.reports import Report

API_KEY_ENV_PREFIX = "CITYPIN_OPEN311_KEY_"
API_KEY_ENV = re.compile(r"^CITYPIN_OPEN311_KEY_[A-Z0-9_]{1,60}$")


def _default_status_map() -> dict[str, str]:
    return {"closed": Report.Status.RESOLVED}


class Open311Endpoint(models.Model):
    """A department's back office that takes GeoReport v2 service requests."""

    department = models.OneToOneField(Department, verbose_name=_("department"), on_delete=models.CASCADE,
                                      related_name="open311_endpoint")
    base_url = models.URLField(
        _("base URL"), max_length=500,
        help_text=_("Where requests.json and services/<code>.json are, e.g. https://example.org/open311/v2/ "
                    "(HTTPS on a public address unless DEBUG is on)."))
    jurisdiction_id = models.CharField(_("jurisdiction_id"), max_length=100, blank=True,
                                       help_text=_("Sent with every request when the back office asks for one."))
    api_key_env = models.CharField(
        _("API key variable"), max_length=80,
        help_text=_("The name of the environment variable holding the back office's API key (it must start with "
                    "CITYPIN_OPEN311_KEY_). The key itself is never stored in the database."))
    default_service_code = models.CharField(
        _("default service_code"), max_length=100, blank=True,
        help_text=_("For categories without a mapping below; empty: such reports are not forwarded."))
    status_map = models.JSONField(
        _("status mapping"), default=_default_status_map, blank=True,
        help_text=_('The back office\'s statuses and the Citypin status each becomes, e.g. '
                    '{"closed": "resolved", "in_progress": "in_progress"}. Unlisted statuses change nothing.'))
    updates_public = models.BooleanField(
        _("updates are public"), default=True,
        help_text=_("Status changes coming back are shown to the citizen and e-mailed to followers. If not, they "
                    "are internal, and a change that needs a word to the citizen becomes an internal note."))
    send_contact = models.BooleanField(
        _("send the reporter's contact details"), default=False,
        help_text=_("Name, e-mail and phone; off by default (the back office gets the public description)."))
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_poll_error = models.TextField(_("last polling error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 back office")
        verbose_name_plural = _("Open311 back offices")
        ordering = ["department"]

    def __str__(self) -> str:
        return self.base_url

    def url(self, resource: str) -> str:
        """`resource` (e.g. "requests.json") under the base URL."""
        return self.base_url.rstrip("/") + "/" + resource

    def api_key(self) -> str:
        """The key from the environment ("" when the variable is unset)."""
        return os.environ.get(self.api_key_env, "") if API_KEY_ENV.match(self.api_key_env) else ""

    def service_code_for(self, category_id: int) -> str:
        mapping = self.services.filter(category_id=category_id).values_list("service_code", flat=True).first()
        return mapping or self.default_service_code

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        if not API_KEY_ENV.match(self.api_key_env or ""):
            errors["api_key_env"] = [_("The variable's name must be CITYPIN_OPEN311_KEY_ followed by capital letters, "
                                       "digits or underscores.")]
        elif not os.environ.get(self.api_key_env):
            errors["api_key_env"] = [_("The environment variable %(name)s is not set (or empty) in this process.")
                                     % {"name": self.api_key_env}]
        problem = status_map_problem(self.status_map)
        if problem:
            errors["status_map"] = [problem]
        if errors:
            raise ValidationError(errors)


def status_map_problem(value: object) -> str:
    """Why `value` is not a status mapping ({back office status: Citypin status}), or ""."""
    if not isinstance(value, dict):
        return str(_('A JSON object, e.g. {"closed": "resolved"}.'))
    for remote, ours in value.items():
        if not remote.strip() or len(remote) > 60:
            return str(_("Each back office status is 1 to 60 characters."))
        if ours not in Report.Status.values or ours == Report.Status.NEW:
            return str(_('"%(value)s" is not a Citypin status one can move to (%(choices)s).') % {
                "value": str(ours)[:40], "choices": ", ".join(s for s in Report.Status.values if s != "new")})
    return ""


class Open311Service(models.Model):
    """Which service_code of the back office a category of ours becomes."""

    endpoint = models.ForeignKey(Open311Endpoint, on_delete=models.CASCADE, related_name="services")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE)
    service_code = models.CharField(_("service_code"), max_length=100)

    class Meta:
        verbose_name = _("service mapping")
        verbose_name_plural = _("service mappings")
        constraints = [models.UniqueConstraint(fields=["endpoint", "category"], name="one_service_per_category")]

    def __str__(self) -> str:
        return f"{self.category} → {self.service_code}"


class Open311Forward(models.Model):
    """One report sent to one back office: made when it is queued, with the back office's id
    once it answered. At most one per report and back office, so a reroute back and forth
    never posts it twice. `remote_status` is the status seen at the last poll: only a change
    of it does anything (a report staff resolved here is not reopened by a back office that
    still says "open")."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="open311_forwards")
    endpoint = models.ForeignKey(Open311Endpoint, on_delete=models.CASCADE, related_name="forwards")
    service_code = models.CharField(_("service_code"), max_length=100)
    service_request_id = models.CharField(_("service_request_id"), max_length=200, blank=True)
    token = models.CharField(_("token"), max_length=200, blank=True)
    remote_status = models.CharField(_("status in the back office"), max_length=60, blank=True, default="open")
    remote_updated_at = models.DateTimeField(_("updated in the back office"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    forwarded_at = models.DateTimeField(_("forwarded"), null=True, blank=True)

    class Meta:
        verbose_name = _("forwarded report")
        verbose_name_plural = _("forwarded reports")
        constraints = [models.UniqueConstraint(fields=["report", "endpoint"], name="one_forward_per_back_office")]
        indexes = [models.Index(fields=["endpoint", "service_request_id"], name="forward_remote_id")]

    def __str__(self) -> str:
        return self.service_request_id or self.token or "…"
