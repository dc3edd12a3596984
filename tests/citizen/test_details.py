"""Details a citizen notices: the confirmation says the photos await a check, nobody is asked
to support their own report, and a group of checkboxes has a legend."""

from django.test import TestCase

from incidents.models import CategoryAttribute, Report
from tests.citizen.test_pages import form_data
from tests.images import jpeg_bytes, upload
from tests.world import build_world


class ConfirmationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def send(self, **extra):
        response = self.client.post("/report/", form_data(**extra), HTTP_ACCEPT_LANGUAGE="en")
        return self.client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()

    def test_the_confirmation_says_the_photos_await_a_check(self):
        html = self.send(photos=[upload("a.jpg", jpeg_bytes()), upload("b.jpg", jpeg_bytes())])
        self.assertIn("Your 2 photos are shown publicly once staff have checked them.", html)

    def test_without_photos_the_confirmation_says_nothing_of_them(self):
        self.assertNotIn("photos-awaiting", self.send())

    def test_the_reporter_is_not_asked_to_support_their_own_report(self):
        self.send()
        report = Report.objects.get()
        self.assertNotIn(f'action="/r/{report.public_id}/support/"', self.client.get(f"/r/{report.public_id}/").content.decode())

    def test_another_browser_is_offered_to_support_it(self):
        self.send()
        report = Report.objects.get()
        self.client.logout()
        self.client.cookies.clear()
        self.assertIn(f'action="/r/{report.public_id}/support/"', self.client.get(f"/r/{report.public_id}/").content.decode())


class CheckboxGroupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        CategoryAttribute.objects.create(category=cls.pothole, code="hazards", datatype="multivaluelist",
                                         name_vi="Nguy hiểm", values=[{"key": "night"}, {"key": "school"}])

    def test_a_group_of_checkboxes_is_a_fieldset_with_a_legend(self):
        html = self.client.get("/report/").content.decode()
        self.assertRegex(html, r'<fieldset class="field checks">\s*<legend>Nguy hiểm</legend>')
