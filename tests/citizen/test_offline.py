"""Offline and installable, over HTTP: the web app manifest, the service worker's script (served
from the root, never cached, precaching every file the citizen pages use and nothing of the
staff's) and the offline page."""

import json
import re

from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from incidents.models import Photo, Report
from tests.citizen.test_pages import form_data
from tests.images import jpeg_bytes
from tests.world import build_world


class ManifestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_every_citizen_page_links_the_manifest_in_its_language(self):
        for url in ("/", "/report/", "/offline/"):
            self.assertContains(self.client.get(url), '<link rel="manifest" href="/manifest.webmanifest?lang=vi">')

    def test_the_manifest_is_json_with_what_an_installable_app_needs(self):
        response = self.client.get("/manifest.webmanifest?lang=vi")
        self.assertEqual(response["Content-Type"], "application/manifest+json")
        manifest = json.loads(response.content)
        self.assertEqual((manifest["start_url"], manifest["scope"], manifest["display"]), ("/", "/", "standalone"))
        self.assertEqual((manifest["short_name"], manifest["theme_color"]), ("Citypin", "#0b6e4f"))
        self.assertEqual({i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"}, {"192x192", "512x512"})

    def test_the_manifest_speaks_the_language_the_page_asked_for(self):
        self.assertEqual(self.client.get("/manifest.webmanifest?lang=vi").json()["name"],
                         "Citypin: phản ánh vấn đề đô thị")
        self.assertEqual(self.client.get("/manifest.webmanifest?lang=en").json()["name"],
                         "Citypin: report urban problems")

    def test_an_unknown_language_falls_back_to_the_requests_own(self):
        self.assertEqual(self.client.get("/manifest.webmanifest?lang=xx").json()["lang"], "vi")

    def test_every_icon_of_the_manifest_is_a_static_file_of_its_size(self):
        for icon in self.client.get("/manifest.webmanifest").json()["icons"]:
            found = finders.find(icon["src"].removeprefix("/static/"))
            self.assertIsNotNone(found, icon["src"])
            if icon["type"] == "image/png":
                with Image.open(found) as image:
                    self.assertEqual("%dx%d" % image.size, icon["sizes"])

    def test_console_pages_offer_no_manifest(self):
        self.assertNotContains(self.client.get("/console/login/"), 'rel="manifest"')


class ServiceWorkerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def worker(self):
        return self.client.get("/sw.js")

    def precache(self) -> list[str]:
        return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", self.worker().content.decode()).group(1))

    def test_the_worker_is_javascript_from_the_root_that_browsers_always_revalidate(self):
        response = self.worker()
        self.assertEqual(response["Content-Type"], "text/javascript; charset=utf-8")
        self.assertEqual(response["Cache-Control"], "no-cache")

    def test_the_worker_precaches_the_map_the_form_and_the_offline_page(self):
        self.assertLessEqual({"/", "/report/", "/offline/"}, set(self.precache()))

    def test_the_worker_precaches_every_script_stylesheet_and_image_of_the_map_and_the_form(self):
        precache = set(self.precache())
        for url in ("/", "/report/"):
            html = self.client.get(url).content.decode()
            used = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
            self.assertTrue(used)
            self.assertLessEqual(used, precache, url)

    def test_the_worker_precaches_the_ward_layer_the_pages_draw(self):
        wards = re.search(r'data-wards-url="([^"]+)"', self.client.get("/").content.decode()).group(1)
        self.assertIn(wards, self.precache())

    def test_the_worker_keeps_no_staff_page_nor_api_answer(self):
        precache = self.precache()
        self.assertFalse([u for u in precache if u.startswith(("/console", "/admin", "/api"))])
        pages = re.search(r"const PAGES = /(.*)/;", self.worker().content.decode()).group(1)
        for path in ("/console/", "/admin/", "/api/v1/reports/", "/console/r/CT-2026-000001/"):
            self.assertIsNone(re.match(pages.replace("\\/", "/"), path), path)

    def test_the_worker_version_follows_what_it_precaches(self):
        version = re.search(r'const CACHE = "citypin-(\w+)";', self.worker().content.decode()).group(1)
        self.assertEqual(version, re.search(r'const CACHE = "citypin-(\w+)";',
                                            self.worker().content.decode()).group(1))
        self.assertEqual(len(version), 16)

    def test_the_worker_answers_no_post(self):
        self.assertEqual(self.client.post("/sw.js").status_code, 405)


class OfflinePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_the_offline_page_says_there_is_no_connection_and_offers_the_form(self):
        response = self.client.get("/offline/")
        self.assertContains(response, "<h1>Không có kết nối</h1>", html=True)
        self.assertContains(response, 'href="/report/"')


class OutboxSendTests(TestCase):
    """What outbox.js sends: the form's fields and photo, under a key made on the phone (not a
    token the server issued) as the submission token and the Idempotency-Key header."""

    KEY = "Ph0ne-made-key_0123456789abcdefg"  # 32 characters, as outbox.js makes them

    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def send(self, **overrides):
        photo = SimpleUploadedFile("o-ga.jpg", jpeg_bytes(105.72, 10.02), content_type="image/jpeg")
        return self.client.post("/report/", form_data(submission=self.KEY, photos=photo, **overrides),
                                HTTP_IDEMPOTENCY_KEY=self.KEY)

    def test_a_report_sent_again_after_a_lost_answer_is_made_once_with_its_photo(self):
        first, again = self.send(), self.send()
        report = Report.objects.get()
        for response in (first, again):
            self.assertRedirects(response, f"/r/{report.public_id}/", fetch_redirect_response=False)
        self.assertEqual(Photo.objects.filter(report=report).count(), 1)

    def test_a_refused_report_answers_the_form_with_its_errors_and_makes_nothing(self):
        response = self.send(category="")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="error-summary"')
        self.assertEqual(Report.objects.count(), 0)
