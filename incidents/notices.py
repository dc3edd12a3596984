"""Notices: the messages a change owes people (the department's notice of a new, rerouted or
reopened report and of a supporter milestone, the reporter's receipt, status updates and
replies to reporters and supporters, escalations and the dead-message digest to the operations
center), and the webhooks departments asked for (routed, rerouted, reopened), queued in the
outbox inside the transaction that caused them. Sending is incidents.delivery's.

Who is told what: the most specific NotificationRule for the event, the report's department
and its category, else DEFAULT_AUDIENCE (what Citypin always did). What the mail says:
incidents.mailing, per event and language. Citizens (the reporter, supporters who gave an
e-mail) get their mail in their own language only, with a one-click unsubscribe link and the
List-Unsubscribe headers (RFC 8058); an address that unsubscribed from the report (or from
every report) is skipped. Staff mail (departments, operations centers, extra addresses) stays
bilingual: Vietnamese, then English, under a Vietnamese subject."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.crypto import salted_hmac

from incidents.forwarding import enqueue_open311_forward
from incidents.mailing import render
from incidents.models import (
    Department,
    DigestRun,
    GatheredNotice,
    MessageTemplate,
    Notice,
    NotificationRule,
    OutboxMessage,
    Report,
    StaffNoticeWindow,
    Unsubscription,
    WebhookEndpoint,
)
from incidents.prepared import Insert, PreparedQuery
from incidents.routing import operations_center_at

Event = WebhookEndpoint.Event

BILINGUAL_SEPARATOR = "\n---\n\n"  # between the Vietnamese and the English text (the e-mail channel splits there)
UNSUBSCRIBE_SALT = "citypin.unsubscribe"


@dataclass(frozen=True)
class Audience:
    department: bool = False
    reporter: bool = False
    supporters: bool = False
    operations_center: bool = False
    extra: tuple[str, ...] = ()
    milestone_every: int | None = None


# Without a rule: what Citypin did before rules existed, plus the department's notices of a
# reopen and of a supporter milestone and the operations center's dead-message digest.
DEFAULT_AUDIENCE: dict[str, Audience] = {
    Notice.ROUTED: Audience(department=True),
    Notice.REROUTED: Audience(department=True),
    Notice.REOPENED: Audience(department=True),
    Notice.MILESTONE: Audience(department=True),
    Notice.RECEIPT: Audience(reporter=True),
    Notice.STATUS: Audience(reporter=True, supporters=True),
    Notice.REPLY: Audience(reporter=True, supporters=True),
    Notice.ESCALATED: Audience(operations_center=True),
    Notice.DEAD_MESSAGES: Audience(operations_center=True),
}


# The most specific active rule for each of some events, a department and a category (a rule's
# NULL department or category: any): department and category, then category, then department,
# then any (one rule per scope, so no ties). SQL, not the ORM, and prepared: intake asks for two
# events per report in one round trip, and the ORM's OR-filters cost more to compile, and the
# plan more to make, than this costs to run.
AUDIENCE_SQL = """
SELECT DISTINCT ON (event) event, to_department, to_reporter, to_supporters, to_operations_center,
       extra_recipients, milestone_every
FROM incidents_notificationrule
WHERE event = ANY(%(events)s) AND active
  AND (department_id = %(department_id)s OR department_id IS NULL)
  AND (category_id = %(category_id)s OR category_id IS NULL)
ORDER BY event, category_id IS NOT NULL DESC, department_id IS NOT NULL DESC
"""
OUTBOX_INSERT = Insert(OutboxMessage)
GATHERED_INSERT = Insert(GatheredNotice)
AUDIENCE = PreparedQuery("citypin_audiences", AUDIENCE_SQL,
                         {"events": "text[]", "department_id": "bigint", "category_id": "bigint"})


def audiences(events: tuple[str, ...], department_id: int | None, category_id: int | None) -> dict[str, Audience]:
    """Who is told of each of `events`: the most specific active rule (department and category,
    then category, then department, then any), else the default."""
    with connection.cursor() as cursor:
        AUDIENCE.execute(cursor, {"events": list(events), "department_id": department_id,
                                  "category_id": category_id})
        rows = cursor.fetchall()
    found = {event: Audience(department, reporter, supporters, center,
                             tuple(NotificationRule(extra_recipients=extra).extra_addresses()), milestone_every)
             for event, department, reporter, supporters, center, extra, milestone_every in rows}
    return {event: found.get(event) or DEFAULT_AUDIENCE[event] for event in events}


def audience(event: str, department_id: int | None, category_id: int | None) -> Audience:
    """Who is told of `event` (audiences, for one event)."""
    return audiences((event,), department_id, category_id)[event]


# -- unsubscribing ------------------------------------------------------------------------------

def address_key(email: str) -> str:
    """What Citypin keeps of an address that unsubscribed: a keyed hash (SECRET_KEY), so the list
    of unsubscriptions holds no addresses."""
    return salted_hmac(UNSUBSCRIBE_SALT, email.strip().lower(), algorithm="sha256").hexdigest()


def unsubscribe_token(email: str, report: Report) -> str:
    """A signed token naming the report and the address's key (never the address itself)."""
    return signing.dumps({"r": report.public_id, "a": address_key(email)}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(email: str, report: Report) -> str:
    return f"{settings.CITYPIN_SITE_URL}/unsubscribe/{unsubscribe_token(email, report)}/"


def read_unsubscribe_token(token: str) -> tuple[Report, str]:
    """The report and address key a token names; raises signing.BadSignature (a forged or
    damaged token) or Report.DoesNotExist."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("a"), str):
        raise signing.BadSignature("not an unsubscribe token")
    return Report.objects.get(public_id=data["r"]), data["a"]


@transaction.atomic
def unsubscribe(token: str, *, everywhere: bool = False, one_click: bool = False) -> Report:
    """Record that the token's address wants no more mail about its report (or any report)."""
    report, key = read_unsubscribe_token(token)
    Unsubscription.objects.get_or_create(address_key=key, report=None if everywhere else report,
                                         defaults={"one_click": one_click})
    return report


# Which of these address keys unsubscribed from the report or from every report (by the index
# on address_key). SQL, not the ORM: every citizen's notice asks it.
UNSUBSCRIBED_SQL = """
SELECT address_key FROM incidents_unsubscription
WHERE address_key = ANY(%(keys)s) AND (report_id = %(report_id)s OR report_id IS NULL)
"""


def _subscribed(report: Report, citizens: dict[str, str]) -> dict[str, str]:
    """`citizens` (address: language) without those who unsubscribed from the report or from all."""
    if not citizens:
        return citizens
    keys = {email: address_key(email) for email in citizens}
    with connection.cursor() as cursor:
        cursor.execute(UNSUBSCRIBED_SQL, {"keys": list(keys.values()), "report_id": report.pk})
        gone = {row[0] for row in cursor.fetchall()}
    return {email: lang for email, lang in citizens.items() if keys[email] not in gone}


# -- queueing -----------------------------------------------------------------------------------

# The admin's templates of an event, every language (none: the file templates are used). SQL,
# not the ORM, and prepared: asked for every notice, it took longer to compile than to run.
_TEMPLATE_FIELDS = list(MessageTemplate._meta.concrete_fields)
STORED_TEMPLATES = PreparedQuery("citypin_stored_templates", f"""
SELECT {", ".join(f'"{f.column}"' for f in _TEMPLATE_FIELDS)} FROM {MessageTemplate._meta.db_table}
WHERE event = %(event)s""", {"event": "text"})


def _stored_templates(event: str) -> dict[str, MessageTemplate]:
    with connection.cursor() as cursor:
        STORED_TEMPLATES.execute(cursor, {"event": event})
        rows = cursor.fetchall()
    stored = [MessageTemplate.from_db(connection.alias, None, row) for row in rows]
    return {template.language: template for template in stored}


def _staff_mail(event: str, values: dict, stored: dict[str, MessageTemplate]) -> tuple[str, str]:
    """Subject (Vietnamese) and body (Vietnamese, then English)."""
    vi = render(event, "vi", values, stored.get("vi"), use_stored=False)
    en = render(event, "en", values, stored.get("en"), use_stored=False, subject=False)  # the subject is Vietnamese
    return vi.subject, vi.body + BILINGUAL_SEPARATOR + en.body


def _citizens(report: Report, who: Audience) -> dict[str, str]:
    """The reporter's and supporters' addresses with their language (the reporter's wins)."""
    found: dict[str, str] = {}
    if who.reporter and report.reporter_email:
        found[report.reporter_email.strip().lower()] = report.language
    if who.supporters:
        for email, language in report.supporters.exclude(email="").values_list("email", "language"):
            found.setdefault(email.strip().lower(), language)
    languages = {code for code, _name in settings.LANGUAGES}
    found = {email: (lang or "").split("-")[0].lower() for email, lang in found.items() if email}
    return {email: (lang if lang in languages else "vi") for email, lang in found.items()}


# -- gathering the staff mails of new reports in a storm ---------------------------------------
#
# A staff address told of a new report opens a window of CITYPIN_STAFF_NOTICE_GATHER_S seconds.
# The new reports routed to it within the window are not mailed one by one: each leaves a
# GatheredNotice row (no mail rendered), and when the window ends the worker sends them as one mail
# (send_gathered_notices) and opens the next window. So a department hears of its first new report
# at once, and in a storm of 150 reports a second it gets one mail every couple of minutes instead
# of 150 a second, which no one reads and which cost a fifth of each report's intake.

_WINDOW = StaffNoticeWindow._meta.db_table
_GATHERED = GatheredNotice._meta.db_table
# The addresses of %(recipients)s that gather: their window is open, or reports wait in it for
# the worker (then only the worker, sending them, opens the next window). statement_timestamp():
# the clock the worker's pass uses, not the time the intake's transaction began.
_WAITING = f"EXISTS (SELECT 1 FROM {_GATHERED} g WHERE g.recipient = w.recipient)"
OPEN_WINDOWS = PreparedQuery("citypin_open_windows", f"""
SELECT w.recipient FROM {_WINDOW} w
WHERE w.recipient = ANY(%(recipients)s) AND (w.until > statement_timestamp() OR {_WAITING})""",
                             {"recipients": "text[]"})
# A window opens from now for each of %(recipients)s (sorted: one lock order) still quiet; those
# returned are mailed at once. An intake committing the same moment holds the row until it
# commits: the others then find it open, return nothing, and gather.
OPEN_WINDOW_SQL = f"""
INSERT INTO {_WINDOW} AS w (recipient, until)
SELECT recipient, statement_timestamp() + make_interval(secs => %(seconds)s)
FROM unnest(%(recipients)s::text[]) AS recipient ORDER BY recipient
ON CONFLICT (recipient) DO UPDATE SET until = EXCLUDED.until
WHERE w.until <= statement_timestamp() AND NOT {_WAITING}
RETURNING w.recipient
"""
# The addresses whose window ended with reports waiting in it, at most %(batch)s, each taken by
# one worker (SKIP LOCKED) and given its next window.
DUE_WINDOWS_SQL = f"""
WITH due AS (
    SELECT w.recipient FROM {_WINDOW} w
    WHERE w.until <= %(now)s AND {_WAITING}
    ORDER BY w.recipient
    LIMIT %(batch)s
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE {_WINDOW} w SET until = %(now)s + make_interval(secs => %(seconds)s)
FROM due WHERE w.recipient = due.recipient
RETURNING w.recipient
"""
TAKE_GATHERED_SQL = f"DELETE FROM {_GATHERED} WHERE recipient = %(recipient)s RETURNING report_id"
GATHERED = "routed_gathered"  # the mail's file templates, incidents/email/routed_gathered_*.txt
MAX_GATHERED = 50  # reports listed in one mail; the rest are counted, with a link to the console


def _gather(event: str, report: Report | None, staff: list[str]) -> list[str]:
    """The staff addresses that get `event`'s mail about `report` now. For a new report, those in
    a window get it later, gathered; the quiet ones open a window."""
    seconds = settings.CITYPIN_STAFF_NOTICE_GATHER_S
    if event != Notice.ROUTED or report is None or not staff or seconds <= 0:
        return staff
    with connection.cursor() as cursor:
        OPEN_WINDOWS.execute(cursor, {"recipients": staff})
        busy = {recipient for (recipient,) in cursor.fetchall()}
        quiet = sorted(email for email in staff if email not in busy)
        if quiet:
            cursor.execute(OPEN_WINDOW_SQL, {"recipients": quiet, "seconds": seconds})
            opened = {recipient for (recipient,) in cursor.fetchall()}
            busy.update(email for email in quiet if email not in opened)
    GATHERED_INSERT.save([GatheredNotice(recipient=email, report=report) for email in staff if email in busy])
    return [email for email in staff if email not in busy]


def send_gathered_notices(now: datetime | None = None, batch: int = 100) -> int:
    """Queue one mail per staff address whose window ended with new reports waiting in it, and
    open its next window; returns the number of mails queued."""
    now, queued = now or timezone.now(), 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(DUE_WINDOWS_SQL, {"now": now, "batch": batch,
                                             "seconds": settings.CITYPIN_STAFF_NOTICE_GATHER_S})
            recipients = [recipient for (recipient,) in cursor.fetchall()]
            mails = []
            for recipient in recipients:
                cursor.execute(TAKE_GATHERED_SQL, {"recipient": recipient})
                ids = sorted({report_id for (report_id,) in cursor.fetchall()})
                listed = list(Report.objects.filter(pk__in=ids[:MAX_GATHERED])
                              .select_related("category", "department").order_by("id"))
                if listed:
                    subject, body = gathered_mail(listed, len(ids))
                    mails.append(OutboxMessage(recipient=recipient, subject=subject, body=body))
            OutboxMessage.objects.bulk_create(mails)
            queued += len(mails)
        if len(recipients) < batch:
            return queued


def forget_gathered(report: Report, department: Department) -> None:
    """`report` was rerouted away from `department` while waiting for its address's gathered
    mail: that mail leaves it out (the department can no longer open it; the new department is
    told at once by the reroute's own notice)."""
    if department.email:
        GatheredNotice.objects.filter(report=report, recipient=department.email.strip().lower()).delete()


def gathered_mail(listed: list[Report], count: int) -> tuple[str, str]:
    """Subject (Vietnamese) and body (Vietnamese, then English) of the mail of `count` gathered
    reports, `listed` the first of them (at most MAX_GATHERED)."""
    return _staff_mail(GATHERED, {"count": count, "reports": listed, "more": max(0, count - len(listed)),
                                  "console_url": f"{settings.CITYPIN_SITE_URL}/console/"}, {})


def _queue(event: str, report: Report | None, who: Audience, values: dict, *,
           department: Department | None = None, center: Department | None = None) -> int:
    """Queue `event`'s mail for everyone `who` names, each once; returns how many (a new report's
    staff mail gathered for later counts as queued)."""
    staff: list[str] = []
    if who.department and department is not None and department.email:
        staff.append(department.email.strip().lower())
    if who.operations_center and center is not None and center.email:
        staff.append(center.email.strip().lower())
    staff += who.extra
    staff = list(dict.fromkeys(staff))
    citizens = _subscribed(report, _citizens(report, who)) if report is not None else {}
    rows = []
    immediate = _gather(event, report, staff)
    # The admin's templates for the event, every language in one query (none: the file templates).
    stored = _stored_templates(event) if immediate or citizens else {}
    if immediate:
        subject, body = _staff_mail(event, values, stored)
        rows += [OutboxMessage(recipient=email, subject=subject, body=body, report=report) for email in immediate]
    for email, language in citizens.items():
        if email in staff:
            continue
        link = unsubscribe_url(email, report)
        mail = render(event, language, {**values, "unsubscribe_url": link}, stored.get(language), use_stored=False)
        rows.append(OutboxMessage(recipient=email, subject=mail.subject, body=mail.body, report=report, headers={
            "List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": language}))
    OUTBOX_INSERT.save(rows)
    return len(rows) + len(staff) - len(immediate)


def _report_notice(event: str, report: Report, values: dict, department: Department | None = None,
                   center: Department | None = None, who: Audience | None = None) -> int:
    """Queue `event`'s mail about `report`; `who`: its audience when the caller has read it already."""
    department = department or report.department
    if who is None:
        who = audience(event, department.pk if department else report.department_id, report.category_id)
    if who.operations_center and center is None:
        center = _center_of(report)
    return _queue(event, report, who, {"report": report, **values}, department=department, center=center)


def _center_of(report: Report) -> Department | None:
    point = report.location
    center_id = operations_center_at(point.x if point else None, point.y if point else None)
    return Department.objects.filter(pk=center_id).first() if center_id else None


def enqueue_department_notice(report: Report, department: Department, event: str = Event.ROUTED,
                              who: Audience | None = None) -> int:
    """Tell a department that a report was routed (or rerouted) to it: by e-mail and webhook.
    `who`: the notice's audience, when the caller has read it already (audiences)."""
    notice = Notice.REROUTED if event == Event.REROUTED else Notice.ROUTED
    mails = _report_notice(notice, report, {"department": department}, department, who=who)
    return mails + enqueue_department_webhooks(report, department, event) + enqueue_open311_forward(report, department)


def enqueue_reopen_notice(report: Report, message: str = "") -> int:
    """Tell the department a report was reopened: by e-mail (as configured) and webhook."""
    mails = _report_notice(Notice.REOPENED, report, {"department": report.department, "message": message})
    return mails + enqueue_department_webhooks(report, report.department, Event.REOPENED)


def enqueue_supporter_milestone(report: Report, supporter_count: int) -> int:
    """Tell the department when a report's supporters reach a multiple of the milestone
    (the rule's, else CITYPIN_SUPPORTER_MILESTONE)."""
    who = audience(Notice.MILESTONE, report.department_id, report.category_id)
    every = who.milestone_every or settings.CITYPIN_SUPPORTER_MILESTONE
    if every <= 0 or supporter_count <= 0 or supporter_count % every:
        return 0
    report.supporter_count = supporter_count
    return _report_notice(Notice.MILESTONE, report, {"department": report.department})


def enqueue_department_webhooks(report: Report, department: Department, event: str) -> int:
    """Queue one signed POST per active endpoint of the department that wants `event`."""
    endpoints = [e for e in department.webhooks.all() if e.active and e.wants(event)]  # intake may know it has none
    if not endpoints:
        return 0
    body = json.dumps(webhook_payload(report, department, event), ensure_ascii=False, separators=(",", ":"))
    OutboxMessage.objects.bulk_create([
        OutboxMessage(channel=OutboxMessage.Channel.WEBHOOK, recipient=endpoint.url[:254], subject=event, body=body,
                      report=report, endpoint=endpoint) for endpoint in endpoints])
    return len(endpoints)


def webhook_payload(report: Report, department: Department, event: str) -> dict:
    """What a department's system gets: what its staff see of the report in the console's list,
    the exact point included, and never the reporter's contact details (the console has them)."""
    point = report.location
    return {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "department": {"code": department.code, "name_vi": department.name_vi, "name_en": department.name_en},
        "report": {
            "public_id": report.public_id,
            "console_url": f"{settings.CITYPIN_SITE_URL}/console/r/{report.public_id}/",
            "public_url": f"{settings.CITYPIN_SITE_URL}/r/{report.public_id}/",
            "status": report.status,
            "category": {"code": report.category.code, "name_vi": report.category.name_vi,
                         "name_en": report.category.name_en},
            "created_at": report.created_at.isoformat(),
            "location": {"type": "Point", "coordinates": [point.x, point.y]} if point else None,
            "location_accuracy_m": report.location_accuracy_m,
            "address": report.address,
            "description": report.public_description,
            "attributes": report.attributes,
            "routing": report.routing,
            "incident": report.incident_id,
        },
    }


def enqueue_reporter_receipt(report: Report, who: Audience | None = None) -> int:
    """Tell the reporter their report arrived, with the tracking link. `who`: as for
    enqueue_department_notice."""
    return _report_notice(Notice.RECEIPT, report, {}, who=who)


def enqueue_status_update(report: Report, message: str) -> int:
    """Tell the reporter and every supporter with an e-mail that the report changed status."""
    return _report_notice(Notice.STATUS, report, {"message": message})


def enqueue_reply(report: Report, message: str) -> int:
    """Tell the reporter and every supporter what the department answered."""
    return _report_notice(Notice.REPLY, report, {"message": message})


def enqueue_escalation_notice(report: Report, operations_center: Department) -> int:
    """Tell the operations center that a report was not acknowledged in time."""
    return _report_notice(Notice.ESCALATED, report, {"department": report.department}, center=operations_center)


# One digest at a time, whichever worker gets there first (a transaction-level advisory lock).
DIGEST_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('citypin.dead_message_digest'))"


@transaction.atomic
def enqueue_dead_message_digest(now: datetime | None = None) -> int:
    """At most every CITYPIN_DEAD_DIGEST_HOURS, tell each operations center (as its rules say)
    how many messages the outbox gave up on since the last digest; nothing when none did.
    Returns how many mails were queued."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(DIGEST_LOCK_SQL)
    last = DigestRun.objects.filter(kind=Notice.DEAD_MESSAGES).first()
    if last is not None and now - last.created_at < timedelta(hours=settings.CITYPIN_DEAD_DIGEST_HOURS):
        return 0
    dead = OutboxMessage.objects.filter(failed_at__isnull=False, sent_at__isnull=True)
    new = dead.filter(failed_at__gt=last.created_at) if last is not None else dead
    by_channel = dict(new.values_list("channel").annotate(n=Count("id")).values_list("channel", "n"))
    if not by_channel:
        return 0
    values = {"dead_count": dead.count(), "new_dead_count": sum(by_channel.values()),
              "by_channel": ", ".join(f"{channel}: {n}" for channel, n in sorted(by_channel.items())),
              "admin_url": f"{settings.CITYPIN_SITE_URL}/admin/incidents/outboxmessage/?state=dead"}
    queued = 0
    for center in Department.objects.filter(is_operations_center=True, active=True):
        who = audience(Notice.DEAD_MESSAGES, center.pk, None)
        queued += _queue(Notice.DEAD_MESSAGES, None, who, values, center=center)
    DigestRun.objects.create(kind=Notice.DEAD_MESSAGES, created_at=now, count=values["new_dead_count"])
    return queued
