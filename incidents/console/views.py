"""The staff console: the map and list of reports in scope, a report's detail with its actions,
bulk actions, saved views and response templates. Views parse, authorize (access.py), call a
service (workflow.py, triage.py, clustering.py) and respond; out of scope is 404."""

from __future__ import annotations

import csv
import json
import re
from typing import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Collate
from django.http import Http404, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gis.maps import MARKERCLUSTER_CSS, MARKERCLUSTER_JS, base_map, lasso, render_parts, with_script
from gis.models import Area
from incidents.access import StaffScope, authorize_assignment, authorize_incident_status, lock_in_scope
from incidents.bulk import BULK_ACTIONS, MAX_BULK, BulkChange, apply_bulk_change
from incidents.console.access import report_in_scope, staff_required
from incidents.http.presentation import STATUS_STYLE, statuses
from incidents.incident_ops import merge_incidents, set_incident_status, split_report_from_incident
from incidents.models import Category, Department, Incident, Photo, Report, ReportEvent, ResponseTemplate, SavedView
from incidents.read.cells import report_cells
from incidents.read.csv import BOM, spreadsheet_safe
from incidents.read.geojson import feature_collection
from incidents.read.layers import areas_version
from incidents.read.sql import by_name, language
from incidents.read.staff import SORTS, export_rows, map_features, nearby_reports, report_list
from incidents.triage import (
    ACTING_ROLES,
    active_department_id,
    add_note,
    approve_photo,
    assign_report,
    reply_to_report,
    reroute_report,
    return_to_triage,
    set_report_priority,
)
from incidents.workflow import TRANSITIONS, Conflict, transition_report

User = get_user_model()
PUBLIC_ID = re.compile(r"[A-Za-z0-9-]{1,40}")

FILTER_NAMES = ("status", "category", "department", "area", "priority", "overdue", "escalated", "assigned",
                "created_after", "created_before", "q", "sort")


def _lang() -> str:
    return language()


def _filter_query(query: QueryDict) -> str:
    """The filters of a query string, without the cursor: what a saved view keeps."""
    return urlencode([(k, v) for k in FILTER_NAMES for v in query.getlist(k) if v], doseq=True)


@staff_required
def index(request):
    scope: StaffScope = request.scope
    try:
        page = report_list(request.GET, scope, _lang())
        errors = {}
    except ValidationError as exc:
        page, errors = None, exc.message_dict
    departments = Department.objects.filter(active=True).order_by(by_name())
    if scope.department_ids is not None:
        departments = departments.filter(pk__in=scope.department_ids)
    config = {
        "points_url": reverse("console-points"), "cells_url": reverse("console-cells"), "points_from_zoom": 14,
        "detail_url": "/console/r/", "statuses": statuses(),
        "refresh_seconds": 30,
        "text": {"overdue": _("overdue"), "zoom_in": _("Zoom in to see single reports."), "failed": _("The reports could not be loaded."), "open": _("Open report"),
                 "updated": _("Updated"), "reports": _("reports")},
    }
    # A read-only viewer is offered no action: no lasso, no selection, no bulk form.
    can_act = scope.acting_department_ids is None or bool(scope.acting_department_ids)
    m = with_script(lasso(base_map()) if can_act else base_map(), "Citypin.consoleMap(MAP)",
                    js=["citypin/citypin.js", "citypin/console.js"],
                    vendor_js=[MARKERCLUSTER_JS, "leaflet.heat/dist/leaflet-heat.js"], vendor_css=list(MARKERCLUSTER_CSS))
    filters = _filter_query(request.GET)
    return render(request, "console/index.html", {
        "wards_url": reverse("ward-layer", kwargs={"version": areas_version(), "zoom": 11}),
        "page": page, "errors": errors, "map": render_parts(m), "config": config,
        "categories": Category.objects.filter(active=True).order_by("group__order", "order", "code"),
        "departments": departments, "statuses": Report.Status, "priorities": Report.Priority,
        "wards": Area.objects.filter(kind=Area.Kind.WARD).order_by(by_name()).only("code", "name_vi", "name_en"),
        "sorts": [(k, v.label) for k, v in SORTS.items()], "q": request.GET,
        "chosen_statuses": request.GET.getlist("status") or ["open"],
        "saved_views": SavedView.objects.filter(user=request.user), "filters": filters,
        "next_url": f"?{filters}&cursor={page.next_cursor}" if page and page.next_cursor else None,
        "all_departments": Department.objects.filter(active=True).order_by(by_name()),
        "triage_departments": list(Department.objects.filter(is_operations_center=True, active=True)
                                   .values_list("code", flat=True)),
        "colleagues": _colleagues(scope.department_ids), "bulk_result": request.session.pop("bulk_result", None),
        "bulk_statuses": [s for s in Report.Status if s != Report.Status.NEW], "can_act": can_act,
    }, status=400 if errors else 200)


def _private_geojson(features: list[str], extra: str = "") -> HttpResponse:
    response = HttpResponse(feature_collection(features, extra), content_type="application/geo+json")
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
def points(request):
    """The map's GeoJSON: reports in scope matching the list's filters, in the map's bbox."""
    try:
        features, truncated = map_features(request.GET, request.scope, _lang())
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    return _private_geojson(features, f',"truncated":{"true" if truncated else "false"}')


@staff_required
def cells(request):
    """Grid counts for the zoomed-out map: same filters and scope as the points."""
    try:
        features = report_cells(request.GET, _lang(), scope=request.scope)
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    return _private_geojson(features)


EXPORT_COLUMNS = ["public_id", "created_at", "status", "priority", "category", "department", "ward", "address",
                  "description", "assigned_to", "acknowledge_due_at", "resolve_due_at", "overdue", "lon", "lat",
                  "reporter_name", "reporter_email", "reporter_phone"]


@staff_required
def export(request):
    """The list's filters as CSV (all pages, streamed), with contact data: staff only, in scope."""
    scope: StaffScope = request.scope
    try:
        rows = export_rows(request.GET, scope, _lang())
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield BOM
        yield writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            yield writer.writerow([spreadsheet_safe(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="citypin-reports-{timezone.localdate()}.csv"'
    return response


def _colleagues(department_ids: list[int] | None):
    """People who can be given work: the agents and managers of these departments (None: all)."""
    users = User.objects.filter(is_active=True, memberships__role__in=ACTING_ROLES)
    if department_ids is not None:
        users = users.filter(memberships__department_id__in=department_ids)
    return users.distinct().order_by("username")


def _templates_for(report: Report, transitions: list[str]) -> list[dict]:
    """The reply templates that fit this report: its department's and the shared ones, for its
    category or any, for its current status, a status it can move to, or any. Each with its
    text in both languages, placeholders filled, so the reply can be written in the citizen's."""
    templates = ResponseTemplate.objects.filter(active=True).filter(
        Q(department__isnull=True) | Q(department=report.department_id)).filter(
        Q(category__isnull=True) | Q(category=report.category_id)).filter(
        status__in=["", report.status, *transitions]).order_by(Collate("title", "vi_icu"), "id")
    names = {"vi": (report.category.name_vi, report.department.name_vi),
             "en": (report.category.name_en or report.category.name_vi,
                    report.department.name_en or report.department.name_vi)}
    result = []
    for t in templates:
        body = {}
        for lang, text in (("vi", t.body_vi), ("en", t.body_en or t.body_vi)):
            category, department = names[lang]
            body[lang] = (text.replace("{public_id}", report.public_id).replace("{category}", category)
                          .replace("{department}", department))
        result.append({"id": t.pk, "title": t.display_title, "status": t.status, "body": body})
    return result


def _detail_context(request, report: Report) -> dict:
    scope: StaffScope = request.scope
    events = report.events.select_related("actor", "department").order_by("created_at", "id")
    nearby = []
    if report.location is not None:
        nearby = nearby_reports(report, scope, _lang())
        for n in nearby:
            n["status_label"] = Report.Status(n["status"]).label
    incident_reports = (scope.reports().filter(incident_id=report.incident_id).exclude(pk=report.pk)
                        .select_related("category").order_by("created_at")[:50])
    attributes = []
    for attribute in report.category.attributes.all():
        if attribute.code in report.attributes:
            value = report.attributes[attribute.code]
            names = {str(v["key"]): v for v in attribute.values}
            shown = [names.get(str(v), {}).get(f"name_{_lang()}") or names.get(str(v), {}).get("name_vi") or v
                     for v in (value if isinstance(value, list) else [value])]
            attributes.append((attribute.name, ", ".join(str(v) for v in shown)))
    m = base_map(center=(report.location.x, report.location.y) if report.location else None,
                 zoom=17 if report.location else None)
    if report.location:
        with_script(m, f"Citypin.trackMap(MAP, {json.dumps([report.location.x, report.location.y])}, "
                       f"{json.dumps(STATUS_STYLE[report.status][0])})", js=["citypin/citypin.js"])
    return {
        "report": report, "events": events, "photos": report.photos.all(), "attributes": attributes,
        "nearby": nearby, "incident_reports": incident_reports, "map": render_parts(m),
        "status_style": STATUS_STYLE[report.status],
        "transitions": [Report.Status(s) for s in Report.Status.values if s in TRANSITIONS.get(report.status, ())],
        "templates": _templates_for(report, list(TRANSITIONS.get(report.status, ()))),
        "reply_language": report.language if report.language in ("vi", "en") else "vi",
        "can_act": scope.can_act(report.department_id), "can_manage": scope.can_manage(report.department_id),
        "colleagues": _colleagues([report.department_id]),
        "departments": Department.objects.filter(active=True).exclude(pk=report.department_id).order_by(by_name()),
        "priorities": Report.Priority, "routing_text": report.routing.get("text", {}).get(_lang(), ""),
        "now": timezone.now(), "suggested": report.suggested_incident_id,
        "wards_url": reverse("ward-layer", kwargs={"version": areas_version(), "zoom": 11}),
    }


@staff_required
def detail(request, public_id: str):
    report = report_in_scope(request.scope, public_id)
    return render(request, "console/detail.html", _detail_context(request, report))


@staff_required
def report_json(request, public_id: str):
    """A report for staff, contact data included: the console's API item (scope applies)."""
    r = report_in_scope(request.scope, public_id)
    return JsonResponse({
        "public_id": r.public_id, "status": r.status, "version": r.version, "priority": r.priority,
        "category": r.category.code, "department": r.department.code, "incident": r.incident_id,
        "location": {"type": "Point", "coordinates": [r.location.x, r.location.y]} if r.location else None,
        "location_accuracy_m": r.location_accuracy_m, "address": r.address, "description": r.description,
        "attributes": r.attributes, "routing": r.routing,
        "reporter": {"name": r.reporter_name, "email": r.reporter_email, "phone": r.reporter_phone},
        "assigned_to": r.assigned_to.get_username() if r.assigned_to else None,
        "created_at": r.created_at, "acknowledged_at": r.acknowledged_at,
        "acknowledge_due_at": r.acknowledge_due_at, "resolve_due_at": r.resolve_due_at,
        "escalated_at": r.escalated_at, "resolved_at": r.resolved_at,
        "photos": [{"url": reverse("photo", args=[p.uuid]), "public": p.is_public} for p in r.photos.all()],
        "events": [{"kind": e.kind, "at": e.created_at, "actor": e.actor.get_username() if e.actor else None,
                    "from_status": e.from_status, "to_status": e.to_status, "message": e.message,
                    "public": e.is_public} for e in r.events.select_related("actor").order_by("created_at", "id")],
    })


def _version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _act(request, public_id: str, action: Callable[[Report, int | None], object], done: str,
         versioned: bool = True):
    """Run one action on a report in scope: a conflict or an invalid input re-renders the page
    with the message and the current state (nothing is saved); success redirects."""
    report = report_in_scope(request.scope, public_id)
    if not request.scope.can_act(report.department_id):
        raise PermissionDenied(_("Your role in this department is read-only."))
    try:
        version = _version(request)
        if versioned and version is None:  # the forms always send the version the actor saw
            raise ValidationError({"version": [_("Reload the page and try again.")]})
        with transaction.atomic():
            lock_in_scope(request.scope, report.pk)
            action(report, version)
    except Conflict as exc:
        current = report_in_scope(request.scope, public_id) if request.scope.can_see(exc.current.department_id) else None
        if current is None:
            messages.error(request, _("Someone else sent this report to another department meanwhile."))
            return redirect("console")
        context = _detail_context(request, current)
        last = current.events.exclude(kind=ReportEvent.Kind.NOTE).select_related("actor").order_by("-created_at", "-id").first()
        context["conflict"] = {"by": last.actor.get_username() if last and last.actor else _("someone"),
                               "at": last.created_at if last else current.updated_at,
                               "what": last.get_kind_display() if last else ""}
        context["posted"] = request.POST
        return render(request, "console/detail.html", context, status=409)
    except ValidationError as exc:
        context = _detail_context(request, report)
        context["action_errors"] = exc.message_dict
        context["posted"] = request.POST
        return render(request, "console/detail.html", context, status=400)
    messages.success(request, done)
    if not request.scope.can_see(Report.objects.values_list("department_id", flat=True).get(pk=report.pk)):
        return redirect("console")  # handed to a department outside the scope
    return redirect("console-report", public_id=public_id)


@require_POST
@staff_required
def change_status(request, public_id: str):
    """The report's status; with "whole_incident", every report of its incident (one public
    event and one notice per report), checked against the incident's version."""
    to, message = request.POST.get("status", ""), request.POST.get("message", "")

    def action(r, v):
        if not request.POST.get("whole_incident"):
            return transition_report(r.pk, to, actor=request.user, message=message, expected_version=v)
        authorize_incident_status(request.scope, r.incident_id)
        try:
            incident_version = int(request.POST.get("incident_version", ""))
        except ValueError:
            raise ValidationError({"incident_version": [_("Reload the page and try again.")]}) from None
        change = set_incident_status(r.incident_id, to, actor=request.user, message=message,
                                     expected_version=incident_version)
        if change.skipped:
            messages.warning(request, _("Not changed, their status does not allow it: %(ids)s.") % {
                "ids": ", ".join(f"{public_id} ({status})" for public_id, status in change.skipped.items())})
        return change

    return _act(request, public_id, action, _("Status changed."))


@require_POST
@staff_required
def acknowledge(request, public_id: str):
    return _act(request, public_id, lambda r, v: transition_report(
        r.pk, Report.Status.ACKNOWLEDGED, actor=request.user, message=request.POST.get("message", ""),
        expected_version=v), _("Acknowledged."))


@require_POST
@staff_required
def assign(request, public_id: str):
    raw = request.POST.get("assignee", "")

    def action(r, v):
        if raw == "me":
            assignee = request.user.pk
        elif raw == "":
            assignee = None
        else:
            try:
                assignee = int(raw)
            except ValueError:
                raise ValidationError({"assignee": [_("Choose a colleague.")]}) from None
        authorize_assignment(request.scope, r, assignee)
        return assign_report(r.pk, assignee, actor=request.user, expected_version=v)

    return _act(request, public_id, action, _("Assignment saved."))


@require_POST
@staff_required
def priority(request, public_id: str):
    def action(r, v):
        try:
            value = int(request.POST.get("priority", ""))
        except ValueError:
            raise ValidationError({"priority": [_("Choose a priority.")]}) from None
        return set_report_priority(r.pk, value, actor=request.user, expected_version=v)

    return _act(request, public_id, action, _("Priority saved."))


@require_POST
@staff_required
def reroute(request, public_id: str):
    def action(r, v):
        reason = request.POST.get("reason", "")
        if request.POST.get("mode") == "not_ours":
            return return_to_triage(r.pk, reason, actor=request.user, expected_version=v)
        if request.POST.get("mode") == "rules":
            return reroute_report(r.pk, None, reason, actor=request.user, expected_version=v, by_rules=True)
        return reroute_report(r.pk, active_department_id(request.POST.get("department", "")), reason, actor=request.user, expected_version=v)

    return _act(request, public_id, action, _("Rerouted."))


@require_POST
@staff_required
def reply(request, public_id: str):
    return _act(request, public_id, lambda r, v: reply_to_report(
        r.pk, request.POST.get("message", ""), actor=request.user, expected_version=v), _("Reply sent."))


@require_POST
@staff_required
def note(request, public_id: str):
    return _act(request, public_id, lambda r, v: add_note(r.pk, request.POST.get("note", ""), actor=request.user),
                _("Note added."), versioned=False)


@require_POST
@staff_required
def photo_visibility(request, public_id: str, uuid: str):
    def action(r, v):
        photo = Photo.objects.filter(report=r, uuid=uuid).first()
        if photo is None:
            raise Http404
        return approve_photo(photo.pk, actor=request.user, public=request.POST.get("public") == "1")

    return _act(request, public_id, action, _("Photo visibility saved."), versioned=False)


@require_POST
@staff_required
def split(request, public_id: str):
    return _act(request, public_id, lambda r, v: split_report_from_incident(r.pk, actor=request.user),
                _("The report is now an incident of its own."), versioned=False)


@require_POST
@staff_required
def merge(request, public_id: str):
    def action(r, v):
        try:
            target = int(request.POST.get("incident", ""))
        except ValueError:
            raise ValidationError({"incident": [_("Give the number of the incident to merge into.")]}) from None
        if not Incident.objects.filter(pk=target).exists():
            raise ValidationError({"incident": [_("No incident #%(id)s.") % {"id": target}]})
        return merge_incidents(target, [r.incident_id], actor=request.user,
                               departments=request.scope.acting_department_ids)

    return _act(request, public_id, action, _("Merged."), versioned=False)


@require_POST
@staff_required
def bulk(request):
    """One action on many reports, each in its own transaction; the result lists what failed."""
    scope: StaffScope = request.scope
    post = request.POST
    ids = _bulk_ids(post)
    back = reverse("console") + "?" + _filter_query(QueryDict(post.get("filters", "")[:2000]))
    change = BulkChange(post.get("action", ""), assignee=post.get("assignee", ""), status=post.get("status", ""),
                        message=post.get("message", ""), department=post.get("department", ""),
                        reason=post.get("reason", ""))
    if change.action not in BULK_ACTIONS or not ids:
        messages.error(request, _("Select reports and an action."))
        return redirect(back)
    if len(ids) > MAX_BULK:
        messages.error(request, _("At most %(n)s reports at once; %(m)s were selected.") % {"n": MAX_BULK, "m": len(ids)})
        return redirect(back)
    found = {r.public_id: r for r in scope.reports().filter(public_id__in=ids).select_related("department")}
    result = apply_bulk_change(change, list(found.values()), scope=scope, actor=request.user)
    failed = {i: _("Not found.") for i in ids if i not in found} | result.failed
    request.session["bulk_result"] = {"done": result.done, "failed": failed, "action": change.action,
                                      "found": list(found)}
    if result.done:
        messages.success(request, _("%(n)s reports changed.") % {"n": len(result.done)})
    if failed:
        messages.error(request, _("%(n)s reports were not changed; see below.") % {"n": len(failed)})
    return redirect(back)


def _bulk_ids(post: QueryDict) -> list[str]:
    """The selected public ids, once each and in order; anything else cannot be a report number."""
    ids = dict.fromkeys(v.strip() for raw in post.getlist("ids") for v in raw.split(",") if v.strip())
    return [i for i in ids if PUBLIC_ID.fullmatch(i)]


@require_POST
@staff_required
def save_view(request):
    name = request.POST.get("name", "").strip()
    query = QueryDict(request.POST.get("filters", "")[:2000])
    if not name or len(name) > 80 or "\x00" in name:
        messages.error(request, _("Give the view a name of at most %(n)s characters.") % {"n": 80})
    else:
        filters = _filter_query(query)
        if len(filters) > SavedView._meta.get_field("query").max_length:
            messages.error(request, _("These filters are too long to save."))
            return redirect("console")
        try:
            SavedView.objects.update_or_create(user=request.user, name=name, defaults={"query": filters})
            messages.success(request, _("View \"%(name)s\" saved.") % {"name": name})
        except IntegrityError:
            messages.error(request, _("The view could not be saved."))
    return redirect(reverse("console") + "?" + _filter_query(query)[:2000])


@require_POST
@staff_required
def delete_view(request, view_id: int):
    get_object_or_404(SavedView, pk=view_id, user=request.user).delete()
    messages.success(request, _("View deleted."))
    return redirect("console")


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ResponseTemplate
        fields = ["title", "title_en", "department", "category", "status", "body_vi", "body_en", "active"]
        widgets = {"body_vi": forms.Textarea(attrs={"rows": 4}), "body_en": forms.Textarea(attrs={"rows": 4})}

    status = forms.ChoiceField(label=gettext_lazy("For status"), required=False,
                               choices=[("", gettext_lazy("any status")), *Report.Status.choices])

    def __init__(self, *args, scope: StaffScope, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(active=True)
        if scope.managed_department_ids is not None:  # a department's manager keeps its own templates
            departments = departments.filter(pk__in=scope.managed_department_ids)
            self.fields["department"].required = True
            # No "every department" choice to start from: the form would refuse it.
            self.fields["department"].empty_label = None
            if not self.instance.pk and departments:
                self.initial.setdefault("department", departments.order_by(by_name()).first().pk)
        else:
            self.fields["department"].empty_label = gettext_lazy("every department (shared)")
        self.fields["department"].queryset = departments.order_by(by_name())
        self.fields["category"].queryset = Category.objects.filter(active=True).order_by(by_name())
        self.fields["title"].label = gettext_lazy("Title (Vietnamese)")
        self.fields["category"].empty_label = gettext_lazy("every category")


@staff_required
def templates(request, template_id: int | None = None):
    """Response templates: managers edit their departments' ones; IOC managers every one."""
    scope: StaffScope = request.scope
    if not scope.is_manager:
        raise Http404
    mine = ResponseTemplate.objects.select_related("department", "category").order_by(Collate("title", "vi_icu"), "id")
    if scope.managed_department_ids is not None:
        mine = mine.filter(department_id__in=scope.managed_department_ids)
    instance = get_object_or_404(mine, pk=template_id) if template_id else None
    form = TemplateForm(request.POST or None, instance=instance, scope=scope)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Template saved."))
        return redirect("console-templates")
    shared = (ResponseTemplate.objects.filter(department__isnull=True, active=True).select_related("category")
              if scope.managed_department_ids is not None else [])
    return render(request, "console/templates.html", {"form": form, "templates": mine, "editing": instance,
                                                      "shared": shared},
                  status=400 if request.method == "POST" else 200)
