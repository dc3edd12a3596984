"""OGC API – Features items pages link back: a `prev` link carries a backwards keyset cursor (the
page's first row), so following it returns exactly the previous page; the first page has none."""

import base64
import json

from django.test import TestCase

from incidents.read.cursors import encode_cursor
from tests.ogc.test_items import ITEMS, ids, link
from tests.ogc.world import plant_reports
from tests.world import build_world


def walk(client, url: str, rel: str, params: dict | None = None) -> list[dict]:
    """The pages met following `rel` from `url` (the first page included) until there is none."""
    pages = [client.get(url, params).json()]
    while link(pages[-1], rel):
        pages.append(client.get(link(pages[-1], rel)["href"]).json())
    return pages


class PrevLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.reports = plant_reports(12)

    def test_the_first_page_has_no_prev_link(self):
        self.assertIsNone(link(self.client.get(ITEMS, {"limit": 5}).json(), "prev"))

    def test_the_second_page_links_back_to_exactly_the_first(self):
        first = self.client.get(ITEMS, {"limit": 5}).json()
        second = self.client.get(link(first, "next")["href"]).json()
        prev = link(second, "prev")
        self.assertEqual(prev["type"], "application/geo+json")
        back = self.client.get(prev["href"]).json()
        self.assertEqual(ids(back), ids(first))
        self.assertIsNone(link(back, "prev"))
        self.assertEqual(link(back, "next")["href"], link(first, "next")["href"])

    def test_walking_next_to_the_end_then_prev_back_returns_the_same_pages_in_the_same_order(self):
        forward = walk(self.client, ITEMS, "next", {"limit": 5})
        self.assertEqual([len(ids(p)) for p in forward], [5, 5, 2])
        backward = walk(self.client, link(forward[-1], "self")["href"], "prev")
        self.assertEqual([ids(p) for p in reversed(backward)], [ids(p) for p in forward])
        self.assertEqual(sum((ids(p) for p in forward), []), [r.public_id for r in reversed(self.reports)])

    def test_prev_keeps_the_filters_and_the_limit(self):
        forward = walk(self.client, ITEMS, "next", {"limit": 2, "category": "pothole"})
        self.assertEqual([len(ids(p)) for p in forward], [2, 2, 2])
        back = self.client.get(link(forward[-1], "prev")["href"]).json()
        self.assertEqual(ids(back), ids(forward[1]))
        self.assertIn("category=pothole", link(forward[-1], "prev")["href"])

    def test_the_html_page_links_to_the_previous_page(self):
        first = self.client.get(ITEMS, {"limit": 5}).json()
        page = self.client.get(link(first, "next")["href"].replace("f=json", "f=html"))
        self.assertContains(page, 'rel="prev"')

    def test_a_backwards_cursor_before_the_first_report_gives_an_empty_first_page(self):
        newest = self.reports[-1]
        cursor = encode_cursor([newest.created_at, newest.pk], backwards=True)
        body = self.client.get(ITEMS, {"cursor": cursor}).json()
        self.assertEqual(body["features"], [])
        self.assertIsNone(link(body, "prev"))
        self.assertIsNone(link(body, "next"))


class PrevWhileReportsArriveTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.reports = plant_reports(12)

    def test_prev_returns_the_pages_as_served_and_new_reports_come_before_the_first(self):
        forward = walk(self.client, ITEMS, "next", {"limit": 5})
        new = plant_reports(3, first=20)  # newer than everything: they belong before page one
        backward = list(reversed(walk(self.client, link(forward[-1], "self")["href"], "prev")))
        self.assertEqual([ids(p) for p in backward[1:]], [ids(p) for p in forward])
        self.assertEqual(ids(backward[0]), [r.public_id for r in reversed(new)])


class OtherCollectionsPrevTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        plant_reports(7)

    def test_incidents_page_back_newest_first(self):
        url = "/ogc/collections/incidents/items"
        forward = walk(self.client, url, "next", {"limit": 3})
        backward = walk(self.client, link(forward[-1], "self")["href"], "prev")
        self.assertEqual([ids(p) for p in reversed(backward)], [ids(p) for p in forward])

    def test_areas_page_back_in_ascending_order(self):
        url = "/ogc/collections/areas/items"
        forward = walk(self.client, url, "next", {"limit": 1})
        self.assertGreater(len(forward), 1)
        backward = walk(self.client, link(forward[-1], "self")["href"], "prev")
        self.assertEqual([ids(p) for p in reversed(backward)], [ids(p) for p in forward])


class BackwardsCursorErrorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        plant_reports(2)

    def cursor(self, value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    def test_a_backwards_cursor_of_the_wrong_length_is_a_400_naming_cursor(self):
        response = self.client.get(ITEMS, {"cursor": self.cursor({"before": [1]})})
        self.assertEqual(response.status_code, 400)
        self.assertTrue(response.json()["description"].startswith("cursor:"))

    def test_a_cursor_with_another_direction_is_a_400(self):
        response = self.client.get(ITEMS, {"cursor": self.cursor({"after": ["2026-03-01T08:00:00+00:00", 1]})})
        self.assertEqual(response.status_code, 400)

    def test_the_public_api_list_pages_forward_only_and_refuses_a_backwards_cursor(self):
        cursor = self.cursor({"before": ["2026-03-01T08:00:00+00:00", 1]})
        response = self.client.get("/api/v1/reports/", {"cursor": cursor})
        self.assertEqual(response.status_code, 400)
        self.assertIn("cursor", response.json())
