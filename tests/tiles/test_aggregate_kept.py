"""The public aggregate API (/api/v1/reports/aggregate/, read/cells.py) reads the grid counts the
database keeps for the vector tiles when they answer (the public's, no filter but the bbox and
categories, a whole zoom up to 14, a view-sized box), and counts the reports otherwise; both
answer the same totals."""

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from incidents.intake import ReportDraft, submit_report
from incidents.workflow import transition_report
from tests.tiles.tileworld import HOME, build_tile_world

URL = "/api/v1/reports/aggregate/"
COUNTED = "created_after=2000-01-01"  # true of every report; a filter the kept counts do not know


def view(zoom: int, width_px: int = 1280, height_px: int = 800) -> str:
    """The lon/lat box of a map of that size centred on HOME at that zoom (near enough: degrees
    of longitude per pixel, latitude scaled by its cosine at 10°)."""
    lon_px = 360 / 256 / 2**zoom
    lat_px = lon_px * 0.985
    return ",".join(f"{v:.6f}" for v in (HOME[0] - width_px / 2 * lon_px, HOME[1] - height_px / 2 * lat_px,
                                         HOME[0] + width_px / 2 * lon_px, HOME[1] + height_px / 2 * lat_px))


class KeptAggregateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)
        transition_report(cls.reports[0].pk, "acknowledged", actor=cls.operator)
        transition_report(cls.reports[1].pk, "resolved", actor=cls.operator, message="Đã sửa.")

    def cells(self, zoom, query="", **params) -> list[dict]:
        extra = "".join(f"&{name}={value}" for name, value in params.items()) + (f"&{query}" if query else "")
        response = self.client.get(f"{URL}?bbox={view(zoom)}&zoom={zoom}{extra}")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["features"]

    def totals(self, features) -> tuple[int, int]:
        return sum(f["properties"]["count"] for f in features), sum(f["properties"]["open"] for f in features)

    def test_kept_and_counted_totals_agree_at_every_zoom(self):
        for zoom in range(8, 15):
            self.assertEqual(self.totals(self.cells(zoom)), self.totals(self.cells(zoom, COUNTED)), zoom)
        self.assertEqual(self.totals(self.cells(12)), (5, 4))

    def test_a_category_reads_the_kept_counts_of_that_category(self):
        self.assertEqual(self.totals(self.cells(12, category="illegal-construction")), (1, 1))
        self.assertEqual(self.totals(self.cells(12, category="pothole,illegal-construction")), (5, 4))

    def test_the_kept_path_reads_no_report(self):
        with CaptureQueriesContext(connection) as queries:
            self.cells(12)
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        self.assertIn("citypin_tile_cell", sql)
        self.assertNotIn("incidents_report r", sql)

    def test_a_status_filter_is_counted_from_the_reports(self):
        with CaptureQueriesContext(connection) as queries:
            features = self.cells(12, status="resolved")
        self.assertEqual(self.totals(features), (1, 0))
        self.assertNotIn("citypin_tile_cell", " ".join(q["sql"] for q in queries.captured_queries))

    def test_a_fractional_zoom_and_a_zoom_beyond_the_kept_ones_are_counted(self):
        for zoom in ("12.5", "15"):
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(URL, {"bbox": view(12), "zoom": zoom})
            self.assertEqual(response.status_code, 200)
            self.assertNotIn("citypin_tile_cell", " ".join(q["sql"] for q in queries.captured_queries))

    def test_a_box_smaller_than_a_few_cells_is_counted_exactly(self):
        box = f"{HOME[0] - 0.001:.6f},{HOME[1] - 0.001:.6f},{HOME[0] + 0.001:.6f},{HOME[1] + 0.001:.6f}"
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(URL, {"bbox": box, "zoom": 10})
        self.assertEqual(sum(f["properties"]["count"] for f in response.json()["features"]), 1)
        self.assertNotIn("citypin_tile_cell", " ".join(q["sql"] for q in queries.captured_queries))

    def test_a_new_report_is_counted_at_once(self):
        before = self.totals(self.cells(12))[0]
        submit_report(ReportDraft(category_code="pothole", lon=HOME[0] + 0.002, lat=HOME[1], attributes={"size": "small"}))
        self.assertEqual(self.totals(self.cells(12))[0], before + 1)
