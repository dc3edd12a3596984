"""Area alerts in the citizen face: the subscribe page (a ward, a circle around a tapped point,
or a polygon drawn on the map), the confirmation page of the double opt-in, and the
unsubscribe page (a GET shows a button; a POST, also the one-click POST of RFC 8058 that mail
programs send without a CSRF token, unsubscribes). The rules are incidents/alerts.py's."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gis.maps import base_map, lasso, render_parts, with_script
from gis.models import Area
from incidents.alert_mails import describe
from incidents.alerts import (
    AlertRequest,
    alert_to_unsubscribe,
    confirm_alert,
    pending_alert,
    subscribe_alert,
    unsubscribe_alert,
)
from incidents.citizen.layers import ward_layer_url
from incidents.http.ratelimit import AlertSubscribeThrottle, allowed
from incidents.models import AreaAlert, Category
from incidents.read.sql import by_name


class AlertForm(forms.Form):
    """Only parses and renders; subscribe_alert checks and its errors land on these fields."""

    kind = forms.ChoiceField(label=gettext_lazy("Which area?"), choices=AreaAlert.Kind.choices, required=False,
                             widget=forms.RadioSelect, initial=AreaAlert.Kind.WARD)
    ward = forms.ChoiceField(label=gettext_lazy("Ward"), required=False)
    lat = forms.CharField(label=gettext_lazy("Latitude of the centre"), required=False,
                          widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lon = forms.CharField(label=gettext_lazy("Longitude of the centre"), required=False,
                          widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    radius_m = forms.CharField(label=gettext_lazy("Radius (metres)"), required=False, initial=500,
                               widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 50}))
    area = forms.CharField(required=False, widget=forms.HiddenInput)
    category = forms.ChoiceField(label=gettext_lazy("Which kind of problem?"), required=False)
    frequency = forms.ChoiceField(label=gettext_lazy("How often?"), choices=AreaAlert.Frequency.choices,
                                  required=False, widget=forms.RadioSelect, initial=AreaAlert.Frequency.IMMEDIATE)
    email = forms.CharField(label=gettext_lazy("Your e-mail address"), required=False, max_length=320,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wards = Area.objects.filter(kind=Area.Kind.WARD).order_by(by_name())
        self.fields["ward"].choices = [("", _("Choose a ward"))] + [(str(w.pk), w.name) for w in wards]
        categories = Category.objects.filter(active=True).select_related("group").order_by("group__order", "order", "code")
        self.fields["category"].choices = [("", _("Every kind"))] + [(c.code, c.name) for c in categories]
        low, high = settings.CITYPIN_ALERT_RADIUS_MIN, settings.CITYPIN_ALERT_RADIUS_MAX
        self.fields["radius_m"].widget.attrs.update({"min": low, "max": high})
        self.fields["radius_m"].help_text = _("From %(low)d to %(high)d m.") % {"low": low, "high": high}

    def request(self, language: str) -> AlertRequest:
        data = {name: str(self.data.get(name, "")) for name in
                ("email", "kind", "ward", "lat", "lon", "radius_m", "area", "category", "frequency")}
        return AlertRequest(language=language, **data)

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


def _error_summary(form: AlertForm) -> list[dict[str, str]]:
    targets = {"kind": "id_kind_0", "frequency": "id_frequency_0", "area": "alert-map", "center": "alert-map"}
    summary = []
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        label = form.fields[name].label if name in form.fields and form.fields[name].label else _("Area on the map")
        summary.append({"id": targets.get(name, f"id_{name}"), "label": str(label), "message": errors[0]})
    return summary


def subscribe(request):
    """The subscribe page: 302 to "check your mail" on success, 400 with the errors on the
    fields otherwise, 429 when this connection tried too often."""
    form = AlertForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not allowed(request, AlertSubscribeThrottle):
            form.add_error(None, _("Too many requests from your connection. Please try again in an hour."))
            status = 429
        else:
            try:
                alert = subscribe_alert(form.request(get_language() or settings.LANGUAGE_CODE))
            except ValidationError as error:
                form.add_service_errors(error)
                status = 400
            else:
                request.session["alert_sent_to"] = alert.email
                return redirect("alert-sent")
    m = with_script(lasso(base_map()), "Citypin.alertsMap(MAP)", js=["citypin/citypin.js", "citypin/alerts.js"])
    config = {"radius_min": settings.CITYPIN_ALERT_RADIUS_MIN, "radius_max": settings.CITYPIN_ALERT_RADIUS_MAX,
              "text": {"centre": _("Centre of the circle"), "drawn": _("Area drawn."), "cleared": _("Area cleared."),
                       "circle_set": _("Circle set around the point you tapped."),
                       "tap": _("Tap the map to choose the centre of the circle.")}}
    return render(request, "citizen/alerts/subscribe.html", {
        "form": form, "map": render_parts(m), "wards_url": ward_layer_url(), "config": config,
        "error_summary": _error_summary(form) if form.is_bound else []}, status=status)


def sent(request):
    return render(request, "citizen/alerts/sent.html", {"email": request.session.get("alert_sent_to", "")})


def confirm(request, token: str):
    """GET shows what would be confirmed and a button (mail scanners that follow links confirm
    nothing); POST confirms."""
    alert = pending_alert(token)
    if alert is None:
        return render(request, "citizen/alerts/gone.html", {"what": "confirm"}, status=404)
    if request.method == "POST":
        confirm_alert(alert)
        return render(request, "citizen/alerts/confirmed.html", {"alert": alert, "area": describe(alert)})
    return render(request, "citizen/alerts/confirm.html", {"alert": alert, "area": describe(alert)})


@csrf_exempt  # RFC 8058: a mail program's one-click POST carries no CSRF token; the URL's token is the secret
def unsubscribe(request, token: str):
    if request.method == "POST":
        alert = alert_to_unsubscribe(token)
        area = describe(alert) if alert else ""
        if not unsubscribe_alert(token):
            return render(request, "citizen/alerts/gone.html", {"what": "unsubscribe"}, status=404)
        return render(request, "citizen/alerts/unsubscribed.html", {"area": area})
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    alert = alert_to_unsubscribe(token)
    if alert is None:
        return render(request, "citizen/alerts/gone.html", {"what": "unsubscribe"}, status=404)
    return render(request, "citizen/alerts/unsubscribe.html", {"alert": alert, "area": describe(alert)})
