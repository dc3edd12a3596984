"""Bulk actions: one action applied to many reports, each in its own transaction, so one
failure leaves the others done and is reported with why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from incidents.models import Report
from incidents.workflow import Conflict


# Bulk actions: each item in its own transaction, so one failure leaves the others done.
@dataclass
class BulkResult:
    done: list[str]
    failed: dict[str, str]  # public id → why


def bulk_apply(reports: list[Report], action: Callable[[Report], object]) -> BulkResult:
    result = BulkResult([], {})
    for report in reports:
        try:
            with transaction.atomic():
                action(report)
            result.done.append(report.public_id)
        except Conflict:
            result.failed[report.public_id] = _("Changed by someone else meanwhile.")
        except ValidationError as exc:
            result.failed[report.public_id] = " ".join(
                str(m) for messages in exc.message_dict.values() for m in messages)
    return result
