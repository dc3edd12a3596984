"""What departments do with a report besides moving its status: assign it, set its priority,
reroute it (or hand it back to the operations center: "not our responsibility"), reply to the
citizen, note something for colleagues, approve a photo. Each is one transaction that locks the
report (workflow.lock_report), checks the version the actor saw, changes it and appends its
event; the console and the bulk actions call these, never the models directly."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from incidents.events import record, touch
from incidents.models import Department, Incident, Photo, Report, ReportEvent, StaffMembership
from incidents.notices import Event, enqueue_department_notice, enqueue_reply, forget_gathered
from incidents.routing import OutsideJurisdiction, operations_center_at, route
from incidents.sla import due_times
from incidents.workflow import clean_message, lock_report

ACTING_ROLES = (StaffMembership.Role.AGENT, StaffMembership.Role.MANAGER)


def active_department_id(code: str) -> int:
    """The id of the active department of that code; ValidationError on "department" else."""
    department = (Department.objects.filter(code=code, active=True).first()
                  if len(code) <= 40 and "\x00" not in code else None)
    if department is None:
        raise ValidationError({"department": [_("Choose a department.")]})
    return department.pk


@transaction.atomic
def assign_report(report_id: int, assignee_id: int | None, *, actor, expected_version: int | None = None) -> Report:
    """Give the report to a colleague who acts for its department (None: unassigned)."""
    report = lock_report(report_id, expected_version)
    assignee = None
    if assignee_id is not None:
        assignee = get_user_model().objects.filter(
            pk=assignee_id, is_active=True, memberships__department_id=report.department_id,
            memberships__role__in=ACTING_ROLES).first()
        if assignee is None:
            raise ValidationError({"assignee": [_("Choose someone who works for %(department)s.") % {
                "department": report.department.name}]})
    if report.assigned_to_id == assignee_id:
        return report
    report.assigned_to = assignee
    touch(report, ["assigned_to"])
    record(report, ReportEvent.Kind.ASSIGNED, actor=actor,
           data={"assignee": assignee.get_username() if assignee else None})
    return report


@transaction.atomic
def set_report_priority(report_id: int, priority: int, *, actor, expected_version: int | None = None) -> Report:
    if priority not in Report.Priority.values:
        raise ValidationError({"priority": [_("Choose one of: %(all)s.") % {
            "all": ", ".join(str(p.label) for p in Report.Priority)}]})
    report = lock_report(report_id, expected_version)
    if report.priority != priority:
        before, report.priority = report.priority, priority
        touch(report, ["priority"])
        record(report, ReportEvent.Kind.PRIORITY, actor=actor, data={"from": before, "to": priority})
    return report


@transaction.atomic
def reroute_report(report_id: int, department_id: int | None, reason: str, *, actor,
                   expected_version: int | None = None, by_rules: bool = False, not_ours: bool = False) -> Report:
    """Send the report to another department, with the reason (an internal note). by_rules runs
    routing again instead of naming the department. Its due times restart from now, it is
    unassigned, and the new department is told."""
    reason = clean_message(reason, "reason")
    report = lock_report(report_id, expected_version)
    if not report.is_open:
        raise ValidationError({"department": [_("Only open reports can be rerouted; reopen it first.")]})
    routing = None
    if by_rules:
        location = report.location
        try:
            decision = route(report.category, location.x if location else None, location.y if location else None,
                             report.location_accuracy_m)
        except OutsideJurisdiction:
            raise ValidationError({"department": [_("No department answers for this place.")]}) from None
        department_id, routing = decision.department_id, decision.explanation
    elif not_ours:
        location = report.location
        department_id = operations_center_at(location.x if location else None, location.y if location else None)
    department = Department.objects.filter(pk=department_id, active=True).first() if department_id else None
    if department is None:
        raise ValidationError({"department": [_("Choose an active department.")]})
    if department.pk == report.department_id:
        raise ValidationError({"department": [_("The report is already with %(department)s.") % {
            "department": department.name}]})
    before = report.department
    now = timezone.now()
    report.department = department
    report.assigned_to = None
    report.escalated_at = None
    report.acknowledge_due_at, report.resolve_due_at = due_times(report.category, now)
    fields = ["department", "assigned_to", "escalated_at", "acknowledge_due_at", "resolve_due_at"]
    if routing is None:  # a person decided: the public explanation says so, and no more
        routing = {"reason": "not_ours" if not_ours else "rerouted", "rule": None,
                   "text": {lang: _in(lang, department, not_ours) for lang in ("vi", "en")}}
        rule_id = None
    else:
        rule_id = decision.rule_id
    report.routing, report.routing_rule_id = routing, rule_id
    fields += ["routing", "routing_rule"]
    touch(report, fields)
    Incident.objects.filter(pk=report.incident_id, report_count__lte=1).update(department=department)
    record(report, ReportEvent.Kind.REROUTED, actor=actor, message=reason, data={
        "from": before.code, "to": department.code, "by_rules": by_rules, "not_ours": not_ours})
    # The citizen sees where it went (not why: the reason is internal).
    record(report, ReportEvent.Kind.ROUTED, actor=actor, data={"rerouted": True}, public=True)
    forget_gathered(report, before)
    enqueue_department_notice(report, department, Event.REROUTED)
    return report


def _in(lang: str, department: Department, not_ours: bool) -> str:
    with override(lang):
        name = department.name_en if lang == "en" and department.name_en else department.name_vi
        if not_ours:
            return _("The department it was sent to is not responsible; %(department)s will place it.") % {
                "department": name}
        return _("Staff sent it to %(department)s.") % {"department": name}


def return_to_triage(report_id: int, reason: str, *, actor, expected_version: int | None = None) -> Report:
    """"Not our responsibility": back to the operations center's triage, with the reason."""
    return reroute_report(report_id, None, reason, actor=actor, expected_version=expected_version, not_ours=True)


@transaction.atomic
def reply_to_report(report_id: int, message: str, *, actor, expected_version: int | None = None) -> ReportEvent:
    """A public answer to the citizen: on the tracking page, and e-mailed to the reporter and
    supporters. The first answer acknowledges the report."""
    message = clean_message(message, "message")
    report = lock_report(report_id, expected_version)
    fields = []
    if report.acknowledged_at is None:
        report.acknowledged_at = timezone.now()
        fields.append("acknowledged_at")
    touch(report, fields)
    event = record(report, ReportEvent.Kind.COMMENT, actor=actor, message=message, public=True)
    enqueue_reply(report, message)
    return event


@transaction.atomic
def add_note(report_id: int, message: str, *, actor) -> ReportEvent:
    """An internal note: staff only. It changes nothing, so it never conflicts."""
    message = clean_message(message, "note")
    report = Report.objects.get(pk=report_id)
    return record(report, ReportEvent.Kind.NOTE, actor=actor, message=message)


@transaction.atomic
def approve_photo(photo_id: int, *, actor, public: bool = True) -> Photo:
    photo = Photo.objects.select_for_update().select_related("report").get(pk=photo_id)
    if photo.is_public != public:
        photo.is_public = public
        photo.save(update_fields=["is_public"])
        record(photo.report, ReportEvent.Kind.PHOTO_APPROVED, actor=actor,
               data={"photo": str(photo.uuid), "public": public})
    return photo


