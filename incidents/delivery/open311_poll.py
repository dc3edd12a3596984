"""Statuses coming back from departments' Open311 back offices: the worker calls
poll_open311() on each pass; each active back office is asked at most every
CITYPIN_OPEN311_POLL_INTERVAL seconds, with GeoReport v2's standard
`requests.json?service_request_id=a,b,c` (batches of POLL_BATCH ids), about the reports
forwarded to it in the last CITYPIN_OPEN311_POLL_DAYS that are not finished here.

A back office status becomes ours through its `status_map`, and only through the workflow
(incidents.workflow.transition_report), so the move must be one the transition table allows.
Three rules keep this from moving a report wrongly or looping:
- only a *change* of the back office's status acts (Open311Forward.remote_status is the last
  one seen): a back office that still says "open" never undoes what staff did here;
- only while the report is still the back office's department's (after a reroute elsewhere,
  the old back office's "closed" is not ours to apply);
- a status applied here queues no forward (only routing does), so it never goes back out.
A forward known only by a token first gets its id from `tokens/<token>.json`.
Each back office's poll time and last error are kept on it, shown in the admin."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from incidents.delivery.open311_client import Open311Failed, Session, get_service_requests, get_token
from incidents.events import record
from incidents.models import Open311Endpoint, Open311Forward, Report, ReportEvent
from incidents.text import scrub_contact_details
from incidents.workflow import MAX_MESSAGE, NEEDS_PUBLIC_MESSAGE, TRANSITIONS, transition_report

log = logging.getLogger("citypin.open311")

POLL_BATCH = 50  # ids per GET: a URL well under the 8 KB most servers accept
FINISHED = (Report.Status.CLOSED, Report.Status.REJECTED, Report.Status.DUPLICATE)


@dataclass
class PollResult:
    polled: int = 0
    changed: int = 0
    failed: int = 0

    def summary(self) -> str:
        if not (self.changed or self.failed):
            return ""
        return f"open311: {self.changed} status changes from {self.polled} back offices, {self.failed} failed"


def poll_open311(now: datetime | None = None, force: bool = False, only: list[int] | None = None) -> PollResult:
    """Poll every active back office that is due (all of them with `force`; `only` these ids)."""
    now = now or timezone.now()
    due = Q(last_polled_at__isnull=True) | Q(
        last_polled_at__lte=now - timedelta(seconds=settings.CITYPIN_OPEN311_POLL_INTERVAL))
    endpoints = Open311Endpoint.objects.filter(active=True).select_related("department")
    if only is not None:
        endpoints = endpoints.filter(pk__in=only)
    result = PollResult()
    for endpoint in endpoints if force else endpoints.filter(due):
        result.polled += 1
        error = ""
        try:
            result.changed += poll_endpoint(endpoint, now)
        except Exception as failure:  # noqa: BLE001 - one back office's failure is kept on it; the others go on
            error = f"{type(failure).__name__}: {failure}"[:2000]
            result.failed += 1
            log.warning("polling the Open311 back office %s failed: %s", endpoint.base_url, error)
        Open311Endpoint.objects.filter(pk=endpoint.pk).update(last_polled_at=now, last_poll_error=error)
    return result


def poll_endpoint(endpoint: Open311Endpoint, now: datetime) -> int:
    """Ask one back office about its forwarded reports; returns how many changed here."""
    forwards = (Open311Forward.objects.filter(endpoint=endpoint, created_at__gte=now - timedelta(
        days=settings.CITYPIN_OPEN311_POLL_DAYS)).exclude(report__status__in=FINISHED).order_by("id"))
    session = Session()
    try:
        for waiting in forwards.filter(service_request_id="").exclude(token=""):
            _resolve_token(session, endpoint, waiting)
        by_id = {f.service_request_id: f for f in forwards.exclude(service_request_id="")}
        ids, changed = list(by_id), 0
        for start in range(0, len(ids), POLL_BATCH):
            for item in get_service_requests(session, endpoint.url("requests.json"), ids[start:start + POLL_BATCH],
                                             endpoint.jurisdiction_id):
                forward = by_id.get(str(item.get("service_request_id") or ""))
                if forward is not None and str(item.get("status") or "").strip():
                    changed += apply_remote_status(forward.pk, str(item["status"]), str(item.get("status_notes") or ""),
                                                   _datetime(item.get("updated_datetime")))
        return changed
    finally:
        session.close()


def _resolve_token(session: Session, endpoint: Open311Endpoint, forward: Open311Forward) -> None:
    try:
        found = get_token(session, endpoint.url(f"tokens/{quote(forward.token, safe='')}.json"))
    except Open311Failed as error:
        if error.status not in (400, 404):
            raise
        return  # not given an id yet: asked again at the next poll
    if found:
        Open311Forward.objects.filter(pk=forward.pk).update(service_request_id=found)
        forward.service_request_id = found


def _datetime(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@transaction.atomic
def apply_remote_status(forward_id: int, status: str, notes: str, updated: datetime | None) -> int:
    """Take the back office's `status` of one forward; returns 1 when our report changed."""
    forward = Open311Forward.objects.select_for_update().select_related("endpoint", "endpoint__department").get(
        pk=forward_id)
    status = status.strip().lower()[:60]
    if status == forward.remote_status:
        return 0
    Open311Forward.objects.filter(pk=forward.pk).update(remote_status=status, remote_updated_at=updated)
    endpoint = forward.endpoint
    target = {k.strip().lower(): v for k, v in (endpoint.status_map or {}).items()}.get(status)
    report = Report.objects.get(pk=forward.report_id)
    if not target or report.department_id != endpoint.department_id or target not in TRANSITIONS.get(report.status, ()):
        return 0
    with override(settings.LANGUAGE_CODE):
        said = _("%(department)s's system marks this request \"%(status)s\".") % {
            "department": endpoint.department.name, "status": status}
    message = scrub_contact_details(notes.strip())[:MAX_MESSAGE] or said
    if not endpoint.updates_public and target in NEEDS_PUBLIC_MESSAGE:
        # The workflow wants a word to the citizen for this change; the department keeps its
        # back office's words internal, so staff get a note and decide.
        record(report, ReportEvent.Kind.NOTE, message=f"{said}\n{message}" if message != said else said,
               data={"open311": {"service_request_id": forward.service_request_id, "status": status}})
        return 0
    for text in (message, said):  # the back office's notes may not be acceptable text: our words then
        try:
            with transaction.atomic():
                transition_report(report.pk, target, message=text, is_public=endpoint.updates_public)
            return 1
        except ValidationError:
            continue  # or staff moved the report meanwhile, and the move is no longer allowed
    return 0
