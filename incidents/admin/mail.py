"""The admin of notices (registered by incidents.admin): mail templates per event and language,
checked on save and previewed before saving; who is told what (NotificationRule); and the
citizens' unsubscriptions (read-only: an address is only a keyed hash there)."""

from __future__ import annotations

from django import forms
from django.contrib.gis import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.delivery.email import build_email
from incidents.mailing import VARIABLES, check_template, preview
from incidents.models import MessageTemplate, NotificationRule, OutboxMessage, Report, Unsubscription


def variables_help(event: str) -> str:
    names = ["site_url"]
    for key, value in VARIABLES[event].items():
        names += [f"{key}.{sub}" for sub in value] if isinstance(value, dict) else [key]
    return ", ".join(names)


class CheckedTemplate:
    """A form's subject and body checked as a template of its event (mailing.check_template)."""

    def clean(self):
        data = super().clean()
        if data.get("event") and "subject" in data and "body" in data:
            for field, problem in check_template(data["event"], data["subject"], data["body"]).items():
                self.add_error(field, problem)
        return data


class MessageTemplateForm(CheckedTemplate, forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "language", "subject", "body"]
        help_texts = {"body": gettext_lazy(
            "Django template syntax, plain text (the HTML version is made from it). The variables each event "
            "offers are listed on the preview.")}



class PreviewForm(CheckedTemplate, forms.Form):
    event = forms.ChoiceField(label=gettext_lazy("event"), choices=MessageTemplate._meta.get_field("event").choices)
    language = forms.ChoiceField(label=gettext_lazy("language"),
                                 choices=MessageTemplate._meta.get_field("language").choices)
    subject = forms.CharField(label=gettext_lazy("subject"), max_length=200)
    body = forms.CharField(label=gettext_lazy("text"), widget=forms.Textarea(attrs={"rows": 12, "cols": 90}))
    report = forms.CharField(label=gettext_lazy("report"), required=False, max_length=40, help_text=gettext_lazy(
        "A report's public id to render it with; empty: a made-up sample."))

    def clean_report(self):
        public_id = self.cleaned_data["report"].strip()
        if not public_id:
            return None
        report = Report.objects.select_related("category", "department").filter(public_id=public_id).first()
        if report is None:
            raise forms.ValidationError(_("No report has this id."))
        return report



@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """A template here replaces the built-in one for its event and language; delete it to go back."""

    form = MessageTemplateForm
    list_display = ["event", "language", "subject", "updated_at"]
    list_filter = ["event", "language"]
    search_fields = ["subject", "body"]
    change_form_template = "admin/incidents/messagetemplate/change_form.html"

    def get_urls(self):
        return [path("preview/", self.admin_site.admin_view(self.preview_view), name="incidents_messagetemplate_preview"),
                *super().get_urls()]

    def preview_view(self, request):
        """Render a template (the change form's unsaved fields, or a saved row by ?template=)
        against a sample or a chosen report: subject, text and HTML, nothing saved or sent."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = PreviewForm(request.POST)
        elif "template" in request.GET:
            row = MessageTemplate.objects.filter(pk=request.GET["template"]).first() if (
                request.GET["template"].isdigit()) else None
            form = PreviewForm({"event": row.event, "language": row.language, "subject": row.subject,
                                "body": row.body, "report": request.GET.get("report", "")} if row else None)
        else:
            form = PreviewForm(initial={"event": request.GET.get("event", "status"), "language": "vi"})
        result = html = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            result = preview(data["event"], data["language"], data["subject"], data["body"], data["report"])
            message = OutboxMessage(recipient="preview@example.invalid", subject=result.subject, body=result.body,
                                    headers={"Content-Language": data["language"]})
            html = build_email(message).alternatives[0][0]
        event = form.data.get("event") if form.is_bound else form.initial.get("event")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": _("Preview of a mail template"), "result": result, "html": html,
                   "variables": variables_help(event) if event in VARIABLES else ""}
        return TemplateResponse(request, "admin/incidents/messagetemplate/preview.html", context)


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    """Who is told of an event for a department and/or a category; the most specific rule wins,
    and without one Citypin's defaults apply (see the README)."""

    list_display = ["event", "department", "category", "to_department", "to_reporter", "to_supporters",
                    "to_operations_center", "milestone_every", "active"]
    list_filter = ["event", "active", "department"]
    autocomplete_fields = ["department", "category"]


@admin.register(Unsubscription)
class UnsubscriptionAdmin(admin.ModelAdmin):
    """Read-only: who asked for no more mail, as a keyed hash of the address."""

    list_display = ["created_at", "report", "one_click"]
    list_filter = ["one_click"]
    search_fields = ["report__public_id"]
    fields = ["report", "created_at", "one_click"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
