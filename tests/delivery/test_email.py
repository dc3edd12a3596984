"""E-mail through the outbox, read in Django's locmem backend: who gets what, in which language,
with a stable Message-ID, and never anyone else's data."""

from django.core import mail
from django.test import TestCase

from incidents.delivery.email import linked
from incidents.delivery.outbox import send_pending
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import OutboxMessage
from incidents.workflow import support_report, transition_report
from tests.world import build_world

REPORTER = "nguoi-bao@example.vn"
SUPPORTER = "hang-xom@example.vn"
OTHER = "nguoi-khac@example.vn"


class StatusMailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.construction.email = "construction@example.vn"
        cls.construction.save()
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "large"}, description="Ổ gà",
                                               reporter=Reporter(name="Chị Lan", email=REPORTER, phone="0909111222")))
        support_report(cls.report, email=SUPPORTER)
        cls.other = submit_report(ReportDraft(category_code="pothole", lon=105.73, lat=10.03,
                                              attributes={"size": "small"}, description="Ổ gà khác",
                                              reporter=Reporter(name="Anh Minh", email=OTHER)))
        send_pending()  # the department notices and receipts
        OutboxMessage.objects.all().delete()

    def resolve(self):
        mail.outbox.clear()
        transition_report(self.report.pk, "resolved", message="Đã vá xong")
        send_pending()
        return {m.to[0]: m for m in mail.outbox}

    def test_resolving_mails_the_reporter_and_the_supporter_each_alone(self):
        sent = self.resolve()
        self.assertEqual(sorted(sent), [SUPPORTER, REPORTER])
        self.assertTrue(all(len(m.to) == 1 and not m.cc and not m.bcc for m in sent.values()))

    def test_the_subject_is_in_vietnamese_and_names_the_report(self):
        subject = self.resolve()[REPORTER].subject
        self.assertIn(self.report.public_id, subject)
        self.assertIn("Phản ánh", subject)

    def test_the_body_is_in_the_reporters_vietnamese_only(self):
        # A citizen's mail is in their own language since mail templates per language (a
        # Vietnamese reporter no longer gets the English copy below it; staff mail still does).
        body = self.resolve()[REPORTER].body
        self.assertIn("hiện ở trạng thái: đã xử lý", body)
        self.assertNotIn("is now: resolved", body)
        self.assertIn("Đã vá xong", body)

    def test_no_mail_carries_anyone_elses_address_name_or_phone(self):
        for to, message in self.resolve().items():
            text = message.body + message.subject + str(message.extra_headers)
            for private in {REPORTER, SUPPORTER, OTHER, "Chị Lan", "0909111222", "Anh Minh"} - {to}:
                self.assertNotIn(private, text, to)

    def test_the_other_reports_reporter_gets_nothing(self):
        self.assertNotIn(OTHER, self.resolve())

    def test_each_mail_has_a_message_id_from_its_row(self):
        sent = self.resolve()
        row = OutboxMessage.objects.get(recipient=REPORTER)
        expected = f"<citypin-{row.pk}-{int(row.created_at.timestamp())}@127.0.0.1>"
        self.assertEqual(sent[REPORTER].extra_headers["Message-ID"], expected)
        self.assertIn(f"Message-ID: {expected}", sent[REPORTER].message().as_string())

    def test_a_failed_mail_is_sent_again_with_the_same_message_id(self):
        transition_report(self.report.pk, "resolved", message="Đã vá xong")
        row = OutboxMessage.objects.get(recipient=REPORTER)
        OutboxMessage.objects.filter(pk=row.pk).update(attempts=2, last_error="SMTPServerDisconnected")
        send_pending()
        [again] = [m for m in mail.outbox if m.to == [REPORTER]]
        self.assertEqual(again.extra_headers["Message-ID"], f"<citypin-{row.pk}-{int(row.created_at.timestamp())}@127.0.0.1>")


class HtmlMailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.construction.email = "construction@example.vn"
        cls.construction.save()

    def test_a_mail_has_text_and_an_html_alternative_with_the_reporters_words_escaped(self):
        submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"},
                                  description='Ổ gà <script>alert(1)</script> <a href="http://x">bấm</a>'))
        send_pending()
        [message] = mail.outbox
        self.assertIn("<script>alert(1)</script>", message.body)  # plain text stays as written
        [(html, mimetype)] = message.alternatives
        self.assertEqual(mimetype, "text/html")
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertNotIn('<a href="http://x">', html)

    def test_the_html_has_the_vietnamese_text_then_the_english_marked_as_such(self):
        submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"}))
        send_pending()
        [(html, _)] = mail.outbox[0].alternatives
        self.assertIn('<html lang="vi">', html)
        self.assertLess(html.index("Có phản ánh mới được chuyển đến"), html.index('lang="en"'))
        self.assertLess(html.index('lang="en"'), html.index("A new report was routed to"))
        self.assertIn('<a href="http://127.0.0.1:8000/console/r/', html)  # the link is clickable


class MailHeaderTests(TestCase):
    def test_the_headers_a_notice_asks_for_go_out_with_the_mail_but_cannot_replace_the_message_id(self):
        row = OutboxMessage.objects.create(recipient=REPORTER, subject="Chủ đề", body="Nội dung", headers={
            "List-Unsubscribe": "<https://citypin.example/u/abc/>", "Message-ID": "<forged@example.vn>"})
        send_pending()
        [message] = mail.outbox
        raw = message.message().as_string()
        self.assertIn("List-Unsubscribe: <https://citypin.example/u/abc/>", raw)
        self.assertNotIn("forged", raw)
        self.assertIn(f"<citypin-{row.pk}-", message.extra_headers["Message-ID"])

    def test_a_header_with_a_line_break_is_refused_and_the_message_kept_for_the_outbox_to_show(self):
        row = OutboxMessage.objects.create(recipient=REPORTER, subject="Chủ đề", body="Nội dung",
                                           headers={"List-Unsubscribe": "<x>\r\nBcc: victim@example.vn"})
        send_pending()
        self.assertEqual(mail.outbox, [])
        row.refresh_from_db()
        self.assertIsNone(row.sent_at)
        self.assertIn("newline", row.last_error.lower())


class LinkTests(TestCase):
    """incidents.delivery.email.linked: the HTML part's text, escaped, with Citypin's own links."""

    def test_citypin_links_are_clickable_without_the_sentence_s_punctuation(self):
        self.assertEqual(linked("Xem http://127.0.0.1:8000/r/CT-1/. Cảm ơn"),
                         'Xem <a href="http://127.0.0.1:8000/r/CT-1/">http://127.0.0.1:8000/r/CT-1/</a>. Cảm ơn')

    def test_another_site_s_url_in_a_reporter_s_words_stays_text(self):
        self.assertEqual(linked("xem https://evil.example/login"), "xem https://evil.example/login")

    def test_markup_around_a_link_is_escaped_and_cannot_break_out_of_it(self):
        self.assertEqual(linked('<b>http://127.0.0.1:8000/r/"onclick=x</b>'),
                         '&lt;b&gt;<a href="http://127.0.0.1:8000/r/">http://127.0.0.1:8000/r/</a>'
                         '&quot;onclick=x&lt;/b&gt;')
