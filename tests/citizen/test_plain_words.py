"""Plain words on the citizen pages: the public "why" names who handles a report and the place
it follows from, in the reader's language, never the internal rule; statuses read naturally;
one date format per language."""

import re

from django.contrib.auth import get_user_model
from django.test import TestCase
from django.utils import translation

from incidents.intake import ReportDraft, submit_report
from incidents.routing import public_reason
from incidents.workflow import transition_report
from tests.world import build_world


class PublicWhyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.pothole_in_a = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                                     attributes={"size": "small"}), notify=False)
        cls.pothole_on_road = submit_report(ReportDraft(category_code="pothole", lon=105.73, lat=10.0501,
                                                        attributes={"size": "small"}), notify=False)
        cls.encroachment_in_b = submit_report(ReportDraft(category_code="encroachment", lon=105.77, lat=10.02),
                                              notify=False)

    def page(self, report, lang="vi") -> str:
        return self.client.get(f"/r/{report.public_id}/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()

    def test_a_default_rule_is_explained_by_the_ward(self):
        self.assertIn("Đã chuyển đến Sở Xây dựng vì vấn đề nằm tại Phường A.", self.page(self.pothole_in_a))

    def test_the_why_is_in_english_for_english_readers(self):
        self.assertIn("Sent to Construction because the problem is in Ward A.", self.page(self.pothole_in_a, "en"))

    def test_a_road_rule_is_explained_by_the_road_and_the_ward(self):
        self.assertIn("Đã chuyển đến Khu QLĐB vì vấn đề nằm cạnh Quốc lộ Thử, thuộc Phường A.",
                      self.page(self.pothole_on_road))

    def test_an_area_rule_is_explained_by_its_area(self):
        self.assertIn("Sent to Ward B Committee because the problem is in Ward B.", self.page(self.encroachment_in_b, "en"))

    def test_the_rule_name_and_priority_stay_internal(self):
        for report in (self.pothole_in_a, self.pothole_on_road, self.encroachment_in_b):
            html = self.page(report)
            self.assertNotIn(report.routing["rule"]["name"], html)
            self.assertNotIn("ưu tiên", html)

    def test_the_api_says_the_same_and_keeps_the_rule_internal(self):
        routing = self.client.get(f"/api/v1/reports/{self.pothole_on_road.public_id}/",
                                  HTTP_ACCEPT_LANGUAGE="en").json()["properties"]["routing"]
        self.assertEqual(routing["text"], "Sent to Road Authority because the problem is next to Quốc lộ Thử, in Ward A.")
        self.assertEqual((routing["place"]["kind"], routing["place"]["name"]), ("asset", "Quốc lộ Thử"))
        self.assertNotIn("rule", routing)

    def test_an_unlocated_report_says_the_operations_center_places_it(self):
        with translation.override("en"):
            text = public_reason({"reason": "unlocated", "department": {"code": "ioc", "name_vi": "Trung tâm IOC",
                                                                         "name_en": "Operations Center"}}, "name_en")
        self.assertEqual(text, "Sent to Operations Center, the operations center, which will place it on the map: "
                               "no location was given.")

    def test_an_explanation_stored_before_plain_words_is_still_explained(self):
        old = {"reason": "rule", "department": {"code": "construction", "name_vi": "Sở Xây dựng"},
               "rule": {"name": "x", "kind": "area", "priority": 0, "place": {"code": "A", "name_vi": "Phường A"}}}
        with translation.override("vi"):
            self.assertEqual(public_reason(old), "Đã chuyển đến Sở Xây dựng vì vấn đề nằm tại Phường A.")


class StatusAndDateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}), notify=False)
        cls.agent = get_user_model().objects.create_superuser("boss", password="x")

    def test_a_rejected_report_reads_da_tu_choi(self):
        transition_report(self.report.pk, "rejected", actor=self.agent, message="Không thuộc phạm vi")
        self.assertIn("Đã từ chối", self.client.get(f"/r/{self.report.public_id}/").content.decode())

    def test_vietnamese_dates_read_day_month_year(self):
        html = self.client.get(f"/r/{self.report.public_id}/").content.decode()
        self.assertRegex(html, r"<dd>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</dd>")
        self.assertNotIn("tháng", html)

    def test_english_dates_read_day_month_name_year(self):
        html = self.client.get(f"/r/{self.report.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertTrue(re.search(r"<dd>\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}</dd>", html))
