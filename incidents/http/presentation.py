"""Presentation shared by the faces: how a status looks (a colour and a symbol, so status is
never carried by colour alone)."""

from __future__ import annotations

from incidents.models import Report

STATUS_STYLE = {  # colour and a symbol, so status is never carried by colour alone
    "new": ("#c0392b", "!"), "acknowledged": ("#d35400", "i"), "in_progress": ("#1f618d", "…"),
    "reopened": ("#7d3c98", "↺"), "resolved": ("#1e8449", "✓"), "closed": ("#566573", "■"),
    "rejected": ("#34495e", "✕"), "duplicate": ("#7f8c8d", "="),
}


def statuses() -> list[dict]:
    return [{"code": s.value, "label": str(s.label), "colour": STATUS_STYLE[s.value][0],
             "symbol": STATUS_STYLE[s.value][1]} for s in Report.Status]
