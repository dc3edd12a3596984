"""Subscriptions and reports for the area alert tests, in tests.world's hand-placed world
(SRID 4326, lon/lat): ward A is lon 105.70–105.75, ward B lon 105.75–105.79, lat 10.00–10.10."""

from __future__ import annotations

import json

from incidents.alerts import AlertRequest, confirm_alert, send_immediate_alerts, subscribe_alert
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import AreaAlert, Report

SQUARE_IN_A = {"type": "Polygon", "coordinates": [[[105.71, 10.01], [105.73, 10.01], [105.73, 10.03],
                                                    [105.71, 10.03], [105.71, 10.01]]]}


def subscribed(email: str = "lan@example.vn", confirm: bool = True, **fields) -> AreaAlert:
    """A subscription made the way the page makes it, confirmed unless told otherwise."""
    if isinstance(fields.get("area"), dict):
        fields["area"] = json.dumps(fields["area"])
    alert = subscribe_alert(AlertRequest(email=email, **{k: str(v) for k, v in fields.items()}))
    return confirm_alert(alert) if confirm else alert


def in_ward(ward, **fields) -> AreaAlert:
    return subscribed(kind="ward", ward=ward.pk, **fields)


def reported(lon: float, lat: float, category: str = "encroachment", alerts: bool = True, **fields) -> Report:
    """A report by a citizen with contact details (which no alert may show), and the worker's
    pass over the immediate alerts that follows within seconds (alerts=False: not yet)."""
    draft = ReportDraft(category_code=category, lon=lon, lat=lat, description=fields.pop("description", "Lấn chiếm vỉa hè"),
                        reporter=Reporter(name="Trần Thị Bí Mật", email="bimat@example.vn", phone="0909 555 123"),
                        attributes=fields.pop("attributes", {}), **fields)
    report = submit_report(draft)
    if alerts:
        send_immediate_alerts()
    return report
