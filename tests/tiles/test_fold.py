"""The worker folds the tiles' pending count changes into the kept counts (incidents.cells,
migration 0031). Writers only append the changes; readers add those they can see. Here each
write commits, as intake does, so the changes stay pending until a fold: the tiles must read the
same before and after it, a fold must never take in the changes of a transaction still in
progress, and each change is counted exactly once."""

import threading

import psycopg2
from django.db import connection
from django.test import TransactionTestCase

from gis.tiles import tile_at
from incidents.cells import fold_tile_cells
from incidents.models import Report
from incidents.worker import run_once, start_folding
from tests.tiles.test_aggregate_kept import URL as AGGREGATE_URL
from tests.tiles.test_aggregate_kept import view
from tests.tiles.test_cells import LIVE
from tests.tiles.tileworld import HOME, build_tile_world, decode, url


def pending() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM citypin_tile_cell_delta")
        return cursor.fetchone()[0]


def kept_at_zoom_0() -> tuple[int, int]:
    """(reports, open reports) in the folded counts alone, at zoom 0."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(n), 0), coalesce(sum(open), 0) FROM citypin_tile_cell "
                       "WHERE layer = 'reports' AND z = 0")
        return cursor.fetchone()


class FoldTests(TransactionTestCase):
    def setUp(self):
        build_tile_world(self)

    def cells(self, layer, z, query=""):
        response = self.client.get(url(layer, tile_at(*HOME, z), query))
        if response.status_code == 204:
            return []
        return sorted((f["properties"]["count"], f["properties"]["open"], tuple(f["geometry"]["coordinates"]))
                      for f in decode(response.content)[layer]["features"])

    def every_tile(self):
        """Every zoomed-out tile over HOME, and the aggregate API's cells of the map around it
        (both read the kept counts)."""
        tiles = {(layer, z): self.cells(layer, z) for layer in ("reports", "incidents") for z in range(4, 14)}
        for zoom in range(8, 15):
            response = self.client.get(f"{AGGREGATE_URL}?bbox={view(zoom)}&zoom={zoom}")
            self.assertEqual(response.status_code, 200, response.content)
            tiles["aggregate", zoom] = sorted(
                (f["properties"]["count"], f["properties"]["open"], tuple(f["geometry"]["coordinates"]))
                for f in response.json()["features"])
        return tiles

    def assert_kept_equals_live(self):
        for layer in ("reports", "incidents"):
            for z in range(4, 14):
                self.assertEqual(self.cells(layer, z), self.cells(layer, z, LIVE), (layer, z))

    def test_committed_changes_wait_for_the_fold_and_the_tiles_read_the_same_before_and_after(self):
        self.assertGreater(pending(), 0)  # the world's reports, each committed on its own
        self.assertEqual(kept_at_zoom_0(), (0, 0))
        before = self.every_tile()
        self.assertEqual(sum(c[0] for c in before[("reports", 10)]), 5)
        self.assertEqual(sum(c[0] for c in before[("aggregate", 12)]), 5)
        self.assert_kept_equals_live()

        self.assertGreater(fold_tile_cells(), 0)
        self.assertEqual(pending(), 0)
        self.assertEqual(kept_at_zoom_0(), (5, 5))
        self.assertEqual(self.every_tile(), before)
        self.assertEqual(fold_tile_cells(), 0)  # nothing left

    def test_a_fold_in_small_batches_counts_each_change_once(self):
        before = self.every_tile()
        changes = pending()
        self.assertEqual(fold_tile_cells(batch=7), changes)
        self.assertEqual((pending(), kept_at_zoom_0()), (0, (5, 5)))
        self.assertEqual(self.every_tile(), before)

    def test_a_fold_leaves_a_transaction_in_progress_alone_and_takes_its_changes_once_it_commits(self):
        fold_tile_cells()
        other = self.other_connection()
        try:
            with other.cursor() as cursor:  # a transaction of its own, left open
                cursor.execute("UPDATE incidents_report SET status = 'resolved' WHERE id = %s", [self.reports[0].pk])
            self.assertEqual(pending(), 0)  # its changes are out of sight...
            self.assertEqual(fold_tile_cells(), 0)  # ...so the fold takes nothing of them
            self.assertEqual(self.cells("reports", 10)[0][:2], (5, 5))
            other.commit()
        finally:
            other.close()
        self.assertGreater(pending(), 0)
        self.assertEqual(self.cells("reports", 10)[0][:2], (5, 4))  # read at once, before any fold
        self.assert_kept_equals_live()
        fold_tile_cells()
        self.assertEqual((pending(), kept_at_zoom_0()), (0, (5, 4)))
        self.assert_kept_equals_live()

    def other_connection(self):
        db = connection.settings_dict
        return psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                                port=db["PORT"])

    def test_a_fold_steps_aside_while_a_truncate_holds_the_reports_and_folds_on_the_next_pass(self):
        changes = pending()
        other = self.other_connection()
        try:
            with other.cursor() as cursor:  # as TRUNCATE does, until it commits
                cursor.execute("LOCK TABLE incidents_report IN ACCESS EXCLUSIVE MODE")
            self.assertEqual(fold_tile_cells(), 0)  # at once: it neither waits nor moves anything
            self.assertEqual(pending(), changes)
        finally:
            other.rollback()
            other.close()
        self.assertEqual(fold_tile_cells(), changes)
        self.assertEqual(kept_at_zoom_0(), (5, 5))

    def test_a_truncate_clears_the_counts_and_what_was_pending(self):
        fold_tile_cells()
        Report.objects.filter(pk=self.reports[0].pk).update(status="resolved")  # a pending change
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE incidents_report CASCADE")
        fold_tile_cells()
        self.assertEqual((pending(), kept_at_zoom_0()), (0, (0, 0)))
        self.assertEqual(self.cells("reports", 10), [])

    def test_a_stopped_worker_folds_no_more(self):
        stop = threading.Event()
        stop.set()
        self.assertEqual(fold_tile_cells(stop=stop), 0)
        self.assertGreater(pending(), 0)

    def test_a_deleted_report_is_taken_out_by_the_fold(self):
        Report.objects.filter(pk=self.reports[2].pk).delete()
        self.assertEqual(sum(c[0] for c in self.cells("reports", 10)), 4)
        fold_tile_cells()
        self.assertEqual(kept_at_zoom_0(), (4, 4))
        self.assert_kept_equals_live()

    def test_a_worker_pass_folds_when_no_folding_thread_runs(self):
        run_once()
        self.assertEqual((pending(), kept_at_zoom_0()), (0, (5, 5)))

    def test_the_worker_s_folding_thread_folds_what_is_written_while_it_runs(self):
        stop = threading.Event()
        folder = start_folding(stop)
        try:
            self.wait_for(lambda: pending() == 0)
            Report.objects.filter(pk=self.reports[1].pk).update(status="resolved")
            self.wait_for(lambda: pending() == 0)
        finally:
            stop.set()
            folder.join(timeout=30)
        self.assertFalse(folder.is_alive())
        self.assertEqual(kept_at_zoom_0(), (5, 4))

    def wait_for(self, condition, timeout=30.0):
        stopped = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if condition():
                return
            stopped.wait(0.05)
        self.fail("timed out")
