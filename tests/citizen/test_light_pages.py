"""Light pages: answers compressed on the fly, scripts that never block the first paint, and a
ward layer the browser keeps from page to page (versioned URL, a year's max-age, ETag, no
Vary: Cookie)."""

import gzip
import re

from django.test import TestCase

from gis.models import Area
from incidents.read.layers import areas_version
from tests.world import build_world


class CompressionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_a_page_is_sent_gzipped_to_a_browser_that_takes_it(self):
        response = self.client.get("/report/", HTTP_ACCEPT_ENCODING="gzip, br")
        self.assertEqual(response["Content-Encoding"], "gzip")
        self.assertIn("csrfmiddlewaretoken", gzip.decompress(response.content).decode())

    def test_an_api_answer_is_sent_gzipped(self):
        response = self.client.get("/api/v1/categories/", HTTP_ACCEPT_ENCODING="gzip")
        self.assertEqual(response["Content-Encoding"], "gzip")

    def test_without_accept_encoding_nothing_is_compressed(self):
        self.assertFalse(self.client.get("/report/").has_header("Content-Encoding"))


class DeferredScriptTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_every_script_of_a_citizen_page_is_deferred_or_inline_with_the_nonce(self):
        for url in ("/", "/report/"):
            html = self.client.get(url).content.decode()
            for tag in re.findall(r"<script[^>]*>", html):
                self.assertTrue(" defer " in tag or "nonce=" in tag or 'type="application/json"' in tag, (url, tag))


class WardLayerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def url(self, version=None, zoom=11) -> str:
        return f"/map/wards-{areas_version() if version is None else version}-{zoom}.geojson"

    def test_the_pages_point_at_the_current_versioned_layer(self):
        self.assertContains(self.client.get("/report/"), f'data-wards-url="{self.url()}"')

    def test_the_layer_holds_the_wards_only(self):
        data = self.client.get(self.url()).json()
        self.assertEqual(sorted(f["id"] for f in data["features"]), ["A", "B"])

    def test_the_layer_is_cached_for_a_year_and_varies_on_no_cookie(self):
        response = self.client.get(self.url())
        self.assertEqual(response["Cache-Control"], "public, max-age=31536000, immutable")
        self.assertTrue(response["ETag"])
        self.assertNotIn("Cookie", response.get("Vary", ""))
        self.assertFalse(response.cookies)

    def test_a_browser_holding_it_gets_304(self):
        etag = self.client.get(self.url())["ETag"]
        response = self.client.get(self.url(), HTTP_IF_NONE_MATCH=etag)
        self.assertEqual(response.status_code, 304)
        self.assertEqual(response.content, b"")

    def test_a_changed_boundary_changes_the_url(self):
        before = self.url()
        Area.objects.filter(code="A").update(name_en="Ward A (new)")
        self.assertNotEqual(self.url(), before)
        self.assertRedirects(self.client.get(before), self.url(), fetch_redirect_response=False)

    def test_a_zoom_out_of_range_is_404(self):
        self.assertEqual(self.client.get(self.url(zoom=30)).status_code, 404)
