"""Tile caching: a strong ETag from the data version of the layer's tables, revalidation
answering 304 while nothing changed, and a fresh tile as soon as a report under it changes
through the domain's workflow."""

from django.test import TestCase

from incidents.workflow import transition_report
from tests.tiles.tileworld import OPEN_ONLY, build_tile_world, decode, home_tile, url


class CachingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def get(self, layer="reports", z=14, query="", **headers):
        return self.client.get(url(layer, home_tile(z), query), **headers)

    def public_ids(self, response):
        return {f["properties"]["public_id"] for f in decode(response.content)["reports"]["features"]}

    def reject(self, report):
        transition_report(report.pk, "rejected", actor=self.operator, message="Không thuộc thẩm quyền.")

    def test_tiles_carry_a_strong_etag_and_must_be_revalidated(self):
        response = self.get()
        self.assertRegex(response["ETag"], r'^"[0-9a-f]+-[0-9a-f]+"$')
        self.assertEqual(response["Cache-Control"], "public, no-cache")

    def test_an_unchanged_tile_answers_304_without_a_body(self):
        etag = self.get()["ETag"]
        response = self.get(HTTP_IF_NONE_MATCH=etag)
        self.assertEqual(response.status_code, 304)
        self.assertEqual(response.content, b"")
        self.assertEqual(response["ETag"], etag)

    def test_an_empty_tile_is_revalidated_too(self):
        empty = self.client.get("/tiles/reports/15/0/0.mvt")
        again = self.client.get("/tiles/reports/15/0/0.mvt", HTTP_IF_NONE_MATCH=empty["ETag"])
        self.assertEqual((empty.status_code, again.status_code), (204, 304))

    def test_etags_differ_by_tile_language_and_filter(self):
        tags = {self.get()["ETag"], self.get(z=15)["ETag"], self.get(HTTP_ACCEPT_LANGUAGE="en")["ETag"],
                self.get(query="category=pothole")["ETag"]}
        self.assertEqual(len(tags), 4)

    def test_a_rejected_report_leaves_a_tile_of_open_reports_at_once(self):
        before = self.get(query=OPEN_ONLY)
        self.assertIn(self.reports[1].public_id, self.public_ids(before))
        self.reject(self.reports[1])
        after = self.get(query=OPEN_ONLY, HTTP_IF_NONE_MATCH=before["ETag"])
        self.assertEqual(after.status_code, 200)
        self.assertNotIn(self.reports[1].public_id, self.public_ids(after))

    def test_a_rejected_report_shows_as_rejected_at_once_on_the_full_tile(self):
        before = self.get()
        self.reject(self.reports[2])
        after = self.get(HTTP_IF_NONE_MATCH=before["ETag"])
        self.assertEqual(after.status_code, 200)
        [feature] = [f for f in decode(after.content)["reports"]["features"]
                     if f["properties"]["public_id"] == self.reports[2].public_id]
        self.assertEqual(feature["properties"]["status"], "rejected")

    def test_a_rejected_report_leaves_the_open_counts_of_zoomed_out_tiles(self):
        before = self.get(z=10)
        self.reject(self.reports[3])
        after = self.get(z=10, HTTP_IF_NONE_MATCH=before["ETag"])
        self.assertEqual(after.status_code, 200)
        [cell] = decode(after.content)["reports"]["features"]
        self.assertEqual((cell["properties"]["count"], cell["properties"]["open"]), (5, 4))

    def test_the_incident_layer_follows_a_rejected_report_alone_in_its_incident(self):
        before = self.get("incidents", query=OPEN_ONLY)
        self.reject(self.reports[0])
        after = self.get("incidents", query=OPEN_ONLY, HTTP_IF_NONE_MATCH=before["ETag"])
        self.assertEqual(after.status_code, 200)
        ids = {f["id"] for f in decode(after.content)["incidents"]["features"]}
        self.assertNotIn(self.reports[0].incident_id, ids)

    def test_a_report_change_leaves_the_areas_layer_cached(self):
        before = self.get("areas", z=12)
        self.reject(self.reports[0])
        self.assertEqual(self.get("areas", z=12, HTTP_IF_NONE_MATCH=before["ETag"]).status_code, 304)
