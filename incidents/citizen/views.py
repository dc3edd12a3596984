"""Citizen pages: the public map, the report form, the tracking page. Views parse, call a
service or selector, and render; the rules live in services.py and workflow.py."""

from __future__ import annotations

import json
import re
import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gis.maps import MARKERCLUSTER_CSS, MARKERCLUSTER_JS, base_map, render_parts, with_script
from gis.models import Area
from incidents.access import staff_scope
from incidents.citizen import pending
from incidents.citizen.forms import ReopenForm, ReportForm, SupportForm
from incidents.citizen.layers import ward_layer_url
from incidents.http.browser import browser_id
from incidents.http.idempotency import once
from incidents.http.presentation import STATUS_STYLE, statuses
from incidents.http.ratelimit import ReopenThrottle, ReportSubmitThrottle, SupportThrottle, allowed
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Category, CategoryAttribute, Photo, Report
from incidents.photos import MAX_PHOTOS, CleanPhoto, clean_photo
from incidents.read.reports import report_feature
from incidents.read.sql import by_name, language
from incidents.routing import public_reason
from incidents.workflow import can_reopen, reopen_by_citizen, support_report


def active_categories() -> list[Category]:
    return list(Category.objects.filter(active=True).select_related("group")
                .prefetch_related(Prefetch("attributes", CategoryAttribute.objects.order_by("order", "code")))
                .order_by("group__order", "order", "code"))


def public_map(request):
    categories = active_categories()
    config = {
        "reports_url": reverse("api-reports"), "aggregate_url": reverse("api-report-aggregates"),
        "hotspots_url": reverse("api-hotspots"),
        "track_url": "/r/", "statuses": statuses(), "points_from_zoom": 14, "max_points": 2000,
        "text": {"reports": _("reports"), "open": _("open"), "supporters": _("supporters"),
                 "details": _("Details"), "zoom_in": _("Zoom in to see single reports."),
                 "loading": _("Loading…"), "failed": _("The reports could not be loaded."),
                 "hotspot": _("Hotspot"), "previous": _("Reports in the 30 days before")},
    }
    m = with_script(base_map(), "Citypin.publicMap(MAP)", js=["citypin/citypin.js"],
                    vendor_js=[MARKERCLUSTER_JS], vendor_css=list(MARKERCLUSTER_CSS))
    return render(request, "citypin/map.html", {
        "wards_url": ward_layer_url(),
        "map": render_parts(m), "config": config, "categories": categories, "statuses": statuses()})


def report_create(request):
    """The report form. Each rendering carries a one-time submission token: sending the same
    page twice (a double tap, a resend after a lost answer) creates one report, and the second
    send is redirected to it like the first."""
    throttled = request.method == "POST" and not allowed(request, ReportSubmitThrottle)
    submission = request.POST.get("submission", "") if request.method == "POST" else ""
    if not VALID_SUBMISSION.match(submission):
        return _report_form(request, throttled, secrets.token_urlsafe(24))
    request.replay_safe = True  # an outage mid-write may run it again (http/outage.py)
    return once("web-report", submission, submission, lambda: _report_form(request, throttled, submission),
                refuse=lambda message: HttpResponseBadRequest(message),
                succeeded=lambda response: response.status_code == 302)


VALID_SUBMISSION = re.compile(r"^[A-Za-z0-9_-]{32}$")  # secrets.token_urlsafe(24)


def _report_form(request, throttled: bool, submission: str):
    categories = active_categories()
    wards = list(Area.objects.filter(kind=Area.Kind.WARD).order_by(by_name()))
    form = ReportForm(request.POST or None, request.FILES or None, categories=categories, wards=wards)
    photo_location = None
    token = request.POST.get("photo_token", "") if request.method == "POST" else ""
    kept = pending.load(request, token)
    if request.method == "POST":
        if throttled:
            form.add_error(None, _("Too many reports from your connection. Please try again in an hour."))
        elif form.data.get("website"):
            form.add_error(None, _("This report could not be accepted."))
        else:
            kept = _photos(request, form, kept, token)
            if form.is_valid():
                report, photo_location = _submit(request, form, [k.photo for k in kept])
                if report is not None:
                    pending.discard(request, token)
                    request.session["submitted"] = report.public_id  # this browser sees the confirmation once
                    # Reports sent from this browser: not offered "me too" on them.
                    request.session["mine"] = [*request.session.get("mine", [])[-49:], report.public_id]
                    return redirect("track", public_id=report.public_id)
            # Refused: what was attached waits under a new token, so it is never attached again.
            token = pending.keep(request, kept, token) if kept else ""
    config = {
        "nearby_url": reverse("api-reports-nearby"), "supporters_url": "/api/v1/reports/{id}/supporters/",
        "places_url": reverse("api-places"), "street_zoom": 17,
        "track_url": "/r/", "statuses": statuses(), "photo_location": photo_location,
        "radius": {c.code: c.duplicate_radius_m for c in categories},
        "text": {"use_photo": _("Use the location where the photo was taken"),
                 "support": _("This is it: support it"), "supported": _("Thank you: your support was counted."),
                 "already": _("You already support this report. Thank you!"),
                 "none": _("No open report of this kind nearby. Yours will be new."),
                 "similar": _("Already reported nearby? Check before sending:"),
                 "m_away": _("m away"), "days_old": _("days old"), "today": _("today"),
                 "geolocation_failed": _("Your location could not be found; tap the map instead."),
                 "accuracy": _("accuracy"), "pin_set": _("Pin set at"), "supporters": _("supporters"),
                 "email_optional": _("E-mail to follow updates (optional)"),
                 "draft_restored": _("Your unfinished report was restored."),
                 "pin_at": _("Pin at"), "now_tap": _("Now tap the exact place on the map."),
                 "no_place": _("No ward or road of that name."),
                 "start_over": _("Start over")},
    }
    browser_id(request)  # hand out the id that one-support-per-browser relies on
    m = with_script(base_map(), "Citypin.reportForm(MAP)", js=["citypin/citypin.js"],
                    vendor_js=["exifr/dist/lite.umd.js"])
    return render(request, "citypin/report_form.html", {
        "wards_url": ward_layer_url(),
        "form": form, "map": render_parts(m), "config": config, "attribute_sets": form.bound_attribute_sets(),
        "error_summary": form.error_summary() if form.is_bound else [], "photo_token": token if kept else "",
        "kept_photos": [k.name for k in kept], "submission": submission})


def _photos(request, form: ReportForm, kept: list[pending.KeptPhoto], token: str) -> list[pending.KeptPhoto]:
    """The photos of this submission: those kept from the last try (unless the citizen removed
    them) and the new uploads that are good images, cleaned. Refused uploads are named on the
    photos field; the good ones are kept all the same."""
    if form.data.get("drop_photos"):
        pending.discard(request, token)
        kept = []
    uploads = request.FILES.getlist("photos")
    if len(kept) + len(uploads) > MAX_PHOTOS:
        form.add_error("photos", _("At most %(n)s photos.") % {"n": MAX_PHOTOS})
        return kept
    photos = list(kept)
    for index, upload in enumerate(uploads, len(kept) + 1):
        try:
            photos.append(pending.KeptPhoto(getattr(upload, "name", "")[:80], clean_photo(upload, index)))
        except ValidationError as exc:
            for message in exc.message_dict["photos"]:
                form.add_error("photos", message)
    return photos


def _submit(request, form: ReportForm, photos: list[CleanPhoto]):
    """Returns (report, None) on success; (None, photo location to offer) otherwise, with the
    errors added to the form."""
    data = form.cleaned_data
    located = data["lat"] is not None or data["lon"] is not None
    gps = next((p.gps for p in photos if p.gps), None)
    if not located and gps and not data["ward"] and not data["address"]:
        # No pin but the photo knows where it was taken: offer it, never use it silently.
        form.add_error("lat", _("Your photo says where it was taken; the pin is set there. Check it and send "
                                "again (your photos are kept)."))
        form.data = form.data.copy()
        form.data["lon"], form.data["lat"] = f"{gps[0]:.6f}", f"{gps[1]:.6f}"
        return None, {"lon": gps[0], "lat": gps[1]}
    draft = ReportDraft(
        category_code=data["category"], lon=data["lon"], lat=data["lat"],
        location_accuracy_m=data["location_accuracy_m"], address=data["address"], description=data["description"],
        attributes=form.attributes_for(data["category"]),
        reporter=Reporter(name=data["name"], email=data["email"], phone=data["phone"]),
        source=Report.Source.WEB, reporter_ip=request.META.get("REMOTE_ADDR"), ward_code=data["ward"],
        photos=photos, language=language())
    if located and (data["lat"] is None or data["lon"] is None):
        form.add_error("lat", _("Give both latitude and longitude, or pick a ward."))
        return None, None
    try:
        return submit_report(draft), None
    except ValidationError as exc:
        form.add_service_errors(exc.message_dict, data["category"])
        return None, None


def track(request, public_id: str):
    report = get_object_or_404(Report.objects.select_related("category", "department", "ward"), public_id=public_id)
    browser_id(request)
    submitted = request.session.pop("submitted", None) == report.public_id
    events = report.events.filter(is_public=True).select_related("department").order_by("created_at", "id")
    feature = json.loads(_feature(report))
    m = base_map(center=tuple(feature["geometry"]["coordinates"]) if feature["geometry"] else None,
                 zoom=17 if feature["geometry"] else None)
    if feature["geometry"]:
        with_script(m, f"Citypin.trackMap(MAP, {json.dumps(feature['geometry']['coordinates'])}, "
                       f"{json.dumps(STATUS_STYLE[report.status][0])})", js=["citypin/citypin.js"])
    return render(request, "citypin/track.html", {
        "wards_url": ward_layer_url(),
        "report": report, "feature": feature["properties"], "has_location": feature["geometry"] is not None,
        "events": events, "map": render_parts(m),
        "status_style": STATUS_STYLE[report.status], "submitted": submitted,
        "can_reopen": can_reopen(report), "support_form": SupportForm(), "reopen_form": ReopenForm(),
        "is_mine": report.public_id in request.session.get("mine", []),
        "photos_awaiting": report.photos.filter(is_public=False).count() if submitted else 0,
        "routing_text": public_reason(report.routing, "name_en" if language() == "en" else "name_vi"),
    })


def _feature(report: Report) -> str:
    return report_feature(report.public_id, get_language())


def flash_errors(request, exc: ValidationError) -> None:
    for errors in exc.message_dict.values():
        for message in errors:
            messages.error(request, message)


@require_POST
def support(request, public_id: str):
    report = get_object_or_404(Report, public_id=public_id)
    form = SupportForm(request.POST)
    if not allowed(request, SupportThrottle):
        messages.error(request, _("Too many requests from your connection. Please try again later."))
    elif not browser_id(request, create=False):
        messages.error(request, _("Open the report's page first (your browser must accept cookies)."))
    elif form.is_valid():
        try:
            support_report(report, email=form.cleaned_data["email"], browser=browser_id(request, create=False),
                           ip=request.META.get("REMOTE_ADDR"))
            messages.success(request, _("Thank you: your support was counted."))
        except ValidationError as exc:
            flash_errors(request, exc)
    else:
        messages.error(request, _("Enter a valid e-mail address."))
    return redirect("track", public_id=public_id)


@require_POST
def reopen(request, public_id: str):
    report = get_object_or_404(Report, public_id=public_id)
    form = ReopenForm(request.POST)
    if not allowed(request, ReopenThrottle):
        messages.error(request, _("Too many requests from your connection. Please try again later."))
    elif form.is_valid():
        try:
            reopen_by_citizen(report, form.cleaned_data["comment"])
            messages.success(request, _("The report is open again and back with the department."))
        except ValidationError as exc:
            flash_errors(request, exc)
    else:
        messages.error(request, _("Tell the department what is still wrong."))
    return redirect("track", public_id=public_id)


def photo(request, uuid: str, thumbnail: bool = False):
    """A photo: public once staff approved it; before that, only to staff whose scope holds
    its report (404 to everyone else)."""
    item = Photo.objects.filter(uuid=uuid).select_related("report").first()
    if item is None:
        raise Http404
    if not item.is_public:
        scope = staff_scope(request.user)
        if scope is None or not scope.can_see(item.report.department_id):
            raise Http404
    file = item.thumbnail if thumbnail else item.image
    response = FileResponse(file.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "public, max-age=300" if item.is_public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
