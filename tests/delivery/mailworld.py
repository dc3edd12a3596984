"""A world for the notice tests: the department and the operations center have addresses; one
report by a Vietnamese reporter, one by an English one, each with a supporter."""

from django.core import mail

from incidents.delivery.outbox import send_pending
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import OutboxMessage
from tests.world import build_world

DEPARTMENT = "construction@example.vn"
IOC = "ioc@example.vn"
REPORTER_VI = "chi-lan@example.vn"
REPORTER_EN = "john@example.com"
SUPPORTER_VI = "hang-xom@example.vn"
SUPPORTER_EN = "neighbour@example.com"


def build_mail_world(cls) -> None:
    build_world(cls)
    cls.construction.email = DEPARTMENT
    cls.construction.save()
    cls.ioc.email = IOC
    cls.ioc.save()
    cls.report_vi = pothole(REPORTER_VI, "vi", name="Chị Lan", phone="0909111222")
    cls.report_en = pothole(REPORTER_EN, "en", name="John Smith", phone="0909333444")


def pothole(email: str, language: str, *, name: str = "", phone: str = "", description: str = "Ổ gà"):
    return submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"},
                                     description=description, language=language,
                                     reporter=Reporter(name=name, email=email, phone=phone)))


def deliver() -> dict:
    """Send what is queued; the mails by recipient (each mail has one)."""
    mail.outbox.clear()
    send_pending()
    sent = {}
    for message in mail.outbox:
        assert len(message.to) == 1 and not message.cc and not message.bcc
        sent.setdefault(message.to[0], []).append(message)
    return sent


def clear_outbox() -> None:
    OutboxMessage.objects.all().delete()
    mail.outbox.clear()
