"""Pages without a bbox or a time interval run as prepared statements (incidents.prepared): the
same features as the plain SQL, planned once (a generic plan), and never a bbox page."""

from django.db import connection
from django.test import TestCase, override_settings

from tests.ogc.world import plant_reports
from tests.world import build_world

ITEMS = "/ogc/collections/reports/items"


def prepared_pages() -> list[tuple[str, int, int]]:
    """This session's prepared OGC pages: (statement, generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE name LIKE 'citypin_q_%%' AND statement LIKE '%%json_build_object(''type'', ''Feature''%%'")
        return cursor.fetchall()


class PreparedPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.reports = plant_reports(25)

    def pages(self, **params) -> list[bytes]:
        """The features of every page, following `next` from the first."""
        bodies, url, query = [], ITEMS, {"limit": 10, **params}
        while url:
            response = self.client.get(url, query, HTTP_ACCEPT="application/geo+json")
            self.assertEqual(response.status_code, 200, response.content)
            body = response.json()
            bodies.append(body["features"])
            url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            query = None
        return bodies

    def test_pages_are_the_same_prepared_or_not(self):
        for params in ({}, {"category": "pothole"}, {"status": "new", "ward": "A"}):
            with self.subTest(**params):
                with override_settings(CITYPIN_PREPARED_STATEMENTS=False):
                    plain = self.pages(**params)
                self.assertEqual(self.pages(**params), plain)
                self.assertGreater(len(plain), 1)

    def test_an_unusual_page_size_is_not_prepared(self):
        self.client.get(ITEMS, {"limit": 7})
        self.assertEqual([s for s, *_ in prepared_pages() if "LIMIT 8" in s], [])

    def test_an_unfiltered_page_is_planned_once_for_every_request(self):
        for _ in range(8):
            self.client.get(ITEMS, {"limit": 10})
        [(statement, generic, custom)] = [row for row in prepared_pages() if "LIMIT 11" in row[0]]
        self.assertNotIn("$", statement.split("LIMIT")[1])  # a literal limit: a parameter would keep it custom
        self.assertGreater(generic, 0)

    def test_a_page_with_a_bbox_or_a_time_interval_is_not_prepared(self):
        self.client.get(ITEMS, {"bbox": "105.70,10.00,105.80,10.10"})
        self.client.get(ITEMS, {"datetime": "2026-03-01T00:00:00Z/.."})
        self.assertEqual([s for s, *_ in prepared_pages() if "&&" in s or "created_at >=" in s], [])
