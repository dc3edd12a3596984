"""Staff replies that fit the report: templates offered by status and category, each with a
text per language, the reply starting in the citizen's language; lists in Vietnamese order;
a read-only viewer offered no action; the templates page starting from a department its
manager may choose."""

from __future__ import annotations

from incidents.models import Department, ResponseTemplate
from tests.console.test_views import ConsoleWorld, pothole


class TemplateFitTests(ConsoleWorld):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.any_status = ResponseTemplate.objects.create(title="Cảm ơn", title_en="Thanks",
                                                         body_vi="Cảm ơn về {public_id}", body_en="Thanks for {public_id}")
        cls.closing = ResponseTemplate.objects.create(title="Đóng", title_en="Closing", status="closed",
                                                      body_vi="Đã đóng", body_en="Closed")
        cls.fixed = ResponseTemplate.objects.create(title="Đã khắc phục", title_en="Fixed", status="resolved",
                                                    body_vi="Đã sửa", body_en="Fixed")
        cls.other_category = ResponseTemplate.objects.create(title="Lấn chiếm", category=cls.encroachment,
                                                             body_vi="Lấn chiếm")
        cls.english_report = pothole(metres_east=40, language="en")

    def detail(self, report=None, user=None):
        return self.as_(user or self.agent).get(f"/console/r/{(report or self.report).public_id}/")

    def test_a_new_report_is_offered_the_templates_of_its_next_statuses_only(self):
        titles = {t["title"] for t in self.detail().context["templates"]}
        self.assertEqual(titles, {"Cảm ơn", "Đã khắc phục"})  # not "Closing": no such step from new

    def test_a_template_of_another_category_is_not_offered(self):
        self.assertNotIn("Lấn chiếm", {t["title"] for t in self.detail().context["templates"]})

    def test_the_reply_form_offers_only_templates_for_the_current_status_or_any(self):
        html = self.detail().content.decode()
        reply = html[html.index('id="reply-template"'):html.index("</select>", html.index('id="reply-template"'))]
        self.assertIn("Cảm ơn", reply)
        self.assertNotIn("Đã khắc phục", reply)

    def test_the_status_form_ties_each_template_to_its_status(self):
        self.assertContains(self.detail(), f'<option value="{self.fixed.pk}" data-status="resolved">')

    def test_each_template_carries_its_text_in_both_languages_filled_in(self):
        offered = next(t for t in self.detail().context["templates"] if t["id"] == self.any_status.pk)
        self.assertEqual(offered["body"], {"vi": f"Cảm ơn về {self.report.public_id}",
                                           "en": f"Thanks for {self.report.public_id}"})

    def test_titles_are_in_the_staff_members_language(self):
        page = self.as_(self.agent).get(f"/console/r/{self.report.public_id}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertIn("Thanks", {t["title"] for t in page.context["templates"]})

    def test_the_reply_starts_in_the_citizens_language(self):
        self.assertContains(self.detail(self.english_report), 'name="reply_lang" value="en" checked')
        self.assertContains(self.detail(), 'name="reply_lang" value="vi" checked')

    def test_the_reporters_language_is_recorded_from_the_web_form(self):
        self.client.post("/report/", {"category": "pothole", "lat": "10.02", "lon": "105.72",
                                      "attr__pothole__size": "small"}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(self.english_report.__class__.objects.latest("id").language, "en")


class VietnameseOrderTests(ConsoleWorld):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for code, name in (("dai-thanh", "UBND Phường Đại Thành"), ("o-mon", "UBND Phường Ô Môn"),
                           ("thuan", "UBND Xã Thuận Hòa"), ("thot", "UBND Xã Thốt Nốt"), ("duong", "UBND Phường Dương")):
            Department.objects.create(code=code, name_vi=name)

    def test_the_reroute_list_is_in_vietnamese_order(self):
        names = [d.name_vi for d in self.as_(self.operator).get(f"/console/r/{self.report.public_id}/").context["departments"]
                 if d.code in ("dai-thanh", "o-mon", "thuan", "thot", "duong")]
        self.assertEqual(names, ["UBND Phường Dương", "UBND Phường Đại Thành", "UBND Phường Ô Môn", "UBND Xã Thốt Nốt",
                                 "UBND Xã Thuận Hòa"])


class ViewerTests(ConsoleWorld):
    def test_a_viewer_sees_no_bulk_form_no_selection_and_no_lasso(self):
        html = self.as_(self.viewer).get("/console/").content.decode()
        self.assertNotIn('id="bulk"', html)
        self.assertNotIn('class="pick"', html)
        self.assertNotIn("leaflet.draw", html)
        self.assertIn("read-only", self.as_(self.viewer).get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode())

    def test_an_agent_keeps_the_bulk_form_and_the_lasso(self):
        html = self.as_(self.agent).get("/console/").content.decode()
        self.assertIn('id="bulk"', html)
        self.assertIn("leaflet.draw", html)

    def test_a_viewer_sees_no_action_on_a_report(self):
        html = self.as_(self.viewer).get(f"/console/r/{self.report.public_id}/").content.decode()
        self.assertNotIn("<form method=\"post\" action=\"/console/r/", html)


class TemplatePageDefaultTests(ConsoleWorld):
    def test_a_department_manager_starts_from_their_department(self):
        form = self.as_(self.manager).get("/console/templates/").context["form"]
        self.assertEqual(form["department"].value(), self.construction.pk)
        self.assertIsNone(form.fields["department"].empty_label)

    def test_the_default_choice_is_accepted(self):
        form = self.as_(self.manager).get("/console/templates/").context["form"]
        response = self.client.post("/console/templates/", {"title": "Mẫu", "department": form["department"].value(),
                                                            "status": "", "body_vi": "Nội dung", "active": "on"})
        self.assertEqual(response.status_code, 302)

    def test_the_operations_center_may_still_share_with_every_department(self):
        form = self.as_(self.operator).get("/console/templates/").context["form"]
        self.assertTrue(form.fields["department"].empty_label)
