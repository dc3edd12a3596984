from django import forms
from django.contrib import messages
from django.contrib.admin import SimpleListFilter
from django.contrib.gis import admin
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gis.admin import MapAdmin
from incidents.admin import mail  # noqa: F401 - registers the notices' admin (mail templates, rules)
from incidents.categories import save_category
from incidents.delivery.open311_poll import poll_open311
from incidents.delivery.outbox import retry_messages
from incidents.delivery.webhook import UnsafeURL, check_url
from incidents.models import (
    ApiKey,
    CalendarDay,
    Category,
    CategoryAttribute,
    CategoryGroup,
    Department,
    Open311Endpoint,
    Open311Forward,
    Open311Service,
    OutboxMessage,
    Report,
    ReportEvent,
    ResponseTemplate,
    RoutingRule,
    StaffMembership,
    WebhookEndpoint,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en", "is_operations_center", "active"]
    list_filter = ["is_operations_center", "active"]
    search_fields = ["code", "name_vi", "name_en"]
    autocomplete_fields = ["jurisdiction"]


class AttributeInline(admin.TabularInline):
    model = CategoryAttribute
    extra = 0
    fields = ["order", "code", "name_vi", "name_en", "datatype", "required", "values", "min_value", "max_value"]


@admin.register(CategoryGroup)
class CategoryGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en", "order"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en", "group", "duplicate_radius_m", "target_resolve_hours", "active"]
    list_filter = ["group", "active", "allow_anonymous"]
    search_fields = ["code", "name_vi", "name_en", "keywords"]
    inlines = [AttributeInline]

    def save_model(self, request, obj, form, change):
        save_category(obj)  # the published points follow a new public location precision


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "category", "category_group", "department", "priority", "buffer_m", "active",
                    "valid_from", "valid_until"]
    list_filter = ["kind", "active", "department", "category_group", "category"]
    search_fields = ["name"]
    autocomplete_fields = ["area", "department"]
    list_editable = ["priority", "active"]


class EventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "from_status", "to_status", "department", "message", "is_public"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(MapAdmin):
    list_display = ["public_id", "category", "status", "department", "ward", "created_at"]
    list_filter = ["status", "category", "source"]
    search_fields = ["public_id", "description", "address"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "department", "ward"]
    raw_id_fields = ["ward", "routing_rule"]
    inlines = [EventInline]

    # Reports change only through the workflow services, which write an event with every
    # change; the admin shows them and does not edit them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    autocomplete_fields = ["department"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """One key per client application. The key is made here and shown once, on the page after
    saving; only its hash is kept. Revoking keeps the row, so its reports still name it."""

    list_display = ["name", "prefix", "active", "created_at", "revoked_at", "report_count"]
    list_filter = ["active"]
    search_fields = ["name", "contact", "prefix"]
    fields = ["name", "contact", "prefix", "active", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "active", "created_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reports=Count("submissions"))

    @admin.display(description=_("reports sent"), ordering="reports")
    def report_count(self, key: ApiKey) -> int:
        return key.reports

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the reports a key sent keep naming their client

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = ApiKey.issue(obj.name, contact=obj.contact)
        obj.pk, obj.prefix = key.pk, key.prefix
        messages.warning(request, format_html(
            _("The API key for {name} is <code class=\"api-key\">{key}</code>. Copy it now: it is shown only "
              "this once."), name=key.name, key=raw))

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset) -> None:
        keys = list(queryset.filter(active=True))
        for key in keys:
            key.revoke()
        self.message_user(request, ngettext("%(n)d key revoked.", "%(n)d keys revoked.", len(keys)) % {"n": len(keys)})


class OutboxStateFilter(SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("pending", gettext_lazy("pending")), ("sent", gettext_lazy("sent")),
                ("dead", gettext_lazy("dead (given up)"))]

    def queryset(self, request, queryset):
        return {"pending": queryset.filter(sent_at__isnull=True, failed_at__isnull=True),
                "sent": queryset.filter(sent_at__isnull=False),
                "dead": queryset.filter(sent_at__isnull=True, failed_at__isnull=False)}.get(self.value(), queryset)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: messages are written by the domain. Dead ones (given up after the last attempt)
    can be sent again from here once their cause is fixed."""

    list_display = ["created_at", "channel", "recipient", "subject", "attempts", "send_after", "sent_at", "failed_at",
                    "last_error"]
    list_filter = [OutboxStateFilter, "channel"]
    search_fields = ["recipient", "subject"]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("incidents.change_outboxmessage")

    @admin.action(description=gettext_lazy("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        n = retry_messages(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(n)d message will be sent again now.",
                                            "%(n)d messages will be sent again now.", n) % {"n": n})


class WebhookEndpointForm(forms.ModelForm):
    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURL as error:
            raise forms.ValidationError(str(error)) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """A department's system that gets signed JSON POSTs; the secret is what it verifies them with."""

    form = WebhookEndpointForm
    list_display = ["department", "url", "active"]
    list_filter = ["active", "department"]
    search_fields = ["url", "department__code"]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "department", "category", "status", "active"]
    list_filter = ["active", "department", "status"]
    search_fields = ["title", "body_vi", "body_en"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Closures and make-up working days; public holidays come from the `holidays` package."""

    list_display = ["date", "is_working_day", "name"]
    date_hierarchy = "date"


class Open311EndpointForm(forms.ModelForm):
    """The model's clean() checks the key variable and the status mapping, each naming its field."""

    def clean_base_url(self):
        url = self.cleaned_data["base_url"]
        try:
            check_url(url)
        except UnsafeURL as error:
            raise forms.ValidationError(str(error)) from None
        return url if url.endswith("/") else url + "/"


class Open311ServiceInline(admin.TabularInline):
    model = Open311Service
    extra = 1


@admin.register(Open311Endpoint)
class Open311EndpointAdmin(admin.ModelAdmin):
    """A department's own system that takes its reports over Open311 (GeoReport v2) and whose
    statuses come back; the key stays in the environment (see the README)."""

    form = Open311EndpointForm
    inlines = [Open311ServiceInline]
    list_display = ["department", "base_url", "active", "updates_public", "last_polled_at", "last_poll_error"]
    list_filter = ["active"]
    readonly_fields = ["last_polled_at", "last_poll_error"]
    actions = ["poll_now"]

    @admin.action(description=gettext_lazy("Poll the statuses now"))
    def poll_now(self, request, queryset):
        result = poll_open311(force=True, only=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(changed)d reports changed; %(failed)d back offices failed (see their last "
                                     "polling error).") % {"changed": result.changed, "failed": result.failed},
                          messages.WARNING if result.failed else messages.SUCCESS)


@admin.register(Open311Forward)
class Open311ForwardAdmin(admin.ModelAdmin):
    """Read-only: which report went to which back office, under which id, and its status there."""

    list_display = ["report", "endpoint", "service_code", "service_request_id", "remote_status", "forwarded_at"]
    list_filter = ["endpoint", "remote_status"]
    search_fields = ["report__public_id", "service_request_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
