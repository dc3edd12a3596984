"""Atom feeds read back by a real feed parser (feedparser: bozo 0 means well-formed and valid
enough for readers) and by ElementTree: a ward's and a category's new reports, one report's
public updates, in Vietnamese or English, with 304 for a reader that has the feed, and a clear
400 or 404 for a wrong request.

The world (tests/world.py): ward A (lon 105.70–105.75) and ward B (105.75–105.79); potholes go
to the construction department, encroachment to the ward's committee.
"""

from datetime import timedelta
from unittest import mock
from xml.etree import ElementTree

import feedparser
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.feeds import queries
from incidents.intake import ReportDraft, submit_report
from incidents.models import DrawnArea, Report
from incidents.triage import add_note, reply_to_report
from incidents.workflow import transition_report
from tests.world import build_world

ATOM = "{http://www.w3.org/2005/Atom}"
GEORSS = "{http://www.georss.org/georss}"
START = timezone.now() - timedelta(days=3)


def report(category: str, lon: float, lat: float, minutes: int, description: str = "", **attributes):
    return submit_report(ReportDraft(category_code=category, lon=lon, lat=lat, location_accuracy_m=5,
                                     description=description, attributes=attributes,
                                     created_at=START + timedelta(minutes=minutes)))


class FeedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.first = report("pothole", 105.72, 10.02, 1, "Ổ gà đầu tiên", size="large")
        cls.second = report("encroachment", 105.73, 10.03, 2, "Lấn chiếm <b>vỉa hè</b>\ndòng hai")
        cls.in_b = report("pothole", 105.77, 10.02, 3, "Ổ gà phường B", size="small")
        cls.staff = get_user_model().objects.create_user("agent", password="x")
        transition_report(cls.first.pk, "acknowledged", actor=cls.staff, message="Đã tiếp nhận")
        add_note(cls.first.pk, "Ghi chú nội bộ", actor=cls.staff)
        reply_to_report(cls.first.pk, "Sẽ sửa trong tuần", actor=cls.staff)
        # around the first two reports (lon 105.72–105.73, lat 10.02–10.03), not the one in ward B
        cls.area = DrawnArea.objects.create(geom=Polygon.from_bbox((105.715, 10.015, 105.735, 10.035)))
        cls.empty_area = DrawnArea.objects.create(geom=Polygon.from_bbox((105.701, 10.09, 105.702, 10.091)))

    def fetch(self, url: str, **headers):
        response = self.client.get(url, HTTP_ACCEPT_ENCODING="identity", **headers)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response

    def parse(self, url: str, **headers) -> feedparser.FeedParserDict:
        parsed = feedparser.parse(self.fetch(url, **headers).content)
        self.assertEqual(parsed.bozo, 0, parsed.get("bozo_exception"))
        self.assertEqual(parsed.version, "atom10")
        return parsed

    def xml(self, url: str) -> ElementTree.Element:
        return ElementTree.fromstring(self.fetch(url).content)

    # What each feed holds

    def test_a_ward_feed_lists_the_wards_reports_newest_first(self):
        feed = self.parse("/feeds/wards/A.atom")
        self.assertEqual([e.link for e in feed.entries],
                         [f"http://testserver/r/{r.public_id}/" for r in (self.second, self.first)])

    def test_a_ward_feed_leaves_out_the_other_wards_reports(self):
        feed = self.parse("/feeds/wards/B.atom")
        self.assertEqual([e.id for e in feed.entries], [f"http://testserver/r/{self.in_b.public_id}/"])

    def test_a_category_feed_lists_only_that_category(self):
        feed = self.parse("/feeds/categories/pothole.atom")
        self.assertEqual([e.link for e in feed.entries],
                         [f"http://testserver/r/{r.public_id}/" for r in (self.in_b, self.first)])
        self.assertEqual(feed.entries[0].tags[0].term, "pothole")

    def test_a_drawn_area_feed_lists_the_reports_inside_it_newest_first(self):
        feed = self.parse(f"/feeds/areas/{self.area.slug}.atom")
        self.assertEqual([e.link for e in feed.entries],
                         [f"http://testserver/r/{r.public_id}/" for r in (self.second, self.first)])

    def test_a_drawn_area_with_no_reports_gives_an_empty_valid_feed(self):
        self.assertEqual(self.parse(f"/feeds/areas/{self.empty_area.slug}.atom").entries, [])

    def test_a_report_feed_lists_its_public_updates_newest_first(self):
        feed = self.parse(f"/feeds/reports/{self.first.public_id}.atom")
        self.assertEqual([e.summary for e in feed.entries], ["Sẽ sửa trong tuần", "Đã tiếp nhận", "Đã nhận phản ánh"])

    def test_a_report_feed_never_shows_an_internal_note(self):
        body = self.fetch(f"/feeds/reports/{self.first.public_id}.atom").content.decode()
        self.assertNotIn("Ghi chú nội bộ", body)

    def test_a_category_with_no_reports_gives_an_empty_valid_feed(self):
        feed = self.parse("/feeds/categories/orphan.atom")
        self.assertEqual(feed.entries, [])
        self.assertEqual(feed.feed.updated, "1970-01-01T00:00:00+00:00")

    def test_a_feed_holds_at_most_the_latest_entries(self):
        with mock.patch.object(queries, "MAX_ENTRIES", 1):
            feed = self.parse("/feeds/wards/A.atom")
        self.assertEqual([e.link for e in feed.entries], [f"http://testserver/r/{self.second.public_id}/"])

    def test_each_feed_is_one_sql_query(self):
        for read in (lambda: queries.ward_reports("A", "vi"), lambda: queries.category_reports("pothole", "vi"),
                     lambda: queries.area_reports(self.area.slug, "vi"),
                     lambda: queries.report_timeline(self.first.public_id, "vi")):
            with CaptureQueriesContext(connection) as captured:
                read()
            self.assertEqual(len(captured), 1)

    def test_a_report_taken_down_disappears_from_its_feeds(self):
        gone = report("pothole", 105.74, 10.04, 20, "Phản ánh sẽ bị gỡ", size="small")
        self.assertIn(gone.public_id, self.fetch("/feeds/wards/A.atom").content.decode())
        Report.objects.filter(pk=gone.pk).delete()  # an administrator removes it
        self.assertNotIn(gone.public_id, self.fetch("/feeds/wards/A.atom").content.decode())
        self.assertNotIn(gone.public_id, self.fetch("/feeds/categories/pothole.atom").content.decode())
        self.assertEqual(self.client.get(f"/feeds/reports/{gone.public_id}.atom").status_code, 404)

    # The Atom document

    def test_the_feed_is_served_as_atom_in_utf_8(self):
        response = self.fetch("/feeds/wards/A.atom")
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")

    def test_the_feed_links_itself_and_the_public_map(self):
        links = {link.get("rel"): link.get("href") for link in self.xml("/feeds/wards/A.atom").findall(f"{ATOM}link")}
        self.assertEqual(links, {"self": "http://testserver/feeds/wards/A.atom?lang=vi", "alternate": "http://testserver/"})

    def test_a_report_feed_links_the_tracking_page(self):
        feed = self.parse(f"/feeds/reports/{self.first.public_id}.atom")
        self.assertEqual(feed.feed.link, f"http://testserver/r/{self.first.public_id}/")

    def test_the_feed_is_updated_when_its_newest_entry_was(self):
        root = self.xml("/feeds/categories/pothole.atom")
        entries = [e.findtext(f"{ATOM}updated") for e in root.findall(f"{ATOM}entry")]
        self.assertEqual(root.findtext(f"{ATOM}updated"), max(entries))

    def test_each_entry_has_id_published_updated_title_summary_and_public_point(self):
        entry = self.xml("/feeds/wards/B.atom").find(f"{ATOM}entry")
        self.in_b.refresh_from_db()
        point = self.in_b.public_location
        self.assertEqual(entry.findtext(f"{ATOM}id"), f"http://testserver/r/{self.in_b.public_id}/")
        self.assertTrue(entry.findtext(f"{ATOM}published").startswith(START.date().isoformat()[:4]))
        self.assertIsNotNone(entry.findtext(f"{ATOM}updated"))
        self.assertIn(self.in_b.public_id, entry.findtext(f"{ATOM}title"))
        self.assertIn("Ổ gà phường B", entry.findtext(f"{ATOM}summary"))
        self.assertEqual(entry.findtext(f"{GEORSS}point"), f"{point.y:f} {point.x:f}")

    def test_markup_typed_by_a_citizen_stays_text(self):
        feed = self.parse("/feeds/categories/encroachment.atom")
        self.assertIn("Lấn chiếm &lt;b&gt;vỉa hè&lt;/b&gt;<br />dòng hai", feed.entries[0].summary)

    def test_event_entries_have_stable_ids_on_the_tracking_page(self):
        first = [e.id for e in self.parse(f"/feeds/reports/{self.first.public_id}.atom").entries]
        again = [e.id for e in self.parse(f"/feeds/reports/{self.first.public_id}.atom").entries]
        self.assertEqual(first, again)
        self.assertTrue(all(i.startswith(f"http://testserver/r/{self.first.public_id}/#event-") for i in first))

    # Language

    def test_vietnamese_by_default(self):
        feed = self.parse("/feeds/wards/A.atom")
        self.assertEqual(feed.feed.language, "vi")
        self.assertEqual(feed.feed.title, "Phản ánh mới ở Phường A")

    def test_english_when_asked_with_lang(self):
        feed = self.parse("/feeds/wards/A.atom?lang=en")
        self.assertEqual((feed.feed.language, feed.feed.title), ("en", "New reports in Ward A"))
        self.assertIn("Pothole", feed.entries[1].title)

    def test_english_when_the_browser_asks_for_it(self):
        feed = self.parse(f"/feeds/reports/{self.first.public_id}.atom", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual([e.title.split(": ", 1)[1] for e in feed.entries], ["Reply", "Acknowledged", "Report received"])

    # Caching

    def test_a_reader_with_the_current_etag_gets_304(self):
        etag = self.fetch("/feeds/wards/A.atom")["ETag"]
        response = self.client.get("/feeds/wards/A.atom", HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING="identity")
        self.assertEqual(response.status_code, 304)

    def test_a_reader_up_to_date_by_time_gets_304(self):
        modified = self.fetch("/feeds/wards/A.atom")["Last-Modified"]
        response = self.client.get("/feeds/wards/A.atom", HTTP_IF_MODIFIED_SINCE=modified)
        self.assertEqual(response.status_code, 304)

    def test_a_new_report_changes_the_etag(self):
        etag = self.fetch("/feeds/wards/A.atom")["ETag"]
        report("pothole", 105.71, 10.01, 10, size="small")
        response = self.client.get("/feeds/wards/A.atom", HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING="identity")
        self.assertEqual(response.status_code, 200)

    def test_each_language_has_its_own_etag(self):
        self.assertNotEqual(self.fetch("/feeds/wards/A.atom")["ETag"], self.fetch("/feeds/wards/A.atom?lang=en")["ETag"])

    # Open data

    def test_any_web_page_may_read_a_feed(self):
        self.assertEqual(self.fetch("/feeds/categories/pothole.atom")["Access-Control-Allow-Origin"], "*")

    def test_the_preflight_is_answered(self):
        self.assertEqual(self.client.options("/feeds/categories/pothole.atom").status_code, 204)

    def test_a_post_is_refused(self):
        self.assertEqual(self.client.post("/feeds/categories/pothole.atom").status_code, 405)

    def test_too_many_reads_from_one_address_get_429(self):
        with self.settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"open_data_read": "2/min"}}):
            codes = [self.client.get("/feeds/categories/pothole.atom").status_code for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])

    # Wrong requests

    def test_an_unknown_ward_is_404(self):
        self.assertEqual(self.client.get("/feeds/wards/ZZ.atom").status_code, 404)

    def test_a_province_is_not_a_ward(self):
        self.assertEqual(self.client.get("/feeds/wards/P.atom").status_code, 404)

    def test_an_unknown_category_is_404(self):
        self.assertEqual(self.client.get("/feeds/categories/nope.atom").status_code, 404)

    def test_an_unknown_drawn_area_is_404(self):
        self.assertEqual(self.client.get("/feeds/areas/nope-nope-nop.atom").status_code, 404)

    def test_an_unknown_report_is_404(self):
        self.assertEqual(self.client.get("/feeds/reports/CT-2000-999999.atom").status_code, 404)

    def test_an_unknown_language_is_400_naming_lang(self):
        response = self.client.get("/feeds/wards/A.atom?lang=fr")
        self.assertEqual((response.status_code, list(response.json())), (400, ["lang"]))

    def test_a_nul_in_a_ward_code_is_400_naming_code(self):
        response = self.client.get("/feeds/wards/A%00.atom")
        self.assertEqual((response.status_code, list(response.json())), (400, ["code"]))

    def test_a_nul_in_a_category_code_is_400_naming_code(self):
        response = self.client.get("/feeds/categories/%00x.atom")
        self.assertEqual((response.status_code, list(response.json())), (400, ["code"]))

    def test_a_code_longer_than_any_is_404(self):
        self.assertEqual(self.client.get(f"/feeds/categories/{'x' * 500}.atom").status_code, 404)

    def test_a_language_given_twice_is_400_naming_lang(self):
        response = self.client.get("/feeds/wards/A.atom?lang=vi&lang=en")
        self.assertEqual((response.status_code, list(response.json())), (400, ["lang"]))
