"""Reports planted in the hand-placed world (tests/world.py) for the OGC API tests: one a day
from 1 March 2026, alternately potholes and encroachments, on a grid 0.01° (~1.1 km) apart over
wards A (lon 105.70–105.75) and B (lon 105.75–105.79), so none is another's duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents.intake import ReportDraft, submit_report
from incidents.models import Report

FIRST_DAY = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def place(i: int) -> tuple[float, float]:
    """The i-th grid point: eight columns from lon 105.705, rows from lat 10.005 going north
    (skipping the road's row at 10.05)."""
    row = i // 8
    return 105.705 + (i % 8) * 0.01, 10.005 + (row + (row >= 4)) * 0.01


def plant_reports(n: int, first: int = 0) -> list[Report]:
    reports = []
    for i in range(first, first + n):
        lon, lat = place(i)
        kind = {"category_code": "pothole", "attributes": {"size": "small"}} if i % 2 == 0 else \
            {"category_code": "encroachment"}
        reports.append(submit_report(ReportDraft(lon=lon, lat=lat, description=f"Báo cáo số {i}",
                                                 created_at=FIRST_DAY + timedelta(days=i), **kind)))
    return reports
