"""Who may see and do what among staff.

A staff member belongs to departments with a role: an agent works the department's reports, a
manager also assigns work, edits the department's response templates and sees its statistics,
a viewer only reads. Members of an operations center (and superusers, as its managers) see and
act on every report. Everything else is out of scope, and out of scope answers 404, never 403:
a report of another department does not exist for you, whatever the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from incidents.models import Report, StaffMembership
from incidents.workflow import lock_report

Role = StaffMembership.Role
RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.MANAGER: 2}


@dataclass(frozen=True)
class StaffScope:
    user_id: int
    roles: dict[int, str]  # department id → role, for the departments of the member
    operations_center_role: str | None  # the best role in any operations center, if a member of one

    @property
    def sees_everything(self) -> bool:
        return self.operations_center_role is not None

    @property
    def department_ids(self) -> list[int] | None:
        """The departments in scope; None means all of them."""
        return None if self.sees_everything else sorted(self.roles)

    def role_for(self, department_id: int) -> str | None:
        roles = [r for r in (self.roles.get(department_id), self.operations_center_role) if r]
        return max(roles, key=RANK.__getitem__) if roles else None

    def can_see(self, department_id: int) -> bool:
        return self.role_for(department_id) is not None

    def can_act(self, department_id: int) -> bool:
        return RANK.get(self.role_for(department_id), -1) >= RANK[Role.AGENT]

    def can_manage(self, department_id: int) -> bool:
        return self.role_for(department_id) == Role.MANAGER

    @property
    def acting_department_ids(self) -> list[int] | None:
        """Departments whose reports this member may change; None: all."""
        if RANK.get(self.operations_center_role, -1) >= RANK[Role.AGENT]:
            return None
        return sorted(d for d in self.roles if self.can_act(d))

    @property
    def managed_department_ids(self) -> list[int] | None:
        """Departments whose statistics and templates this member manages; None: all."""
        if self.operations_center_role == Role.MANAGER:
            return None
        return sorted(d for d, role in self.roles.items() if role == Role.MANAGER)

    @property
    def is_manager(self) -> bool:
        return self.managed_department_ids is None or bool(self.managed_department_ids)

    def reports(self) -> QuerySet[Report]:
        reports = Report.objects.all()
        return reports if self.sees_everything else reports.filter(department_id__in=self.department_ids)


def staff_scope(user) -> StaffScope | None:
    """The scope of a signed-in user; None for someone who is not staff."""
    if not user.is_authenticated or not user.is_active:
        return None
    memberships = list(StaffMembership.objects.filter(user=user, department__active=True)
                       .values_list("department_id", "role", "department__is_operations_center"))
    roles = {department_id: role for department_id, role, _ in memberships}
    center_roles = [role for _, role, is_center in memberships if is_center]
    if user.is_superuser:
        center_roles.append(Role.MANAGER)
    if not roles and not center_roles:
        return None
    return StaffScope(user.pk, roles, max(center_roles, key=RANK.__getitem__) if center_roles else None)




def lock_in_scope(scope: StaffScope, report_id: int) -> Report:
    """Lock the report (inside the caller's transaction) and check, on the locked row, that it
    is still the member's to change: it may have been rerouted since the page was read."""
    report = lock_report(report_id)
    if not scope.can_act(report.department_id):
        raise ValidationError({"department": [_("Someone else sent this report to another department meanwhile.")]})
    return report


def authorize_assignment(scope: StaffScope, report: Report, assignee_id: int | None) -> None:
    """Managers assign anyone; an agent takes an unassigned report, or gives back their own
    (assignee_id None: unassigned). Raises ValidationError on "assignee" otherwise."""
    if scope.can_manage(report.department_id):
        return
    mine = scope.user_id
    if (assignee_id == mine and report.assigned_to_id in (None, mine)) or (
            assignee_id is None and report.assigned_to_id == mine):
        return
    raise ValidationError({"assignee": [_("Only a manager assigns work to others; you can take an unassigned report "
                                          "yourself.")]})


def authorize_incident_status(scope: StaffScope, incident_id: int) -> None:
    """A whole incident's status is set only by a member who acts for every report in it.
    Raises ValidationError on "whole_incident" otherwise."""
    departments = set(Report.objects.filter(incident_id=incident_id).values_list("department_id", flat=True))
    if not all(scope.can_act(d) for d in departments):
        raise ValidationError({"whole_incident": [_("Some reports of this incident belong to another department; "
                                                    "change this report alone.")]})
