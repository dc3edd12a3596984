"""In a storm a department's mailbox gets one mail per window, not one per report
(CITYPIN_STAFF_NOTICE_GATHER_S, incidents.notices): the first new report's mail goes at once,
the others of its window are gathered and sent as one mail when it ends, by the worker; other
addresses and other notices are not held back."""

from datetime import timedelta

from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.models import GatheredNotice, Notice, NotificationRule, OutboxMessage, StaffNoticeWindow
from incidents.notices import MAX_GATHERED, send_gathered_notices
from incidents.triage import reroute_report
from incidents.worker import run_once
from incidents.workflow import transition_report
from tests.delivery.mailworld import DEPARTMENT, IOC, build_mail_world, clear_outbox, deliver, pothole

WINDOW_S = 120


def later(seconds: float = WINDOW_S + 1):
    return timezone.now() + timedelta(seconds=seconds)


def mails_to(address: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(recipient=address).order_by("id"))


@override_settings(CITYPIN_STAFF_NOTICE_GATHER_S=WINDOW_S)
class GatheredNoticeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        StaffNoticeWindow.objects.all().delete()  # a fresh start: the world's reports opened a window
        GatheredNotice.objects.all().delete()
        clear_outbox()

    def test_the_first_new_report_is_mailed_at_once_and_the_next_ones_wait_for_the_window(self):
        first = pothole("a@example.vn", "vi")
        [mail] = mails_to(DEPARTMENT)
        self.assertIn(first.public_id, mail.subject)
        second, third = pothole("b@example.vn", "vi"), pothole("c@example.vn", "en")
        self.assertEqual(len(mails_to(DEPARTMENT)), 1)
        self.assertEqual(sorted(GatheredNotice.objects.values_list("report_id", flat=True)), [second.pk, third.pk])
        self.assertEqual({m.recipient for m in OutboxMessage.objects.all()},  # the reporters' receipts go at once
                         {DEPARTMENT, "a@example.vn", "b@example.vn", "c@example.vn"})

        self.assertEqual(send_gathered_notices(), 0)  # the window is still open
        self.assertEqual(send_gathered_notices(later()), 1)
        [_first, gathered] = mails_to(DEPARTMENT)
        self.assertIn("2", gathered.subject)
        for report in (second, third):
            self.assertIn(report.public_id, gathered.body)
            self.assertIn(f"/console/r/{report.public_id}/", gathered.body)
        self.assertNotIn(first.public_id, gathered.body)
        self.assertFalse(GatheredNotice.objects.exists())

    def test_the_gathered_mail_is_bilingual_and_names_no_reporter(self):
        pothole("a@example.vn", "vi")
        pothole("b@example.vn", "vi", name="Nguyễn Văn Bí Mật", phone="0909777888", description="Hố sâu")
        send_gathered_notices(later())
        deliver()
        gathered = mails_to(DEPARTMENT)[-1]
        self.assertIn("báo cáo mới", gathered.subject)
        vietnamese, english = gathered.body.split("\n---\n")
        self.assertIn("Trong vài phút qua có 1 báo cáo mới", vietnamese)
        self.assertIn("Ổ gà", vietnamese)  # the category, in the language
        self.assertIn("1 new report was routed here", english)
        self.assertIn("Pothole", english)
        for private in ("Nguyễn Văn Bí Mật", "0909777888", "b@example.vn"):
            self.assertNotIn(private, gathered.body)

    def test_a_storm_keeps_gathering_window_after_window_and_lists_at_most_fifty(self):
        pothole("a@example.vn", "vi")
        for i in range(MAX_GATHERED + 3):
            pothole("", "vi", description=f"ổ gà {i}")
        self.assertEqual(send_gathered_notices(later()), 1)
        gathered = mails_to(DEPARTMENT)[-1]
        self.assertEqual(gathered.body.split("\n---\n")[0].count("/console/r/"), MAX_GATHERED)
        self.assertIn("Và 3 báo cáo khác.", gathered.body)
        self.assertIn("And 3 more.", gathered.body)
        # The storm goes on: the next window is open from that mail on, so the next reports wait too.
        StaffNoticeWindow.objects.update(until=timezone.now() + timedelta(seconds=WINDOW_S))
        pothole("", "vi")
        self.assertEqual(len(mails_to(DEPARTMENT)), 2)
        self.assertEqual(GatheredNotice.objects.count(), 1)

    def test_in_a_storm_that_outlasts_its_window_the_reports_wait_for_the_worker_not_for_the_storm_s_end(self):
        pothole("a@example.vn", "vi")
        waiting = [pothole("", "vi"), pothole("", "vi")]
        StaffNoticeWindow.objects.update(until=timezone.now() - timedelta(days=1))  # the window ended...
        waiting.append(pothole("", "vi"))  # ...and the storm goes on before the worker's pass
        self.assertEqual(len(mails_to(DEPARTMENT)), 1)
        self.assertEqual(send_gathered_notices(), 1)
        gathered = mails_to(DEPARTMENT)[-1]
        self.assertIn("3", gathered.subject)
        for report in waiting:
            self.assertIn(report.public_id, gathered.body)
        pothole("", "vi")  # the worker opened the next window
        self.assertEqual((len(mails_to(DEPARTMENT)), GatheredNotice.objects.count()), (2, 1))

    def test_after_a_quiet_window_the_next_report_is_mailed_at_once_again(self):
        pothole("a@example.vn", "vi")
        StaffNoticeWindow.objects.update(until=timezone.now() - timedelta(days=1))
        report = pothole("b@example.vn", "vi")
        self.assertIn(report.public_id, mails_to(DEPARTMENT)[-1].subject)
        self.assertFalse(GatheredNotice.objects.exists())

    def test_every_staff_address_of_the_rule_has_its_own_window(self):
        NotificationRule.objects.create(event=Notice.ROUTED, to_department=True, to_operations_center=True,
                                        to_reporter=True)
        pothole("a@example.vn", "vi")
        self.assertEqual((len(mails_to(DEPARTMENT)), len(mails_to(IOC))), (1, 1))
        StaffNoticeWindow.objects.filter(recipient=IOC).update(until=timezone.now() - timedelta(days=1))
        report = pothole("b@example.vn", "vi")
        self.assertEqual((len(mails_to(DEPARTMENT)), len(mails_to(IOC))), (1, 2))
        self.assertEqual(list(GatheredNotice.objects.values_list("recipient", "report_id")), [(DEPARTMENT, report.pk)])

    def test_other_notices_are_never_held_back(self):
        first = pothole("a@example.vn", "vi")
        transition_report(first.pk, "resolved", message="Xong")
        clear_outbox()
        transition_report(first.pk, "reopened", message="Vẫn còn")  # the department's reopen notice
        [mail] = mails_to(DEPARTMENT)
        self.assertIn(first.public_id, mail.subject)

    def test_a_deleted_report_leaves_the_mail_it_was_waiting_for(self):
        pothole("a@example.vn", "vi")
        waiting = pothole("b@example.vn", "vi")
        waiting.delete()
        self.assertFalse(GatheredNotice.objects.exists())
        self.assertEqual(send_gathered_notices(later()), 0)

    def test_a_report_rerouted_while_it_waits_leaves_the_old_department_s_mail(self):
        """The old department could no longer open it; the new one is told at once by the
        reroute's own notice."""
        self.road_authority.email = "roads@example.vn"
        self.road_authority.save()
        pothole("a@example.vn", "vi")
        kept, moved = pothole("b@example.vn", "vi"), pothole("c@example.vn", "vi")
        reroute_report(moved.pk, self.road_authority.pk, "Đường của khu", actor=None)
        [rerouted] = mails_to("roads@example.vn")
        self.assertIn(moved.public_id, rerouted.subject)
        self.assertEqual(send_gathered_notices(later()), 1)
        gathered = mails_to(DEPARTMENT)[-1]
        self.assertIn(kept.public_id, gathered.body)
        self.assertNotIn(moved.public_id, gathered.body)
        self.assertIn("1 new report was routed here", gathered.body)

    def test_a_report_rerouted_while_it_waits_alone_leaves_no_mail(self):
        pothole("a@example.vn", "vi")
        moved = pothole("b@example.vn", "vi")
        reroute_report(moved.pk, self.road_authority.pk, "Đường của khu", actor=None)
        self.assertEqual(send_gathered_notices(later()), 0)
        self.assertEqual(len(mails_to(DEPARTMENT)), 1)

    def test_the_worker_s_pass_sends_what_a_window_gathered(self):
        pothole("a@example.vn", "vi")
        pothole("b@example.vn", "vi")
        StaffNoticeWindow.objects.update(until=timezone.now() - timedelta(days=1))
        self.assertIn("gathered notices: 1", run_once())
        self.assertEqual(len(mails_to(DEPARTMENT)), 2)


@override_settings(CITYPIN_STAFF_NOTICE_GATHER_S=0)
class NotGatheredTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        clear_outbox()

    def test_with_no_window_every_report_is_mailed_at_once(self):
        for email in ("a@example.vn", "b@example.vn", "c@example.vn"):
            pothole(email, "vi")
        self.assertEqual(len(mails_to(DEPARTMENT)), 3)
        self.assertFalse(GatheredNotice.objects.exists() or StaffNoticeWindow.objects.exists())
