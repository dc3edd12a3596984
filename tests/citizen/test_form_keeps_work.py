"""The report form never loses work on the server side: photos survive a refused submission
(kept cleaned under a short-lived token tied to the browser's session), and the errors come
first, in a summary that links to each field."""

import re
import time

from django.core.files.storage import default_storage
from django.test import Client, TestCase

from incidents.citizen import pending
from incidents.models import Photo, Report
from tests.citizen.test_pages import form_data
from tests.images import jpeg_bytes, upload
from tests.world import build_world


def token_of(html: str) -> str:
    match = re.search(r'name="photo_token" value="([^"]+)"', html)
    return match.group(1) if match else ""


class KeptPhotoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def refused_with_a_photo(self, client=None) -> str:
        response = (client or self.client).post("/report/", form_data(category="", photos=[
            upload("o-ga.jpg", jpeg_bytes(105.72, 10.02))]))
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_a_refused_form_keeps_its_photo_and_names_it(self):
        html = self.refused_with_a_photo()
        self.assertTrue(token_of(html))
        self.assertIn('<span class="kept">o-ga.jpg</span>', html)
        self.assertEqual(Photo.objects.count(), 0)

    def test_the_kept_photo_is_sent_with_the_corrected_report(self):
        token = token_of(self.refused_with_a_photo())
        response = self.client.post("/report/", form_data(photo_token=token))
        report = Report.objects.get()
        self.assertRedirects(response, f"/r/{report.public_id}/", fetch_redirect_response=False)
        self.assertEqual(report.photos.count(), 1)
        self.assertFalse(default_storage.exists(f"{pending.FOLDER}/{token}/meta.json"))

    def test_a_new_photo_is_added_to_the_kept_one(self):
        token = token_of(self.refused_with_a_photo())
        self.client.post("/report/", form_data(photo_token=token, photos=[upload("b.jpg", jpeg_bytes())]))
        self.assertEqual(Report.objects.get().photos.count(), 2)

    def test_kept_photos_count_towards_the_limit_of_three(self):
        token = token_of(self.refused_with_a_photo())
        photos = [upload(f"p{i}.jpg", jpeg_bytes()) for i in range(3)]
        html = self.client.post("/report/", form_data(photo_token=token, photos=photos)).content.decode()
        self.assertIn('id="id_photos-error"', html)
        self.assertEqual(Report.objects.count(), 0)

    def test_the_citizen_may_remove_the_kept_photos(self):
        token = token_of(self.refused_with_a_photo())
        self.client.post("/report/", form_data(photo_token=token, drop_photos="1"))
        self.assertEqual(Report.objects.get().photos.count(), 0)

    def test_a_bad_upload_is_refused_but_the_good_one_beside_it_is_kept(self):
        html = self.client.post("/report/", form_data(photos=[
            upload("good.jpg", jpeg_bytes()), upload("evil.jpg", b"not an image")])).content.decode()
        self.assertIn("evil.jpg", html)
        self.assertIn('<span class="kept">good.jpg</span>', html)
        self.assertEqual(Report.objects.count(), 0)

    def test_a_token_from_another_browser_loads_nothing(self):
        token = token_of(self.refused_with_a_photo())
        Client().post("/report/", form_data(photo_token=token))
        self.assertEqual(Report.objects.get().photos.count(), 0)

    def test_a_malformed_token_is_ignored(self):
        response = self.client.post("/report/", form_data(photo_token="../../etc/passwd"))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Report.objects.get().photos.count(), 0)

    def test_expired_photos_are_not_used(self):
        token = token_of(self.refused_with_a_photo())
        real_time = time.time
        try:
            time.time = lambda: real_time() + pending.TTL_SECONDS + 1
            self.client.post("/report/", form_data(photo_token=token))
        finally:
            time.time = real_time
        self.assertEqual(Report.objects.get().photos.count(), 0)
        self.assertFalse(default_storage.exists(f"{pending.FOLDER}/{token}/meta.json"))


class ErrorSummaryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_the_summary_links_to_each_field_in_error(self):
        html = self.client.post("/report/", form_data(description="x" * 4001, lat="north")).content.decode()
        summary = html[html.index('id="error-summary"'):html.index("</div>", html.index('id="error-summary"'))]
        self.assertIn('href="#id_lat"', summary)
        self.assertIn('href="#id_description"', summary)

    def test_the_summary_takes_focus_without_javascript(self):
        html = self.client.post("/report/", form_data(category="")).content.decode()
        self.assertRegex(html, r'id="error-summary"[^>]*tabindex="-1"[^>]*autofocus')
        self.assertIn('href="#id_category"', html)

    def test_a_form_without_errors_has_no_summary(self):
        self.assertNotIn("error-summary", self.client.get("/report/").content.decode())

    def test_the_honeypot_is_out_of_the_tab_order(self):
        self.assertRegex(self.client.get("/report/").content.decode(), r'name="website"[^>]*tabindex="-1"|tabindex="-1"[^>]*name="website"')
