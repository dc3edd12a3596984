"""What choosing recipients and templates costs a change (incidents.notices), beside the bare
work it always did in the same run: render the file templates and insert the outbox rows.

For one report with a reporter and 2 supporters with e-mails, in a transaction rolled back:
1. a status change's mails (reporter + 2 supporters, each in their language, each with its own
   unsubscribe link) through enqueue_status_update: the rule look-up, the stored-template
   look-ups, the unsubscription check; baseline: the same three mails rendered from the file
   templates and inserted, nothing looked up;
2. the same with a stored template for the event (rendered from the database row);
3. intake's notices (the department's bilingual mail and the receipt) through
   enqueue_department_notice + enqueue_reporter_receipt; baseline: the same renders and inserts.

    CITYPIN_BENCH_DB=citypin_bench_mail .venv/bin/python bench/notices.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import time

import _db

_db.use_bench_database()

from django.db import transaction  # noqa: E402

from incidents.mailing import render  # noqa: E402
from incidents.models import Department, MessageTemplate, Notice, OutboxMessage, Report, Supporter  # noqa: E402
from incidents.notices import (  # noqa: E402
    BILINGUAL_SEPARATOR,
    enqueue_department_notice,
    enqueue_reporter_receipt,
    enqueue_status_update,
    unsubscribe_url,
)


class Rollback(Exception):
    pass


def per_call_ms(fn, repeat: int) -> float:
    """Best of 3 rounds of `repeat` calls, each round in a rolled-back transaction; ms per call."""
    best = float("inf")
    for _ in range(3):
        try:
            with transaction.atomic():
                start = time.perf_counter()
                for _ in range(repeat):
                    fn()
                best = min(best, (time.perf_counter() - start) / repeat * 1000)
                raise Rollback
        except Rollback:
            pass
    return best


def bare_status(report: Report, followers: list[tuple[str, str]]) -> None:
    rows = []
    for email, language in followers:
        mail = render(Notice.STATUS, language, {"report": report, "message": "Đã vá xong",
                                               "unsubscribe_url": unsubscribe_url(email, report)}, use_stored=False)
        rows.append(OutboxMessage(recipient=email, subject=mail.subject, body=mail.body, report=report))
    OutboxMessage.objects.bulk_create(rows)


def bare_intake(report: Report, department: Department) -> None:
    values = {"report": report, "department": department}
    vi, en = render(Notice.ROUTED, "vi", values, use_stored=False), render(Notice.ROUTED, "en", values, use_stored=False)
    receipt = render(Notice.RECEIPT, "vi", {**values, "unsubscribe_url": unsubscribe_url("r@example.vn", report)},
                     use_stored=False)
    OutboxMessage.objects.bulk_create([
        OutboxMessage(recipient=department.email, subject=vi.subject, body=vi.body + BILINGUAL_SEPARATOR + en.body,
                      report=report),
        OutboxMessage(recipient="r@example.vn", subject=receipt.subject, body=receipt.body, report=report)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    _db.grow_to(1000)
    try:
        with transaction.atomic():
            report = Report.objects.select_related("category", "department").filter(department__isnull=False).first()
            Report.objects.filter(pk=report.pk).update(reporter_email="r@example.vn", language="vi")
            report.reporter_email, report.language = "r@example.vn", "vi"
            department = report.department
            department.email = department.email or "dept@example.vn"
            department.save()
            Supporter.objects.bulk_create([Supporter(report=report, email="s1@example.vn", language="vi"),
                                           Supporter(report=report, email="s2@example.com", language="en")])
            followers = [("r@example.vn", "vi"), ("s1@example.vn", "vi"), ("s2@example.com", "en")]
            n = args.repeat
            print(f"notices per call (ms), best of 3 rounds of {n}:")
            base = per_call_ms(lambda: bare_status(report, followers), n)
            new = per_call_ms(lambda: enqueue_status_update(report, "Đã vá xong"), n)
            print(f"  status change, 3 citizens:        {new:6.2f}  beside bare render+insert {base:6.2f}  (+{new - base:.2f})")
            MessageTemplate.objects.create(event=Notice.STATUS, language="vi", subject="[Citypin] {{ report.public_id }}",
                                           body="{{ report.status }}\n{{ message }}\n{{ unsubscribe_url }}")
            stored = per_call_ms(lambda: enqueue_status_update(report, "Đã vá xong"), n)
            print(f"  the same with a stored vi template: {stored:6.2f}")
            MessageTemplate.objects.all().delete()
            base = per_call_ms(lambda: bare_intake(report, department), n)
            new = per_call_ms(lambda: (enqueue_department_notice(report, department), enqueue_reporter_receipt(report)),
                              n)
            print(f"  intake's notices (dept + receipt): {new:6.2f}  beside bare render+insert {base:6.2f}  (+{new - base:.2f})")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
