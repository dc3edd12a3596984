"""Queueing a report for a department's Open311 back office, in the transaction that routed
(or rerouted) it there; incidents.delivery.open311 sends it.

What is queued is the GeoReport v2 form of the report as it is now, without the API key (added
at send time from the environment) and without the reporter's contact details unless the back
office is configured to get them. Only routing and rerouting queue a forward: a status coming
back from the back office goes through the workflow, which never calls this, so nothing loops."""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction

from incidents.models import (
    ApiKey,
    ClientSubmission,
    Department,
    Open311Endpoint,
    Open311Forward,
    OutboxMessage,
    Report,
)


def enqueue_open311_forward(report: Report, department: Department) -> int:
    """Queue the report for `department`'s active back office, once per report and back office
    (a reroute there and back does not post it twice); returns the messages queued (0 or 1)."""
    try:
        endpoint = department.open311_endpoint  # intake has it cached already (None: has none)
    except Open311Endpoint.DoesNotExist:
        return 0
    if not endpoint.active:
        return 0
    service_code = endpoint.service_code_for(report.category_id)
    if not service_code or _is_our_own_copy(report, endpoint):
        return 0
    try:
        with transaction.atomic():  # a savepoint: a concurrent forward of the same pair wins
            forward = Open311Forward.objects.create(report=report, endpoint=endpoint, service_code=service_code)
    except IntegrityError:
        return 0
    body = {"forward": forward.pk, "form": service_request_form(report, endpoint, service_code)}
    OutboxMessage.objects.create(channel=OutboxMessage.Channel.OPEN311, recipient=endpoint.base_url[:254],
                                 subject=f"open311 {service_code}"[:200], report=report,
                                 body=json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return 1


def _is_our_own_copy(report: Report, endpoint: Open311Endpoint) -> bool:
    """Whether the report came in through our Open311 with the very key we forward with: the
    back office is this installation (a demo, a test), and this is the copy of a forward; sending
    it on would file it again, and again."""
    key = endpoint.api_key()
    return bool(key) and report.source == Report.Source.OPEN311 and ClientSubmission.objects.filter(
        report=report, api_key__key_hash=ApiKey.hash(key)).exists()


def service_request_form(report: Report, endpoint: Open311Endpoint, service_code: str) -> list[tuple[str, str]]:
    """The POST requests.json parameters (GeoReport v2) but api_key and jurisdiction_id, which
    the sender adds. The point is the exact one (srid=4326), as the department's staff see it;
    the description is the public one (contact details scrubbed). Attributes are sent under
    our codes; the sender keeps those the back office's service definition has."""
    form = [("service_code", service_code)]
    if report.location is not None:
        form += [("lat", f"{report.location.y:.7f}"), ("long", f"{report.location.x:.7f}")]
    if report.address:
        form.append(("address_string", report.address))
    if report.public_description:
        form.append(("description", report.public_description))
    for code, value in sorted((report.attributes or {}).items()):
        if isinstance(value, list):
            form += [(f"attribute[{code}][]", str(v)) for v in value]
        elif value is not None and value != "":
            form.append((f"attribute[{code}]", str(value).lower() if isinstance(value, bool) else str(value)))
    if endpoint.send_contact:
        first, _, last = report.reporter_name.strip().partition(" ")
        form += [(name, value) for name, value in (("first_name", first), ("last_name", last),
                                                     ("email", report.reporter_email),
                                                     ("phone", report.reporter_phone)) if value]
    return form
