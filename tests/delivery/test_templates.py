"""Mail per event and language: citizens get their own language only (subject and body), staff
get Vietnamese then English; the admin's template overrides the file one, is checked on save
and previewed before it is saved."""

from django.contrib.auth import get_user_model
from django.test import TestCase
from django.utils.translation import override

from incidents.mailing import check_template
from incidents.models import MessageTemplate, Notice
from incidents.triage import reply_to_report
from incidents.workflow import support_report, transition_report
from tests.delivery.mailworld import (
    DEPARTMENT,
    REPORTER_EN,
    REPORTER_VI,
    SUPPORTER_EN,
    SUPPORTER_VI,
    build_mail_world,
    clear_outbox,
    deliver,
    pothole,
)


class CitizenLanguageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        support_report(cls.report_en, email=SUPPORTER_VI, language="vi")
        support_report(cls.report_vi, email=SUPPORTER_EN, language="en")
        clear_outbox()

    def resolve(self, report):
        transition_report(report.pk, "resolved", message="Đã vá xong / Fixed")
        return deliver()

    def test_a_reporter_who_wrote_in_english_gets_an_english_subject(self):
        [message] = self.resolve(self.report_en)[REPORTER_EN]
        self.assertEqual(message.subject, f"[Citypin] Report {self.report_en.public_id} is now resolved")

    def test_a_reporter_who_wrote_in_english_gets_an_english_body_only(self):
        [message] = self.resolve(self.report_en)[REPORTER_EN]
        self.assertIn("is now: resolved", message.body)
        self.assertNotIn("trạng thái", message.body)

    def test_a_vietnamese_supporter_of_the_same_report_gets_vietnamese(self):
        [message] = self.resolve(self.report_en)[SUPPORTER_VI]
        self.assertIn("Phản ánh", message.subject)
        self.assertNotIn("is now", message.body)

    def test_an_english_supporter_of_a_vietnamese_report_gets_english(self):
        [message] = self.resolve(self.report_vi)[SUPPORTER_EN]
        self.assertIn("is now resolved", message.subject)

    def test_the_html_of_an_english_mail_says_it_is_english(self):
        [message] = self.resolve(self.report_en)[REPORTER_EN]
        [(html, _)] = message.alternatives
        self.assertIn('<html lang="en">', html)

    def test_a_reporter_of_unknown_language_gets_vietnamese(self):
        report = pothole("someone@example.vn", "")
        clear_outbox()
        [message] = self.resolve(report)["someone@example.vn"]
        self.assertIn("Phản ánh", message.subject)

    def test_a_reply_reaches_the_reporter_in_english(self):
        reply_to_report(self.report_en.pk, "We will fix it tomorrow.", actor=None)
        [message] = deliver()[REPORTER_EN]
        self.assertIn("An answer about report", message.subject)
        self.assertIn("We will fix it tomorrow.", message.body)

    def test_the_receipt_follows_the_reporters_language(self):
        pothole("visitor@example.com", "en")
        [message] = deliver()["visitor@example.com"]
        self.assertIn("We received your report", message.subject)

    def test_the_department_still_gets_vietnamese_then_english(self):
        pothole("visitor@example.com", "en")
        [message] = deliver()[DEPARTMENT]
        self.assertIn("Có phản ánh mới", message.body)
        self.assertLess(message.body.index("Có phản ánh mới"), message.body.index("A new report was routed"))


class StoredTemplateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        clear_outbox()

    def test_a_stored_template_replaces_the_file_one_for_its_language(self):
        MessageTemplate.objects.create(event=Notice.STATUS, language="en", subject="Update on {{ report.public_id }}",
                                       body="Now {{ report.status }}. {{ message }}\n{{ unsubscribe_url }}")
        transition_report(self.report_en.pk, "resolved", message="Done")
        [message] = deliver()[REPORTER_EN]
        self.assertEqual(message.subject, f"Update on {self.report_en.public_id}")
        self.assertTrue(message.body.startswith("Now resolved. Done"))

    def test_the_other_language_keeps_the_file_template(self):
        MessageTemplate.objects.create(event=Notice.STATUS, language="en", subject="Update", body="Now.")
        transition_report(self.report_vi.pk, "resolved", message="Xong")
        [message] = deliver()[REPORTER_VI]
        self.assertIn("Phản ánh", message.subject)

    def test_a_subject_written_over_several_lines_is_sent_on_one(self):
        MessageTemplate.objects.create(event=Notice.STATUS, language="en", subject="Update\r\nBcc: x@evil.test",
                                       body="Now.")
        transition_report(self.report_en.pk, "resolved", message="Done")
        [message] = deliver()[REPORTER_EN]
        self.assertEqual(message.subject, "Update Bcc: x@evil.test")
        self.assertNotIn("\nBcc:", message.message().as_string())

    def test_a_stored_template_that_fails_falls_back_to_the_file_one(self):
        # Saved around the admin's check (a shell, an old row): the change still happens, mailed.
        MessageTemplate.objects.create(event=Notice.STATUS, language="en", subject="{% if %}", body="x")
        transition_report(self.report_en.pk, "resolved", message="Done")
        [message] = deliver()[REPORTER_EN]
        self.assertIn("is now resolved", message.subject)

    def test_reporter_text_cannot_become_html_through_a_stored_template(self):
        MessageTemplate.objects.create(event=Notice.STATUS, language="en", subject="S", body="{{ message }}")
        transition_report(self.report_en.pk, "resolved", message='<img src=x onerror="alert(1)">')
        [message] = deliver()[REPORTER_EN]
        [(html, _)] = message.alternatives
        self.assertNotIn("<img", html)
        self.assertIn("&lt;img", html)


class TemplateCheckTests(TestCase):
    def test_a_syntax_error_is_reported_on_its_field(self):
        with override("en"):
            errors = check_template(Notice.STATUS, "ok", "{% if %}")
        self.assertEqual(list(errors), ["body"])
        self.assertIn("syntax error", errors["body"])

    def test_an_unknown_variable_is_named(self):
        errors = check_template(Notice.STATUS, "{{ report.reporter_email }}", "ok")
        self.assertIn("report.reporter_email", errors["subject"])

    def test_an_unknown_variable_inside_a_condition_is_named(self):
        self.assertIn("secret", check_template(Notice.STATUS, "ok", "{% if secret %}x{% endif %}")["body"])

    def test_an_unknown_variable_inside_blocktranslate_is_named(self):
        errors = check_template(Notice.STATUS, "ok", "{% blocktranslate %}{{ phone }}{% endblocktranslate %}")
        self.assertIn("phone", errors["body"])

    def test_a_variable_of_another_event_is_unknown(self):
        self.assertIn("dead_count", check_template(Notice.STATUS, "{{ dead_count }}", "ok")["subject"])

    def test_include_is_refused(self):
        self.assertIn("include", check_template(Notice.STATUS, "ok", '{% include "x.html" %}')["body"])

    def test_loading_another_tag_library_is_refused(self):
        self.assertIn("body", check_template(Notice.STATUS, "ok", "{% load static %}"))

    def test_variables_bound_by_the_template_are_known(self):
        body = ("{% blocktranslate with id=report.public_id %}Report {{ id }}{% endblocktranslate %}"
                "{% with s=report.status %}{{ s }}{% endwith %}{% for c in message %}{{ forloop.counter }}{{ c }}"
                "{% endfor %}{{ message|default:report.url }}")
        self.assertEqual(check_template(Notice.STATUS, "{{ report.public_id }}", body), {})

    def test_the_file_templates_pass_their_own_check(self):
        from django.template.loader import get_template

        for event in Notice.values:
            name = {"rerouted": "routed"}.get(event, event)
            for part in ("subject", "body"):
                source = get_template(f"incidents/email/{name}_{part}.txt").template.source
                self.assertEqual(check_template(event, source, source), {}, (event, part))


class AdminTemplateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        clear_outbox()
        cls.admin = get_user_model().objects.create_superuser("root", "root@example.vn", "pw")

    def setUp(self):
        self.client.force_login(self.admin)

    def form(self, **fields):
        return {"event": "status", "language": "en", "subject": "Update {{ report.public_id }}",
                "body": "Now {{ report.status }}.\n{{ message }}", **fields}

    def test_the_admin_saves_a_valid_template(self):
        response = self.client.post("/admin/incidents/messagetemplate/add/", self.form())
        self.assertEqual(response.status_code, 302)
        self.assertEqual(MessageTemplate.objects.get().subject, "Update {{ report.public_id }}")

    def test_the_admin_refuses_a_syntax_error_naming_the_field(self):
        response = self.client.post("/admin/incidents/messagetemplate/add/", self.form(body="{% for %}"))
        self.assertEqual(response.status_code, 200)
        self.assertIn("body", response.context["adminform"].form.errors)
        self.assertFalse(MessageTemplate.objects.exists())

    def test_the_admin_refuses_an_unknown_variable_naming_it(self):
        response = self.client.post("/admin/incidents/messagetemplate/add/",
                                    self.form(subject="{{ report.reporter_phone }}"))
        self.assertIn("report.reporter_phone", response.context["adminform"].form.errors["subject"][0])

    def test_the_change_form_offers_a_preview(self):
        response = self.client.get("/admin/incidents/messagetemplate/add/")
        self.assertContains(response, 'formaction="/admin/incidents/messagetemplate/preview/"')

    def test_the_preview_shows_subject_text_and_html_against_the_sample(self):
        response = self.client.post("/admin/incidents/messagetemplate/preview/", self.form())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["result"].subject, "Update HN-2026-000123")
        self.assertContains(response, "Now resolved.")  # the sample's status, in the template's language
        self.assertIn('<html lang="en">', response.context["html"])
        self.assertContains(response, 'sandbox=""')
        self.assertContains(response, 'srcdoc="&lt;!DOCTYPE html&gt;')  # the whole mail inside the attribute

    def test_the_preview_of_a_vietnamese_template_uses_the_vietnamese_sample(self):
        response = self.client.post("/admin/incidents/messagetemplate/preview/", self.form(language="vi"))
        self.assertContains(response, "Now đã xử lý.")

    def test_the_preview_renders_a_chosen_report_in_the_template_language(self):
        response = self.client.post("/admin/incidents/messagetemplate/preview/",
                                    self.form(report=self.report_vi.public_id))
        self.assertEqual(response.context["result"].subject, f"Update {self.report_vi.public_id}")
        self.assertIn("Now new.", response.context["result"].body)

    def test_the_preview_shows_no_private_field_of_the_chosen_report(self):
        response = self.client.post("/admin/incidents/messagetemplate/preview/", self.form(
            report=self.report_vi.public_id, body="{{ report.description }} {{ report.address }}"))
        self.assertNotContains(response, REPORTER_VI)
        self.assertNotContains(response, "0909111222")

    def test_the_preview_of_an_unknown_report_names_the_field(self):
        response = self.client.post("/admin/incidents/messagetemplate/preview/", self.form(report="XX-0"))
        self.assertIn("report", response.context["form"].errors)
        self.assertIsNone(response.context["result"])

    def test_the_preview_saves_nothing(self):
        self.client.post("/admin/incidents/messagetemplate/preview/", self.form())
        self.assertFalse(MessageTemplate.objects.exists())

    def test_a_saved_template_can_be_previewed_by_its_id(self):
        row = MessageTemplate.objects.create(event="status", language="vi", subject="Cập nhật", body="Mới")
        response = self.client.get(f"/admin/incidents/messagetemplate/preview/?template={row.pk}")
        self.assertEqual(response.context["result"].subject, "Cập nhật")

    def test_the_preview_is_for_staff_only(self):
        self.client.logout()
        response = self.client.post("/admin/incidents/messagetemplate/preview/", self.form())
        self.assertEqual(response.status_code, 302)
        self.assertIn("/admin/login/", response["Location"])


class SupporterLanguageFromThePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)
        clear_outbox()

    def support_from_the_page(self, language: str, email: str) -> None:
        self.client.cookies["django_language"] = language
        self.client.get(f"/r/{self.report_vi.public_id}/")  # the browser id comes with the page
        self.client.post(f"/r/{self.report_vi.public_id}/support/", {"email": email})

    def test_a_supporter_on_the_english_page_follows_in_english(self):
        self.support_from_the_page("en", "visitor@example.com")
        transition_report(self.report_vi.pk, "resolved", message="Fixed")
        [message] = deliver()["visitor@example.com"]
        self.assertIn("is now resolved", message.subject)

    def test_a_supporter_on_the_vietnamese_page_follows_in_vietnamese(self):
        self.support_from_the_page("vi", "hang-xom-2@example.vn")
        transition_report(self.report_vi.pk, "resolved", message="Xong")
        [message] = deliver()["hang-xom-2@example.vn"]
        self.assertIn("Phản ánh", message.subject)


class UnsubscribePageLanguageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_mail_world(cls)

    def test_the_unsubscribe_page_is_in_vietnamese_by_default(self):
        from incidents.notices import unsubscribe_token

        response = self.client.get(f"/unsubscribe/{unsubscribe_token(REPORTER_VI, self.report_vi)}/")
        self.assertContains(response, "Ngừng e-mail về phản ánh này")
