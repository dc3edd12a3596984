"""The operations dashboard: per department and per ward, what is open, overdue and new today;
median times to acknowledge and to resolve; the share resolved within target; reopen and
recurrence rates; and 12-week trends, drawn server-side as SVG (charts.py). The operations
center sees every department; a department's manager sees their own.

Rates and medians are over the reports received in the last 12 weeks (PERIOD_WEEKS); times are
calendar hours (the targets themselves count working hours, and "within target" compares with
the stored due times, so it is exact)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from incidents.access import StaffScope
from incidents.console.access import staff_required
from incidents.console.charts import bar_chart, line_chart
from incidents.delivery.outbox import dead_message_count
from incidents.models import Report
from incidents.read.csv import BOM, spreadsheet_safe
from incidents.read.query import OVERDUE_SQL
from incidents.read.sql import language, localized

PERIOD_WEEKS = 12

# One row per department or ward ({key}: d or w, joined below). {scope} limits departments.
FIGURES_SQL = f"""
SELECT {{key}}.code, {{name}} AS name,
       count(*) FILTER (WHERE r.status = ANY(%(open_statuses)s)) AS open,
       count(*) FILTER (WHERE {OVERDUE_SQL}) AS overdue,
       count(*) FILTER (WHERE r.created_at >= %(today)s) AS new_today,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.acknowledged_at - r.created_at) / 3600)
           FILTER (WHERE r.created_at >= %(since)s AND r.acknowledged_at IS NOT NULL) AS median_ack_h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.resolved_at - r.created_at) / 3600)
           FILTER (WHERE r.created_at >= %(since)s AND r.resolved_at IS NOT NULL) AS median_resolve_h,
       count(*) FILTER (WHERE r.created_at >= %(since)s AND r.resolved_at IS NOT NULL
                              AND r.resolved_at <= r.resolve_due_at)::float
         / nullif(count(*) FILTER (WHERE r.created_at >= %(since)s AND r.resolved_at IS NOT NULL
                                         AND r.resolve_due_at IS NOT NULL), 0) AS within_target,
       count(*) FILTER (WHERE r.created_at >= %(since)s AND EXISTS (
           SELECT 1 FROM incidents_reportevent e WHERE e.report_id = r.id AND e.to_status = 'reopened'))::float
         / nullif(count(*) FILTER (WHERE r.created_at >= %(since)s), 0) AS reopen_rate,
       count(*) FILTER (WHERE r.created_at >= %(since)s AND r.recurrence_of_id IS NOT NULL)::float
         / nullif(count(*) FILTER (WHERE r.created_at >= %(since)s), 0) AS recurrence_rate
FROM incidents_report r
JOIN incidents_department d ON d.id = r.department_id
{{join}}
WHERE (r.status = ANY(%(open_statuses)s) OR r.created_at >= %(since)s) {{scope}}
GROUP BY {{key}}.id, {{key}}.code, {{key}}.name_vi, {{key}}.name_en
ORDER BY overdue DESC, open DESC, {{key}}.code
"""

# Per week (Monday, local time) of the last PERIOD_WEEKS: received, resolved, and the median
# hours to acknowledge of the reports received that week.
TREND_SQL = """
WITH weeks AS (
    SELECT generate_series(date_trunc('week', %(since)s AT TIME ZONE %(tz)s),
                           date_trunc('week', %(now)s AT TIME ZONE %(tz)s), interval '1 week') AS week
),
received AS (
    SELECT date_trunc('week', r.created_at AT TIME ZONE %(tz)s) AS week, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.acknowledged_at - r.created_at) / 3600)
               FILTER (WHERE r.acknowledged_at IS NOT NULL) AS median_ack_h
    FROM incidents_report r WHERE r.created_at >= %(since)s {scope} GROUP BY 1
),
resolved AS (
    SELECT date_trunc('week', r.resolved_at AT TIME ZONE %(tz)s) AS week, count(*) AS n
    FROM incidents_report r WHERE r.resolved_at >= %(since)s {scope} GROUP BY 1
)
SELECT w.week, coalesce(rc.n, 0), coalesce(rs.n, 0), rc.median_ack_h
FROM weeks w LEFT JOIN received rc ON rc.week = w.week LEFT JOIN resolved rs ON rs.week = w.week
ORDER BY w.week
"""

COLUMNS = ["code", "name", "open", "overdue", "new_today", "median_ack_h", "median_resolve_h", "within_target",
           "reopen_rate", "recurrence_rate"]


@dataclass
class Figures:
    rows: list[dict]
    weeks: list[datetime]
    received: list[int]
    resolved: list[int]
    median_ack_h: list[float | None]


def figures(scope: StaffScope, by: str, now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    lang = language()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(weeks=PERIOD_WEEKS, days=today.weekday())  # a Monday: whole weeks only
    params = {"open_statuses": list(Report.OPEN_STATUSES), "now": now, "today": today, "lang": lang,
              "since": since, "tz": settings.TIME_ZONE,
              "scope": scope.managed_department_ids if not scope.sees_everything else None}
    scope_sql = "" if params["scope"] is None else "AND r.department_id = ANY(%(scope)s)"
    if by == "ward":
        sql = FIGURES_SQL.format(key="w", name=localized("w"), join="JOIN geo_area w ON w.id = r.ward_id",
                                 scope=scope_sql)
    else:
        sql = FIGURES_SQL.format(key="d", name=localized("d"), join="", scope=scope_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]
        cursor.execute(TREND_SQL.format(scope=scope_sql), params)
        trend = cursor.fetchall()
    return Figures(rows, [t[0] for t in trend], [t[1] for t in trend], [t[2] for t in trend],
                   [t[3] for t in trend])


def _allowed(scope: StaffScope) -> None:
    if not (scope.sees_everything or scope.is_manager):
        raise Http404


def _by(request) -> str:
    return "ward" if request.GET.get("by") == "ward" else "department"


@staff_required
def dashboard(request):
    scope: StaffScope = request.scope
    _allowed(scope)
    by = _by(request)
    data = figures(scope, by)
    weeks = [date_format(w, "d/m") for w in data.weeks]
    charts = [
        line_chart(_("Reports received and resolved per week"), weeks,
                   [(_("received"), data.received), (_("resolved"), data.resolved)], empty_text=_("No data")),
        line_chart(_("Median hours to acknowledge, by week received"), weeks,
                   [(_("median hours"), data.median_ack_h)], y_format="{:.0f}", empty_text=_("No data")),
        bar_chart(_("Overdue reports"), [(r["name"], r["overdue"]) for r in data.rows if r["overdue"]],
                  max_rows=12, more_text=_("+{n} more"), empty_text=_("Nothing overdue")),
        bar_chart(_("Resolved within target (%)"),
                  [(r["name"], round(100 * r["within_target"])) for r in data.rows if r["within_target"] is not None],
                  value_format="{:.0f}%", target=80, max_rows=12, more_text=_("+{n} more"), target_label=_("goal: %(n)s%%") % {"n": 80}, empty_text=_("No data")),
    ]
    # Messages the outbox gave up on are the operations center's to notice (the admin retries them).
    dead = dead_message_count() if scope.sees_everything else 0
    return render(request, "console/dashboard.html", {"figures": data, "charts": charts, "by": by,
                                                      "weeks": PERIOD_WEEKS, "dead_messages": dead})


@staff_required
def dashboard_csv(request):
    scope: StaffScope = request.scope
    _allowed(scope)
    by = _by(request)
    data = figures(scope, by)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="citypin-{by}-figures-{timezone.localdate()}.csv"'
    response.write(BOM)
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for row in data.rows:
        writer.writerow(["" if row[c] is None else (round(row[c], 3) if isinstance(row[c], float)
                                                    else spreadsheet_safe(row[c])) for c in COLUMNS])
    return response
