"""Who is told what: the defaults, rules per department and category (the most specific wins),
the department's reopen and supporter-milestone notices, the operations center's escalations
and its dead-message digest."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.escalation import escalate_overdue
from incidents.models import DigestRun, Notice, NotificationRule, OutboxMessage, Report
from incidents.notices import enqueue_dead_message_digest
from incidents.workflow import support_report, transition_report
from tests.delivery.mailworld import (
    DEPARTMENT,
    IOC,
    REPORTER_VI,
    SUPPORTER_VI,
    build_mail_world,
    clear_outbox,
    deliver,
    pothole,
)


def recipients() -> set[str]:
    return set(OutboxMessage.objects.filter(channel="email").values_list("recipient", flat=True))


class DefaultTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        support_report(cls.report_vi, email=SUPPORTER_VI, language="vi")
        clear_outbox()

    def test_a_new_report_tells_the_department_and_the_reporter(self):
        pothole("new@example.vn", "vi")
        self.assertEqual(recipients(), {DEPARTMENT, "new@example.vn"})

    def test_a_public_status_change_tells_the_reporter_and_the_supporter_not_the_department(self):
        transition_report(self.report_vi.pk, "in_progress", message="Đang làm")
        self.assertEqual(recipients(), {REPORTER_VI, SUPPORTER_VI})

    def test_an_internal_status_change_tells_nobody(self):
        transition_report(self.report_vi.pk, "in_progress", message="nội bộ", is_public=False)
        self.assertEqual(recipients(), set())

    def test_a_reopen_tells_the_department(self):
        transition_report(self.report_vi.pk, "resolved", message="Xong")
        clear_outbox()
        transition_report(self.report_vi.pk, "reopened", message="Vẫn còn ổ gà")
        [message] = deliver()[DEPARTMENT]
        self.assertIn(self.report_vi.public_id, message.subject)
        self.assertIn("Vẫn còn ổ gà", message.body)

    def test_an_unacknowledged_report_tells_the_operations_center(self):
        Report.objects.filter(pk=self.report_vi.pk).update(acknowledge_due_at=timezone.now() - timedelta(hours=1))
        escalate_overdue()
        [message] = deliver()[IOC]
        self.assertIn(self.report_vi.public_id, message.subject)
        self.assertNotIn("List-Unsubscribe", message.extra_headers)


class RuleTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        support_report(cls.report_vi, email=SUPPORTER_VI, language="vi")
        clear_outbox()

    def test_a_rule_can_keep_supporters_out_of_status_mail(self):
        NotificationRule.objects.create(event=Notice.STATUS, to_reporter=True)
        transition_report(self.report_vi.pk, "in_progress", message="Đang làm")
        self.assertEqual(recipients(), {REPORTER_VI})

    def test_a_rule_can_copy_the_operations_center_and_another_address(self):
        NotificationRule.objects.create(event=Notice.ROUTED, to_department=True, to_operations_center=True,
                                        extra_recipients="Boss@Example.vn\n")
        pothole("", "vi")
        self.assertEqual(recipients(), {DEPARTMENT, IOC, "boss@example.vn"})

    def test_a_rule_for_another_department_changes_nothing_here(self):
        NotificationRule.objects.create(event=Notice.ROUTED, department=self.committee_a)
        pothole("", "vi")
        self.assertEqual(recipients(), {DEPARTMENT})

    def test_the_category_rule_wins_over_the_department_rule(self):
        NotificationRule.objects.create(event=Notice.ROUTED, department=self.construction)  # nobody
        NotificationRule.objects.create(event=Notice.ROUTED, category=self.pothole, to_operations_center=True)
        pothole("", "vi")
        self.assertEqual(recipients(), {IOC})

    def test_the_department_and_category_rule_wins_over_both(self):
        NotificationRule.objects.create(event=Notice.ROUTED, category=self.pothole, to_operations_center=True)
        NotificationRule.objects.create(event=Notice.ROUTED, department=self.construction, category=self.pothole,
                                        to_department=True)
        pothole("", "vi")
        self.assertEqual(recipients(), {DEPARTMENT})

    def test_an_inactive_rule_is_ignored(self):
        NotificationRule.objects.create(event=Notice.ROUTED, active=False)
        pothole("", "vi")
        self.assertEqual(recipients(), {DEPARTMENT})

    def test_a_rule_telling_nobody_silences_the_receipt(self):
        NotificationRule.objects.create(event=Notice.RECEIPT)
        pothole("quiet@example.vn", "vi")
        self.assertEqual(recipients(), {DEPARTMENT})

    def test_each_notice_of_a_new_report_follows_its_own_rule(self):
        """Intake reads the department's and the reporter's rules together: each keeps its own."""
        NotificationRule.objects.create(event=Notice.ROUTED, category=self.pothole, to_operations_center=True)
        NotificationRule.objects.create(event=Notice.RECEIPT, department=self.construction, to_reporter=True,
                                        extra_recipients="desk@example.vn")
        NotificationRule.objects.create(event=Notice.RECEIPT, to_department=True)  # less specific: loses
        pothole("both@example.vn", "vi")
        self.assertEqual(recipients(), {IOC, "both@example.vn", "desk@example.vn"})

    def test_staff_copies_are_bilingual_and_carry_no_unsubscribe(self):
        NotificationRule.objects.create(event=Notice.STATUS, to_reporter=True, extra_recipients="boss@example.vn")
        transition_report(self.report_vi.pk, "in_progress", message="Đang làm")
        [message] = deliver()["boss@example.vn"]
        self.assertIn("is now: in progress", message.body)
        self.assertNotIn("List-Unsubscribe", message.extra_headers)

    def test_a_staff_copy_of_a_citizens_mail_names_no_citizen(self):
        NotificationRule.objects.create(event=Notice.STATUS, to_reporter=True, to_supporters=True,
                                        extra_recipients="boss@example.vn")
        transition_report(self.report_vi.pk, "in_progress", message="Đang làm")
        [message] = deliver()["boss@example.vn"]
        for private in (REPORTER_VI, SUPPORTER_VI, "Chị Lan", "0909111222"):
            self.assertNotIn(private, message.body + message.subject + str(message.extra_headers))


class RuleAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        cls.admin = get_user_model().objects.create_superuser("root", "root@example.vn", "pw")

    def setUp(self):
        self.client.force_login(self.admin)

    def test_the_admin_refuses_a_bad_extra_address_naming_the_field(self):
        response = self.client.post("/admin/incidents/notificationrule/add/", {
            "event": "routed", "extra_recipients": "ok@example.vn\nnot an address", "active": "on"})
        self.assertIn("extra_recipients", response.context["adminform"].form.errors)
        self.assertFalse(NotificationRule.objects.exists())

    def test_the_admin_refuses_a_second_rule_for_the_same_scope(self):
        NotificationRule.objects.create(event=Notice.ROUTED)
        response = self.client.post("/admin/incidents/notificationrule/add/", {"event": "routed", "active": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(NotificationRule.objects.count(), 1)

    def test_the_admin_saves_a_rule(self):
        response = self.client.post("/admin/incidents/notificationrule/add/", {
            "event": "milestone", "department": self.construction.pk, "to_department": "on",
            "milestone_every": "5", "active": "on"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(NotificationRule.objects.get().milestone_every, 5)


class MilestoneTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        clear_outbox()

    def support(self, n: int, start: int = 0) -> None:
        for i in range(start, start + n):
            support_report(self.report_vi, browser=f"browser-{i}")

    @override_settings(CITYPIN_SUPPORTER_MILESTONE=3)
    def test_the_department_hears_at_each_milestone(self):
        self.support(2)
        self.assertEqual(recipients(), set())
        self.support(1, start=2)
        [message] = deliver()[DEPARTMENT]
        self.assertIn("3", message.subject)
        self.assertIn(self.report_vi.public_id, message.subject)

    @override_settings(CITYPIN_SUPPORTER_MILESTONE=3)
    def test_not_between_milestones(self):
        self.support(4)
        self.assertEqual(OutboxMessage.objects.filter(recipient=DEPARTMENT).count(), 1)

    def test_ten_by_default(self):
        self.support(10)
        self.assertEqual(OutboxMessage.objects.filter(recipient=DEPARTMENT).count(), 1)

    def test_a_rule_sets_its_own_step(self):
        NotificationRule.objects.create(event=Notice.MILESTONE, department=self.construction, to_department=True,
                                        milestone_every=2)
        self.support(4)
        self.assertEqual(OutboxMessage.objects.filter(recipient=DEPARTMENT).count(), 2)

    def test_the_milestone_mail_names_no_supporter(self):
        for i in range(10):
            support_report(self.report_vi, email=f"s{i}@example.vn", language="vi")
        mails = deliver()
        [message] = mails[DEPARTMENT]
        self.assertNotIn("@example.vn", message.body.replace(DEPARTMENT, ""))


class DeadDigestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        clear_outbox()

    def die(self, n: int, at=None) -> None:
        at = at or timezone.now()
        OutboxMessage.objects.bulk_create([OutboxMessage(
            channel="webhook" if i % 2 else "email", recipient=f"dead{i}@example.vn", subject="x", body="private body",
            failed_at=at, attempts=8) for i in range(n)])

    def test_no_dead_message_no_digest(self):
        self.assertEqual(enqueue_dead_message_digest(), 0)
        self.assertFalse(DigestRun.objects.exists())

    def test_the_operations_center_gets_a_digest_with_the_counts(self):
        self.die(3)
        self.assertEqual(enqueue_dead_message_digest(), 1)
        [message] = deliver()[IOC]
        self.assertIn("3", message.subject)
        self.assertIn("email: 2, webhook: 1", message.body)
        self.assertIn("/admin/incidents/outboxmessage/?state=dead", message.body)

    def test_the_digest_names_no_recipient_of_the_dead_messages(self):
        self.die(2)
        enqueue_dead_message_digest()
        [message] = deliver()[IOC]
        self.assertNotIn("dead0@example.vn", message.body)
        self.assertNotIn("private body", message.body)

    def test_at_most_one_digest_per_period(self):
        self.die(2)
        enqueue_dead_message_digest()
        self.die(2)
        self.assertEqual(enqueue_dead_message_digest(), 0)

    def test_the_next_digest_counts_only_the_new_dead(self):
        start = timezone.now() - timedelta(days=2)
        self.die(2, at=start - timedelta(hours=1))
        enqueue_dead_message_digest(start)
        self.die(1)
        OutboxMessage.objects.filter(recipient=IOC).delete()
        self.assertEqual(enqueue_dead_message_digest(), 1)
        [message] = deliver()[IOC]
        self.assertIn("[Citypin] 1 ", message.subject)
        self.assertIn("(3 ", message.body)

    def test_a_rule_can_send_the_digest_elsewhere(self):
        NotificationRule.objects.create(event=Notice.DEAD_MESSAGES, extra_recipients="ops@example.vn")
        self.die(1)
        enqueue_dead_message_digest()
        self.assertEqual(set(OutboxMessage.objects.filter(subject__contains="Citypin").values_list(
            "recipient", flat=True)), {"ops@example.vn"})
