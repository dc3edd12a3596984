"""The console's side of access: sign-in required, the scope on the request, and a report out
of scope answering 404 (incidents.access says who may see and do what)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from incidents.access import StaffScope, staff_scope
from incidents.models import Report


def staff_required(view):
    """Sign-in required; the scope is request.scope. Someone signed in but not staff gets 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = staff_scope(request.user)
        if scope is None:
            raise PermissionDenied
        request.scope = scope
        return view(request, *args, **kwargs)

    return wrapper


def report_in_scope(scope: StaffScope, public_id: str) -> Report:
    """The report if it is in scope, else 404 (the same answer as for a report that does not exist)."""
    report = (scope.reports().select_related("category", "department", "ward", "assigned_to", "incident")
              .filter(public_id=public_id).first())
    if report is None:
        raise Http404
    return report
