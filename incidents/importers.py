"""Import reports from another system (a CSV export of a legacy 311 or hotline), through the
same submit_report as every other entry point: each row is validated, routed and grouped into
incidents as of its own date. A row that fails is reported with its line number and reason;
the others are imported. Reporter contact data is not imported."""

from __future__ import annotations

import csv
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.dateparse import parse_datetime

from incidents.events import record
from incidents.intake import ReportDraft, submit_report
from incidents.models import Incident, Report, ReportEvent


@dataclass
class ReportImportResult:
    created: int = 0
    skipped: int = 0  # rows whose category is not mapped
    rejected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"reports: {self.created} created, {self.skipped} skipped, {len(self.rejected)} rejected"
        return text + "".join(f"\n  {r}" for r in self.rejected[:50])


@dataclass
class Columns:
    category: str = "category"
    lon: str = "longitude"
    lat: str = "latitude"
    opened: str = "opened"
    closed: str = ""
    status: str = "status"
    description: str = ""
    external_id: str = ""


def _when(value: str, tz: zoneinfo.ZoneInfo) -> datetime | None:
    parsed = parse_datetime(value.strip().replace(" ", "T", 1)) if value and value.strip() else None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def import_reports(path: str | Path, category_map: dict[str, str], status_map: dict[str, str],
                   columns: Columns = Columns(), timezone_name: str = "UTC",
                   source: str = Report.Source.API) -> ReportImportResult:
    """`category_map` maps the file's categories to ours (unmapped rows are skipped);
    `status_map` maps its statuses to ours (unmapped: new)."""
    try:
        tz = zoneinfo.ZoneInfo(timezone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": [f"unknown time zone {timezone_name!r}"]}) from None
    bad = sorted(set(status_map.values()) - set(Report.Status.values))
    if bad:
        raise ValidationError({"status_map": [f"not a status: {', '.join(bad)}; use {', '.join(Report.Status.values)}"]})
    result = ReportImportResult()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        missing = [c for c in vars(columns).values() if c and c not in (rows.fieldnames or [])]
        if missing:
            raise ValidationError({"columns": [f"not in the file: {', '.join(missing)}"]})
        try:
            for line, row in enumerate(rows, start=2):
                category = category_map.get(row.get(columns.category) or "")
                if not category:
                    result.skipped += 1
                    continue
                try:
                    _import_row(row, line, category, status_map, columns, tz, source)
                    result.created += 1
                except (ValidationError, ValueError, TypeError, DatabaseError) as exc:
                    reason = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) \
                        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") else str(exc)
                    result.rejected.append(f"line {line}: {reason[:300]}")
        except UnicodeDecodeError as exc:
            raise ValidationError({"file": [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]}) from None
    return result


@transaction.atomic
def _import_row(row: dict, line: int, category: str, status_map: dict[str, str], columns: Columns,
                tz: zoneinfo.ZoneInfo, source: str) -> Report:
    opened = _when(row[columns.opened], tz)
    if opened is None:
        raise ValueError(f"unreadable {columns.opened} {row[columns.opened]!r}")
    report = submit_report(ReportDraft(
        category_code=category, lon=float(row[columns.lon]), lat=float(row[columns.lat]),
        description=row.get(columns.description, "")[:4000] if columns.description else "",
        address=f"{row[columns.external_id]}"[:400] if columns.external_id else "",
        source=source, created_at=opened), notify=False)
    status = status_map.get(row.get(columns.status, ""), Report.Status.NEW)
    if status != Report.Status.NEW:
        closed = _when(row.get(columns.closed, ""), tz) if columns.closed else None
        done = status in (Report.Status.RESOLVED, Report.Status.CLOSED)
        Report.objects.filter(pk=report.pk).update(status=status, resolved_at=(closed or opened) if done else None)
        if not Report.objects.filter(incident_id=report.incident_id).exclude(pk=report.pk).exists():
            # The row started its incident: the incident takes its status. Joined to an existing
            # one, it leaves the incident's status to the reports already there.
            Incident.objects.filter(pk=report.incident_id).update(
                status=status, resolved_at=(closed or opened) if done else None)
        record(report, ReportEvent.Kind.STATUS_CHANGED, from_status="new", to_status=status, public=True,
               at=closed or opened, data={"imported": True})
    return report
