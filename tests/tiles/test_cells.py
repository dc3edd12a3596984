"""Zoomed-out tiles read grid counts the database keeps (citypin_tile_cell, migration 0012):
they must equal the counts made from the reports themselves (the path a date filter takes), at
every zoom, after every kind of write: insert, status change, move to another category,
delete."""

from django.db import connection
from django.test import TestCase

from gis.tiles import tile_at
from incidents.models import Report
from incidents.workflow import transition_report
from tests.tiles.tileworld import HOME, build_tile_world, decode, lonlat, url

LIVE = "created_after=2000-01-01"  # a filter the kept counts do not know: counted from the reports


class KeptCellTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def cells(self, layer, z, query=""):
        tile = tile_at(*HOME, z)
        response = self.client.get(url(layer, tile, query))
        if response.status_code == 204:
            return []
        return sorted((f["properties"]["count"], f["properties"]["open"],
                       tuple(round(v, 5) for v in lonlat(tile, *f["geometry"]["coordinates"])))
                      for f in decode(response.content)[layer]["features"])

    def assert_kept_equals_live(self):
        for layer in ("reports", "incidents"):
            for z in range(4, 14):
                self.assertEqual(self.cells(layer, z), self.cells(layer, z, LIVE), (layer, z))

    def test_kept_counts_equal_live_counts_at_every_zoom(self):
        self.assertEqual(sum(c[0] for c in self.cells("reports", 10)), 5)
        self.assert_kept_equals_live()

    def test_two_reports_150_m_apart_share_a_zoom_10_cell_but_not_a_zoom_13_one(self):
        # At zoom 13 a cell is a zoom-16 tile, about 600 m wide: the four potholes 0, 150, 300
        # and 450 m east of HOME straddle the cell edge between 150 and 300 m.
        self.assertEqual(len(self.cells("reports", 10, "category=pothole")), 1)
        self.assertEqual(len(self.cells("reports", 13, "category=pothole")), 2)

    def test_a_status_change_moves_a_report_from_open_to_closed_in_its_cell(self):
        transition_report(self.reports[0].pk, "resolved", actor=self.operator, message="Đã sửa.")
        self.assertEqual(self.cells("reports", 10)[0][:2], (5, 4))
        self.assert_kept_equals_live()

    def test_a_category_filter_reads_the_kept_counts_of_that_category(self):
        self.assertEqual([c[:2] for c in self.cells("reports", 10, "category=illegal-construction")], [(1, 1)])

    def test_a_report_moved_to_another_category_is_counted_there(self):
        Report.objects.filter(pk=self.reports[1].pk).update(category=self.encroachment)
        self.assertEqual([c[:2] for c in self.cells("reports", 10, "category=encroachment")], [(1, 1)])
        self.assertEqual(sum(c[0] for c in self.cells("reports", 10, "category=pothole")), 3)

    def test_a_deleted_report_leaves_its_cell(self):
        Report.objects.filter(pk=self.reports[2].pk).delete()
        self.assertEqual(sum(c[0] for c in self.cells("reports", 10)), 4)
        self.assert_kept_equals_live()

    def test_an_update_that_changes_nothing_counted_leaves_the_counts(self):
        Report.objects.update(supporter_count=3)
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(n) FROM (SELECT layer, z, n FROM citypin_tile_cell UNION ALL "
                           "SELECT layer, z, n FROM citypin_tile_cell_delta) k WHERE layer = 'reports' AND z = 0")
            self.assertEqual(cursor.fetchone()[0], 5)
