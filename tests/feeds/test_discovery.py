"""Feeds are found where people and feed readers look: the tracking page announces its report's,
ward's and category's feeds (<link rel="alternate" type="application/atom+xml">, which readers
and browsers pick up from the page address), and the open-data page lists them."""

import re

import feedparser
from django.test import TestCase

from incidents.intake import ReportDraft, submit_report
from tests.world import build_world

ATOM_LINK = re.compile(r'<link rel="alternate" type="application/atom\+xml" href="([^"]+)" title="([^"]+)">')


class DiscoveryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="encroachment", lon=105.72, lat=10.02,
                                               description="Lấn chiếm vỉa hè"))

    def test_the_tracking_page_announces_the_reports_ward_and_category_feeds(self):
        page = self.client.get(f"/r/{self.report.public_id}/").content.decode()
        self.assertEqual([href for href, _ in ATOM_LINK.findall(page)],
                         [f"/feeds/reports/{self.report.public_id}.atom", "/feeds/wards/A.atom",
                          "/feeds/categories/encroachment.atom"])

    def test_the_announced_feeds_are_titled_in_the_pages_language(self):
        page = self.client.get(f"/r/{self.report.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertEqual([title for _, title in ATOM_LINK.findall(page)],
                         ["Updates of this report (Atom)", "New reports in Ward A (Atom)",
                          "New reports: Encroachment (Atom)"])

    def test_every_announced_feed_is_a_valid_feed(self):
        page = self.client.get(f"/r/{self.report.public_id}/").content.decode()
        for href, _ in ATOM_LINK.findall(page):
            parsed = feedparser.parse(self.client.get(href).content)
            self.assertEqual((parsed.bozo, len(parsed.entries)), (0, 1), href)

    def test_the_tracking_page_links_its_feed_visibly(self):
        page = self.client.get(f"/r/{self.report.public_id}/").content.decode()
        self.assertIn(f'<a href="/feeds/reports/{self.report.public_id}.atom" type="application/atom+xml">', page)

    def test_the_open_data_page_lists_the_feeds(self):
        page = self.client.get("/open-data/").content.decode()
        for path in ("/feeds/wards/", "/feeds/categories/", "/feeds/areas/", "/feeds/reports/"):
            self.assertIn(path, page)
