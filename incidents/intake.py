"""Intake: every new report — from the API, the form, the importer, the demo — goes through
submit_report, one transaction that validates the draft, routes it (routing.py), places it in
an incident (matching.py), saves it with its due times (sla.py), records its events and queues
its notices. Errors name the field; nothing is half-saved."""

from __future__ import annotations

import math
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import EmailValidator, URLValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gis.models import Area
from incidents.alerts import enqueue_area_alerts
from incidents.categories import public_point
from incidents.events import event, record_many
from incidents.matching import Placement, incident_for, join_incident, place_report, refresh_incident
from incidents.models import (
    Category,
    CategoryAttribute,
    CategoryGroup,
    ClientSubmission,
    Department,
    Notice,
    Open311Endpoint,
    Photo,
    Report,
    ReportEvent,
    WebhookEndpoint,
)
from incidents.notices import audiences, enqueue_department_notice, enqueue_reporter_receipt
from incidents.photos import CleanPhoto
from incidents.prepared import Insert, PreparedQuery
from incidents.routing import OutsideJurisdiction, Route, route
from incidents.sla import due_times
from incidents.text import scrub_contact_details, text_problem

MAX_DESCRIPTION = 4000
MAX_ATTRIBUTE_TEXT = 2000


@dataclass
class Reporter:
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass
class ClientInfo:
    """What a machine client (an Open311 application) says besides the report. All private."""

    api_key_id: int
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""  # a link the client gave; never fetched, never published


@dataclass
class ReportDraft:
    """What a citizen, a client or a staff member submits. lon/lat None: address only."""

    category_code: str
    lon: float | None = None
    lat: float | None = None
    location_accuracy_m: float | None = None
    address: str = ""
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    reporter: Reporter = field(default_factory=Reporter)
    source: str = Report.Source.API
    reporter_ip: str | None = None
    ward_code: str = ""  # for a report without coordinates: the ward the reporter picked
    created_at: datetime | None = None  # for imported history: when it was reported (None: now)
    photos: list[CleanPhoto] = field(default_factory=list)
    client: ClientInfo | None = None  # set by machine clients (Open311)
    language: str = ""  # the language the reporter used ("vi", "en"; "" unknown): replies start in it


def next_public_id(now: datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('incidents_report_public_seq')")
        (number,) = cursor.fetchone()
    year = timezone.localtime(now).year
    return f"{settings.CITYPIN_PUBLIC_ID_PREFIX}-{year}-{number:06d}"


def validate_attributes(category: Category, values: Any) -> dict[str, Any]:
    """Check submitted attribute values against the category's definitions; return clean values.

    Errors are keyed "attributes.<code>" so a client can place each next to its field.
    """
    if values in (None, ""):
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"attributes": [_("Must be an object of attribute code to value.")]})
    definitions = {a.code: a for a in category.attributes.all()}
    errors: dict[str, list[str]] = {}
    unknown = set(values) - set(definitions)
    # A code that is not valid text is named by its problem: echoed back, it would break the answer.
    problems = sorted({text_problem(str(k)) for k in unknown} - {None})
    if problems:
        errors["attributes"] = problems
    elif unknown:
        codes = ", ".join(sorted(str(k)[:40] for k in unknown))
        errors["attributes"] = [_("Unknown attribute(s) for this category: %(codes)s.") % {"codes": codes}]
    clean: dict[str, Any] = {}
    for code, attribute in definitions.items():
        value = values.get(code)
        if value in (None, "", []):
            if attribute.required:
                errors[f"attributes.{code}"] = [_("This attribute is required.")]
            continue
        try:
            clean[code] = _clean_attribute(attribute, value)
        except ValueError as exc:
            errors[f"attributes.{code}"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_attribute(attribute: CategoryAttribute, value: Any) -> Any:
    kind = CategoryAttribute.Datatype
    if attribute.datatype == kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(_("Must be a number."))
        try:
            number = float(value)
        except (ValueError, OverflowError):
            raise ValueError(_("Must be a number.")) from None
        if not math.isfinite(number):
            raise ValueError(_("Must be a number."))
        if attribute.min_value is not None and number < attribute.min_value:
            raise ValueError(_("Must be at least %(min)s.") % {"min": attribute.min_value})
        if attribute.max_value is not None and number > attribute.max_value:
            raise ValueError(_("Must be at most %(max)s.") % {"max": attribute.max_value})
        return int(number) if number.is_integer() else number
    if attribute.datatype == kind.DATETIME:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(_("Must be a date and time like 2026-05-01T08:30:00+07:00."))
        return parsed.isoformat()
    if attribute.datatype == kind.SINGLEVALUELIST:
        if str(value) not in attribute.allowed_keys():
            raise ValueError(_("Must be one of: %(keys)s.") % {"keys": ", ".join(attribute.allowed_keys())})
        return str(value)
    if attribute.datatype == kind.MULTIVALUELIST:
        items = value if isinstance(value, list) else [value]
        if len(items) > len(attribute.values):
            raise ValueError(_("Each value must be one of: %(keys)s.") % {"keys": ", ".join(attribute.allowed_keys())})
        bad = [str(v) for v in items if str(v) not in attribute.allowed_keys()]
        if bad or not all(isinstance(v, (str, int)) for v in items):
            raise ValueError(_("Each value must be one of: %(keys)s.") % {"keys": ", ".join(attribute.allowed_keys())})
        return sorted({str(v) for v in items})
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(_("Must be text."))
    text = str(value).strip()
    limit = 200 if attribute.datatype == kind.STRING else MAX_ATTRIBUTE_TEXT
    if len(text) > limit:
        raise ValueError(_("At most %(n)s characters.") % {"n": limit})
    if text_problem(text):
        raise ValueError(text_problem(text))
    return scrub_contact_details(text)  # attributes are public: contact details belong in the private fields


def _finite(value) -> bool:
    try:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _validate_location(draft: ReportDraft) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if draft.lon is None and draft.lat is None:
        if not draft.address.strip():
            errors["location"] = [_("Give a location on the map, or at least an address.")]
        return errors
    lon, lat = draft.lon, draft.lat
    if not all(_finite(v) for v in (lon, lat)):
        errors["location"] = [_("Coordinates must be numbers: [longitude, latitude].")]
    elif not -90 <= lat <= 90:
        errors["location"] = [_("Latitude %(lat)s is out of range (-90 to 90).") % {"lat": lat}]
    elif not -180 <= lon <= 180:
        errors["location"] = [_("Longitude %(lon)s is out of range (-180 to 180).") % {"lon": lon}]
    accuracy = draft.location_accuracy_m
    if accuracy is not None and (not _finite(accuracy) or not 0 <= accuracy <= 10_000):
        errors["location_accuracy_m"] = [_("Must be a number of metres between 0 and 10000.")]
    return errors


def _validate_reporter(category: Category, reporter: Reporter) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value, limit in (("name", reporter.name, 200), ("email", reporter.email, 254), ("phone", reporter.phone, 40)):
        if not isinstance(value, str):
            errors[f"reporter.{name}"] = [_("Must be text.")]
        elif len(value) > limit:
            errors[f"reporter.{name}"] = [_("At most %(n)s characters.") % {"n": limit}]
    if errors:
        return errors
    if reporter.email:
        try:
            EmailValidator()(reporter.email)
        except ValidationError:
            errors["reporter.email"] = [_("Enter a valid e-mail address.")]
    if reporter.phone and not re.fullmatch(r"\+?[\d .\-()]{6,40}", reporter.phone):
        errors["reporter.phone"] = [_("Enter a valid phone number.")]
    if not category.allow_anonymous:
        if not reporter.name.strip():
            errors["reporter.name"] = [_("This category needs your name.")]
        if not (reporter.email or reporter.phone):
            errors["reporter.email"] = [_("This category needs an e-mail address or a phone number.")]
    return errors


@dataclass
class ValidDraft:
    """A draft that passed validation, with its values cleaned."""

    category: Category
    attributes: dict[str, Any]
    ward: Area | None  # for a report without coordinates: the ward the reporter picked
    location: Point | None  # SRID 4326; None: an address only
    description: str
    public_description: str  # contact details scrubbed


@transaction.atomic
def submit_report(draft: ReportDraft, actor=None, notify: bool = True) -> Report:
    """Validate, route and save a new report with its `created` and `routed` events, and queue
    the notice to its department (unless notify is False, e.g. for imported history).

    Raises ValidationError with a {field: [messages]} dict; nothing is saved then.
    """
    valid = _validate_draft(draft)
    decision = _route_draft(draft, valid.category)
    now = draft.created_at or timezone.now()
    placement, incident_id = _place_in_incident(draft, valid, decision, now)
    report = _save_report(draft, valid, decision, placement, incident_id, now)
    if placement.attach_to is not None:
        join_incident(incident_id, report.pk, exact=_exact(valid.category))
    elif not _exact(valid.category):
        refresh_incident(incident_id)  # else the new incident was made whole with its one report
    _record_intake(report, draft, decision, placement, actor, now)
    save_photos(report, draft.photos)
    if draft.client is not None:
        _save_client_submission(report, draft.client)
    if notify:
        report.department = _department(decision.department_id)  # the notices read it: one read, not two
        who = audiences((Notice.ROUTED, Notice.RECEIPT), decision.department_id, report.category_id)  # one read
        enqueue_department_notice(report, report.department, who=who[Notice.ROUTED])
        enqueue_reporter_receipt(report, who=who[Notice.RECEIPT])
        enqueue_area_alerts(report)  # public from now: the subscribers of its area hear of it
    return report


def _validate_draft(draft: ReportDraft) -> ValidDraft:
    """Every problem of the draft at once, as ValidationError({field: [messages]})."""
    category, errors = _find_category(draft.category_code)
    errors |= _validate_location(draft)
    errors |= _validate_text(draft)
    if draft.client is not None:
        errors |= _validate_client(draft.client)
    ward = _picked_ward(draft, errors)
    attributes: dict[str, Any] = {}
    if category is not None:
        errors |= _validate_reporter(category, draft.reporter)
        try:
            attributes = validate_attributes(category, draft.attributes)
        except ValidationError as exc:
            errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)
    assert category is not None  # else errors["category"]
    description = draft.description.strip()
    return ValidDraft(category=category, attributes=attributes, ward=ward,
                      location=Point(draft.lon, draft.lat, srid=4326) if draft.lon is not None else None,
                      description=description, public_description=scrub_contact_details(description))


def _columns(model, alias: str) -> str:
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


# The category of a code with its group and its attributes, in one round trip instead of the
# ORM's two (select_related + prefetch_related) and their compilation: one row per attribute in
# the attributes' order (order, code), or one row with NULL attribute columns when it has none.
# The columns are the models' own, in field order, so Model.from_db can take each slice.
CATEGORY_SQL = f"""
SELECT {_columns(Category, "c")}, {_columns(CategoryGroup, "g")}, {_columns(CategoryAttribute, "a")}
FROM {Category._meta.db_table} c
JOIN {CategoryGroup._meta.db_table} g ON g.id = c.group_id
LEFT JOIN {CategoryAttribute._meta.db_table} a ON a.category_id = c.id
WHERE c.code = %(code)s
ORDER BY a."order", a.code
"""
CATEGORY = PreparedQuery("citypin_category", CATEGORY_SQL, {"code": "text"})
_SLICES = [(model, [getattr(f, "from_db_value", None) for f in model._meta.concrete_fields])
           for model in (Category, CategoryGroup, CategoryAttribute)]


def _load_category(code: str) -> Category | None:
    """The category of that code with its group (category.group) and attributes
    (category.attributes.all()) loaded, as select_related/prefetch_related would."""
    with connection.cursor() as cursor:
        CATEGORY.execute(cursor, {"code": code})
        rows = cursor.fetchall()
    if not rows:
        return None
    loaded = []
    for row in rows:
        objects, start = [], 0
        for model, converters in _SLICES:
            values = list(row[start:start + len(converters)])
            start += len(converters)
            if values[0] is None:  # no attribute (LEFT JOIN)
                objects.append(None)
                continue
            for i, convert in enumerate(converters):
                if convert is not None and values[i] is not None:
                    values[i] = convert(values[i], None, connection)
            objects.append(model.from_db(connection.alias, None, values))
        loaded.append(objects)
    category, group, _none = loaded[0]
    category._state.fields_cache["group"] = group
    attributes = [attribute for _c, _g, attribute in loaded if attribute is not None]
    for attribute in attributes:
        attribute._state.fields_cache["category"] = category
    category._prefetched_objects_cache = {"attributes": _prefetched(CategoryAttribute, attributes)}
    return category


def _prefetched(model, rows: list) -> Any:
    """A queryset already holding `rows`, as prefetch_related leaves one (iterating none()
    would still compile a query)."""
    queryset = model.objects.all()
    queryset._result_cache, queryset._prefetch_done = rows, True
    return queryset


# The department a new report goes to, and whether it has any webhook endpoint or Open311 back
# office at all: most have neither, and then the notices need not ask (two round trips fewer).
DEPARTMENT_SQL = f"""
SELECT {_columns(Department, "d")},
       EXISTS (SELECT 1 FROM {WebhookEndpoint._meta.db_table} e WHERE e.department_id = d.id),
       EXISTS (SELECT 1 FROM {Open311Endpoint._meta.db_table} o WHERE o.department_id = d.id)
FROM {Department._meta.db_table} d
WHERE d.id = %(id)s
"""
DEPARTMENT = PreparedQuery("citypin_department", DEPARTMENT_SQL, {"id": "bigint"})


def _department(department_id: int) -> Department:
    """The department, with what prefetch_related("webhooks") and select_related("open311_endpoint")
    would have found when it has none of them (else those are read when asked for)."""
    with connection.cursor() as cursor:
        DEPARTMENT.execute(cursor, {"id": department_id})
        *values, has_webhooks, has_open311 = cursor.fetchone()
    department = Department.from_db(connection.alias, None, values)
    if not has_webhooks:
        department._prefetched_objects_cache = {"webhooks": _prefetched(WebhookEndpoint, [])}
    if not has_open311:
        department._state.fields_cache["open311_endpoint"] = None
    return department


def _find_category(code: Any) -> tuple[Category | None, dict[str, list[str]]]:
    """The active category of that code, or None with the error."""
    if not code or not isinstance(code, str):
        return None, {"category": [_("This field is required.")]}
    category = _load_category(code)
    if category is None:
        return None, {"category": [_("Unknown category \"%(code)s\".") % {"code": code[:50]}]}
    if not category.active:
        return None, {"category": [_("The category \"%(code)s\" is not accepting reports.") % {"code": code}]}
    return category, {}


def _validate_text(draft: ReportDraft) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(draft.description, str):
        errors["description"] = [_("Must be text.")]
    elif text_problem(draft.description):
        errors["description"] = [text_problem(draft.description)]
    elif len(draft.description) > MAX_DESCRIPTION:
        errors["description"] = [_("At most %(n)s characters (this has %(len)s).") % {
            "n": MAX_DESCRIPTION, "len": len(draft.description)}]
    if not isinstance(draft.address, str) or len(draft.address) > 400:
        errors["address"] = [_("At most %(n)s characters.") % {"n": 400}]
    elif text_problem(draft.address):
        errors["address"] = [text_problem(draft.address)]
    return errors


def _validate_client(client: ClientInfo) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("device_id", "account_id"):
        value = getattr(client, name)
        if not isinstance(value, str) or len(value) > 200:
            errors[name] = [_("At most %(n)s characters.") % {"n": 200}]
        elif text_problem(value):
            errors[name] = [text_problem(value)]
    if client.media_url:
        try:
            URLValidator(schemes=["http", "https"])(client.media_url)
            if len(client.media_url) > 1000:
                raise ValidationError("too long")
        except ValidationError:
            errors["media_url"] = [_("Give an http or https URL of at most 1000 characters.")]
    return errors


def _save_client_submission(report: Report, client: ClientInfo) -> None:
    ClientSubmission.objects.create(report=report, api_key_id=client.api_key_id, token=secrets.token_urlsafe(18),
                                    device_id=client.device_id.strip(), account_id=client.account_id.strip(),
                                    media_url=client.media_url)


def _picked_ward(draft: ReportDraft, errors: dict[str, list[str]]) -> Area | None:
    """The ward picked for a report without coordinates (None: none picked, or it has them).
    A known ward is enough for the operations center to place the report, so it lifts the
    missing-location error from `errors`; an unknown one adds its own."""
    if not draft.ward_code or draft.lon is not None:
        return None
    ward = Area.objects.filter(kind=Area.Kind.WARD, code=draft.ward_code).first()
    if ward is None:
        errors["ward"] = [_("Unknown ward.")]
    elif "location" in errors and not draft.address.strip():
        del errors["location"]
    return ward


def _route_draft(draft: ReportDraft, category: Category) -> Route:
    try:
        return route(category, draft.lon, draft.lat, draft.location_accuracy_m)
    except OutsideJurisdiction:
        if draft.lon is None:
            raise ValidationError({"location": [_("This service has no operations center to place reports "
                                                  "without a location; please set a pin.")]}) from None
        raise ValidationError({"location": [
            _("The location %(lat).6f, %(lon).6f is outside the area this service covers.") % {"lat": draft.lat,
                                                                                                 "lon": draft.lon}]}) from None


def _place_in_incident(draft: ReportDraft, valid: ValidDraft, decision: Route,
                       now: datetime) -> tuple[Placement, int]:
    """The incident the report joins (locked) or starts, and how it was matched."""
    placement = place_report(valid.category, draft.lon, draft.lat, valid.public_description, now=now)
    incident_id = incident_for(placement, category_id=valid.category.pk, department_id=decision.department_id,
                               location=valid.location, text=valid.public_description, now=now,
                               exact=_exact(valid.category))
    return placement, incident_id


REPORT_INSERT = Insert(Report)


def _exact(category: Category) -> bool:
    """Whether the public sees this category's reports where they are (no snapping; a ward-only
    category always has a precision)."""
    return not category.public_location_precision_m and not category.public_location_ward_only


def _save_report(draft: ReportDraft, valid: ValidDraft, decision: Route, placement: Placement, incident_id: int,
                 now: datetime) -> Report:
    """The report row, with its due times counted from `now`."""
    acknowledge_due_at, resolve_due_at = due_times(valid.category, now)
    ward_id = decision.ward_id or (valid.ward.pk if valid.ward else None)
    return REPORT_INSERT.save([Report(
        public_id=next_public_id(now),
        category=valid.category,
        location=valid.location,
        public_location=public_point(valid.location, valid.category, ward_id),
        location_accuracy_m=draft.location_accuracy_m,
        address=scrub_contact_details(draft.address.strip()),  # public: see the data dictionary
        ward_id=ward_id,
        description=valid.description,
        public_description=valid.public_description,
        attributes=valid.attributes,
        department_id=decision.department_id,
        routing_rule_id=decision.rule_id,
        routing=decision.explanation,
        incident_id=incident_id,
        incident_score=placement.score,
        suggested_incident_id=placement.suggest,
        recurrence_of_id=placement.recurrence_of,
        source=draft.source,
        reporter_name=draft.reporter.name.strip(),
        reporter_email=draft.reporter.email.strip(),
        reporter_phone=draft.reporter.phone.strip(),
        reporter_ip=draft.reporter_ip,
        language=draft.language[:8],
        created_at=now,
        acknowledge_due_at=acknowledge_due_at,
        resolve_due_at=resolve_due_at,
    )])[0]


def _record_intake(report: Report, draft: ReportDraft, decision: Route, placement: Placement, actor,
                   now: datetime) -> None:
    """The public `created` event (which names no department) and the `routed` event."""
    record_many([
        event(report, ReportEvent.Kind.CREATED, actor=actor, to_status=report.status, public=True, at=now,
              department_id=None,
              data={"source": draft.source, "incident": report.incident_id, "score": placement.score,
                    "attached": placement.attach_to is not None, "suggested": placement.suggest,
                    "recurrence_of": placement.recurrence_of}),
        event(report, ReportEvent.Kind.ROUTED, actor=actor, department_id=decision.department_id,
              message=decision.explanation["text"]["en"], public=True, at=now, data=decision.explanation),
    ])


def save_photos(report: Report, photos: list[CleanPhoto]) -> None:
    """Store cleaned photos; if anything fails, remove the files already written (the rows go
    with the transaction)."""
    written: list = []
    try:
        for photo in photos:
            row = Photo(uuid=uuid.uuid4(), report=report, content_type=photo.content_type, width=photo.width,
                        height=photo.height)
            row.image.save(f"{row.uuid}.{photo.extension}", ContentFile(photo.content), save=False)
            written.append(row.image)
            row.thumbnail.save(f"{row.uuid}-thumb.{photo.extension}", ContentFile(photo.thumbnail), save=False)
            written.append(row.thumbnail)
            row.save()
    except Exception:
        for file in written:
            file.storage.delete(file.name)
        raise
