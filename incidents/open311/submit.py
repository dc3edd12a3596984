"""POST requests: an Open311 client's form fields mapped onto the one intake (submit_report),
so a report from Open311 is routed, placed in an incident, given due times and queued for
its department exactly as one from the API or the web form. Errors come back named by the
Open311 parameter the client sent (service_code, lat, long, attribute[code], email…).

- Location: lat and long together (WGS-84), or address_string, or address_id (an id from the
  city's address register, kept as the address): a report without coordinates goes to the
  operations center's triage, as the API's do.
- attribute[code]=value, and attribute[code][]=value for each value of a multivaluelist.
- first_name and last_name make the reporter's name; email and phone as given. All private.
- device_id, account_id and media_url are kept privately with the report (ClientSubmission);
  a `media` file upload goes through the photo checks and waits for staff approval.
"""

from __future__ import annotations

import math
import re

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _

from incidents.intake import MAX_DESCRIPTION, ClientInfo, ReportDraft, Reporter, submit_report
from incidents.models import ApiKey, Report
from incidents.open311.protocol import Open311Error
from incidents.photos import clean_photos

ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")

# Our field names (intake's errors) → the Open311 parameter a client sent.
PARAMETER_NAMES = {
    "category": "service_code",
    "location": "lat/long",
    "location_accuracy_m": "lat/long",
    "address": "address_string",
    "description": "description",
    "reporter.name": "first_name/last_name",
    "reporter.email": "email",
    "reporter.phone": "phone",
    "photos": "media",
}


def _coordinate(raw: QueryDict, name: str, low: float, high: float, problems: list[str]) -> float | None:
    value = (raw.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        problems.append(_("%(name)s: a number from %(low)s to %(high)s (WGS-84 degrees).") % {
            "name": name, "low": low, "high": high})
        return None
    return number


def attributes_of(raw: QueryDict) -> dict:
    """attribute[code]=v as {code: v}; attribute[code][]=v1&…=v2 as {code: [v1, v2]}."""
    found: dict = {}
    for key in raw:
        match = ATTRIBUTE.match(key)
        if match:
            code, many = match.groups()
            found[code] = raw.getlist(key) if many else raw.get(key)
    return found


def draft_of(raw: QueryDict, files, api_key: ApiKey, ip: str | None) -> ReportDraft:
    """The report a POST describes; Open311Error(400) naming every problem of the parameters
    themselves (intake checks the rest)."""
    problems: list[str] = []
    if not (raw.get("service_code") or "").strip():
        problems.append(_("service_code: required."))
    lat = _coordinate(raw, "lat", -90, 90, problems)
    lon = _coordinate(raw, "long", -180, 180, problems)
    has_lat, has_long = bool((raw.get("lat") or "").strip()), bool((raw.get("long") or "").strip())
    address = (raw.get("address_string") or "").strip()
    address_id = (raw.get("address_id") or "").strip()
    if has_lat != has_long:
        problems.append(_("lat and long: give both, or neither."))
    elif not has_lat and not (address or address_id):
        problems.append(_("lat/long: a location is required: lat and long, or address_string, or address_id."))
    if len(raw.get("description") or "") > MAX_DESCRIPTION:
        problems.append(_("description: at most %(n)s characters.") % {"n": MAX_DESCRIPTION})
    if len(address_id) > 200:
        problems.append(_("address_id: at most %(n)s characters.") % {"n": 200})
    photos = []
    try:
        photos = clean_photos(files.getlist("media")) if files else []
    except ValidationError as exc:
        problems.extend(f"media: {m}" for m in exc.message_dict["photos"])
    if problems:
        raise Open311Error(400, problems)
    name = " ".join(p for p in ((raw.get("first_name") or "").strip(), (raw.get("last_name") or "").strip()) if p)
    return ReportDraft(
        category_code=raw["service_code"].strip(),
        lon=lon if lat is not None else None,
        lat=lat if lon is not None else None,
        address=address or (_("Address id %(id)s") % {"id": address_id} if address_id else ""),
        description=raw.get("description") or "",
        attributes=attributes_of(raw),
        reporter=Reporter(name=name, email=(raw.get("email") or "").strip(), phone=(raw.get("phone") or "").strip()),
        source=Report.Source.OPEN311,
        reporter_ip=ip,
        photos=photos,
        client=ClientInfo(api_key_id=api_key.pk, device_id=raw.get("device_id") or "",
                          account_id=raw.get("account_id") or "", media_url=(raw.get("media_url") or "").strip()),
    )


def submit(draft: ReportDraft) -> Report:
    """submit_report, with its errors named as Open311 parameters (Open311Error 400)."""
    try:
        return submit_report(draft)
    except ValidationError as exc:
        raise Open311Error(400, [f"{parameter_name(field)}: {message}" for field, messages in exc.message_dict.items()
                                 for message in messages]) from None


def parameter_name(field: str) -> str:
    if field.startswith("attributes."):
        return f"attribute[{field.removeprefix('attributes.')}]"
    if field == "attributes":
        return "attribute"
    return PARAMETER_NAMES.get(field, field)
