"""One-click unsubscribe on every citizen mail: the link and the RFC 8058 headers, GET asks,
POST (with or without a CSRF token) records it, later notices skip the address."""

import re

from django.core import signing
from django.test import Client, TestCase

from incidents.models import OutboxMessage, Unsubscription
from incidents.notices import address_key, unsubscribe_token
from incidents.triage import reply_to_report
from incidents.workflow import support_report, transition_report
from tests.delivery.mailworld import (
    DEPARTMENT,
    REPORTER_EN,
    REPORTER_VI,
    SUPPORTER_VI,
    build_mail_world,
    clear_outbox,
    deliver,
    pothole,
)


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/unsubscribe/[^/\s]+/)", message.body).group(1)


class HeaderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        support_report(cls.report_vi, email=SUPPORTER_VI, language="vi")
        clear_outbox()
        pothole("third@example.vn", "vi")
        transition_report(cls.report_vi.pk, "resolved", message="Xong")
        cls.sent = deliver()

    def test_a_citizens_mail_carries_list_unsubscribe_with_the_link_of_its_body(self):
        [message] = self.sent[REPORTER_VI]
        self.assertEqual(message.extra_headers["List-Unsubscribe"], f"<http://127.0.0.1:8000{link_in(message)}>")

    def test_a_citizens_mail_asks_for_one_click(self):
        [message] = self.sent[SUPPORTER_VI]
        self.assertIn("List-Unsubscribe-Post: List-Unsubscribe=One-Click", message.message().as_string())

    def test_the_receipt_carries_them_too(self):
        [message] = self.sent["third@example.vn"]
        self.assertIn("List-Unsubscribe", message.extra_headers)

    def test_the_departments_mail_has_no_unsubscribe(self):
        [message] = self.sent[DEPARTMENT]
        self.assertNotIn("List-Unsubscribe", message.extra_headers)
        self.assertNotIn("/unsubscribe/", message.body)

    def test_each_citizen_gets_a_link_of_their_own(self):
        self.assertNotEqual(link_in(self.sent[REPORTER_VI][0]), link_in(self.sent[SUPPORTER_VI][0]))

    def test_the_link_does_not_carry_the_address(self):
        token = link_in(self.sent[REPORTER_VI][0]).split("/")[2]
        self.assertNotIn("chi-lan", signing.b64_decode(token.split(":")[0].encode()).decode(errors="replace"))


class UnsubscribePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        support_report(cls.report_vi, email=SUPPORTER_VI, language="vi")
        clear_outbox()
        cls.token = unsubscribe_token(REPORTER_VI, cls.report_vi)
        cls.url = f"/unsubscribe/{cls.token}/"

    def mails_after_a_change(self, report=None):
        transition_report((report or self.report_vi).pk, "in_progress", message="Đang xử lý")
        return deliver()

    def test_get_asks_and_unsubscribes_nobody(self):
        response = self.client.get(self.url)
        self.assertContains(response, self.report_vi.public_id)
        self.assertContains(response, 'method="post"')
        self.assertFalse(Unsubscription.objects.exists())

    def test_the_page_does_not_show_the_address(self):
        self.assertNotContains(self.client.get(self.url), REPORTER_VI)

    def test_the_one_click_post_of_a_mail_program_needs_no_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post(self.url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(Unsubscription.objects.get(report=self.report_vi).one_click)

    def test_the_pages_button_unsubscribes_from_this_report(self):
        response = Client(enforce_csrf_checks=True).post(self.url)
        self.assertContains(response, self.report_vi.public_id)
        row = Unsubscription.objects.get()
        self.assertEqual((row.report, row.one_click, row.address_key), (self.report_vi, False, address_key(REPORTER_VI)))

    def test_no_more_mail_about_the_report_after_unsubscribing(self):
        self.client.post(self.url)
        self.assertNotIn(REPORTER_VI, self.mails_after_a_change())

    def test_the_supporter_still_gets_it(self):
        self.client.post(self.url)
        self.assertIn(SUPPORTER_VI, self.mails_after_a_change())

    def test_no_more_replies_either(self):
        self.client.post(self.url)
        reply_to_report(self.report_vi.pk, "Chúng tôi đang xử lý", actor=None)
        self.assertFalse(OutboxMessage.objects.filter(recipient=REPORTER_VI).exists())

    def test_mail_about_another_report_of_the_same_address_still_comes(self):
        self.client.post(self.url)
        other = pothole(REPORTER_VI, "vi")
        deliver()
        self.assertIn(REPORTER_VI, self.mails_after_a_change(other))

    def test_all_reports_stops_every_report_of_the_address(self):
        self.client.post(self.url, {"scope": "all"})
        other = pothole(REPORTER_VI, "vi")
        self.assertNotIn(REPORTER_VI, deliver())  # not even the receipt
        self.assertNotIn(REPORTER_VI, self.mails_after_a_change(other))

    def test_unsubscribing_twice_records_it_once(self):
        self.client.post(self.url)
        self.client.post(self.url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        self.assertEqual(Unsubscription.objects.count(), 1)

    def test_a_forged_token_is_404_and_records_nothing(self):
        response = self.client.post(self.url.replace(self.token, self.token[:-3] + "abc"))
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Unsubscription.objects.exists())

    def test_a_token_of_another_kind_is_404(self):
        token = signing.dumps({"r": self.report_vi.public_id, "a": "x"}, salt="something.else")
        self.assertEqual(self.client.get(f"/unsubscribe/{token}/").status_code, 404)

    def test_other_methods_are_405(self):
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_an_english_readers_unsubscribe_from_english_mail_works_the_same(self):
        token = unsubscribe_token(REPORTER_EN, self.report_en)
        self.client.post(f"/unsubscribe/{token}/")
        transition_report(self.report_en.pk, "resolved", message="Done")
        self.assertNotIn(REPORTER_EN, deliver())
