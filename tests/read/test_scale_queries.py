"""The two list queries that read a page's worth of reports however long the history grows
(issue 16, migrations 0027 and 0028): the public bbox list in expanding time windows
(read/reports.py), a small box's windows read by its cells, and the console's list and map over
open reports (a partial index). Each answers exactly what the
single unbounded query answered: the same rows, in the same order, with cursors that page
through every report once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from unittest import mock

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.access import StaffScope
from incidents.intake import ReportDraft, submit_report
from incidents.models import Report
from incidents.read import reports as public_reads
from incidents.read import staff
from incidents.read.cursors import encode_cursor
from tests.world import build_world

DAY = timedelta(days=1)
# Boxes in ward A (lon/lat, SRID 4326), each with its own history (days ago of each report).
DENSE = (105.700, 10.000, 105.710, 10.010)  # six reports in the last day, older ones behind
SPARSE = (105.720, 10.000, 105.730, 10.010)  # two or three reports now and then over 8 years
OLD = (105.700, 10.020, 105.710, 10.030)  # nothing for 20 years, one report 150 years ago
EDGE = (105.720, 10.020, 105.730, 10.030)  # a cursor with exactly a page in the day before it
HISTORY = {
    DENSE: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 5, 40],
    SPARSE: [0.5, 0.5, 3, 20, 20, 100, 700, 700, 700, 3000],
    OLD: [7300, 7300.5, 54750],
}
EDGE_CURSOR_DAYS = 30  # EDGE: a report at the cursor's time, three in the day before, one at the day's edge
EDGE_AGO = [30, 30.25, 30.5, 30.75, 31, 32]


def at(lon_lat_box: tuple[float, float, float, float], i: int) -> tuple[float, float]:
    """The i-th report's point inside a box (a small grid, so no two coincide)."""
    minx, miny, maxx, maxy = lon_lat_box
    return minx + (maxx - minx) * (0.1 + 0.08 * (i % 10)), miny + (maxy - miny) * (0.1 + 0.08 * (i // 10))


def bbox(box: tuple[float, float, float, float]) -> str:
    return ",".join(str(v) for v in box)


def feature_ids(features: list[str]) -> list[str]:
    return [json.loads(f)["id"] for f in features]


class PublicListInTimeWindows(TestCase):
    """report_page with a bbox, against the ORM's `&&` on the public point, newest first."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.now = timezone.now()
        cls.edge_cursor_time = cls.now - EDGE_CURSOR_DAYS * DAY
        for box, ages in [*HISTORY.items(), (EDGE, EDGE_AGO)]:
            for i, age in enumerate(ages):
                lon, lat = at(box, i)
                report = submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False)
                Report.objects.filter(pk=report.pk).update(created_at=cls.now - age * DAY)
        # Two reports at the very same time across a page boundary: the id breaks the tie.
        same = cls.now - 20 * DAY
        Report.objects.filter(public_location__bboverlaps=Polygon.from_bbox(SPARSE),
                              created_at__lt=cls.now - 19 * DAY, created_at__gt=cls.now - 21 * DAY).update(
            created_at=same)

    def expected(self, box, after=None, before=None) -> list[str]:
        reports = Report.objects.filter(public_location__bboverlaps=Polygon.from_bbox(box))
        if after is not None:
            reports = reports.filter(created_at__gte=after)
        if before is not None:
            reports = reports.filter(created_at__lte=before)
        return list(reports.order_by("-created_at", "-id").values_list("public_id", flat=True))

    def pages(self, params: dict, limit: int) -> list[list[str]]:
        """Every page of a query, following the cursors."""
        pages, cursor = [], None
        while True:
            query = QueryDict(mutable=True)
            query.update({**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})})
            page = public_reads.report_page(query, "vi")
            pages.append(feature_ids(page.features))
            cursor = page.next_cursor
            if cursor is None:
                return pages
            self.assertLess(len(pages), 50, "the cursors go round in circles")

    def assert_paged_like_one_query(self, box, limit: int, **filters) -> None:
        expected = self.expected(box, filters.get("after"), filters.get("before"))
        params = {"bbox": bbox(box)}
        if filters.get("after") is not None:
            params["created_after"] = filters["after"].isoformat()
        if filters.get("before") is not None:
            params["created_before"] = filters["before"].isoformat()
        pages = self.pages(params, limit)
        self.assertEqual(pages, [expected[i:i + limit] for i in range(0, max(len(expected), 1), limit)])

    def test_a_dense_box_pages_like_the_single_query(self):
        for limit in (1, 3, 5, 6, 7, 500):
            with self.subTest(limit=limit):
                self.assert_paged_like_one_query(DENSE, limit)

    def test_a_sparse_box_whose_windows_must_widen_pages_like_the_single_query(self):
        for limit in (1, 2, 3, 4, 9, 10, 11):
            with self.subTest(limit=limit):
                self.assert_paged_like_one_query(SPARSE, limit)

    def test_a_box_with_only_reports_older_than_any_window_pages_like_the_single_query(self):
        for limit in (1, 2, 3, 4):
            with self.subTest(limit=limit):
                self.assert_paged_like_one_query(OLD, limit)

    def test_a_box_with_no_report_gives_an_empty_page(self):
        page = public_reads.report_page(QueryDict("bbox=105.76,10.08,105.77,10.09"), "vi")
        self.assertEqual((page.features, page.next_cursor), ([], None))

    def test_an_exactly_full_window_at_the_cursor_still_finds_the_next_page(self):
        # After the cursor: three reports within the day before it and one exactly a day before
        # (the window's edge, inside it), one more a day later: pages of 3 and 4 both end in the window.
        cursor = encode_cursor([self.edge_cursor_time, 10 ** 12])
        expected = [p for p in self.expected(EDGE, before=self.edge_cursor_time)]
        for limit in (3, 4, 5):
            with self.subTest(limit=limit):
                query = QueryDict(mutable=True)
                query.update({"bbox": bbox(EDGE), "limit": str(limit), "cursor": cursor})
                page = public_reads.report_page(query, "vi")
                self.assertEqual(feature_ids(page.features), expected[:limit])
                self.assertEqual(page.next_cursor is None, len(expected) <= limit)

    def test_a_cursor_in_the_past_pages_on_from_there(self):
        cutoff = self.now - 365 * DAY
        cursor = encode_cursor([cutoff, 0])
        query = QueryDict(mutable=True)
        query.update({"bbox": bbox(SPARSE), "limit": "2", "cursor": cursor})
        page = public_reads.report_page(query, "vi")
        self.assertEqual(feature_ids(page.features), self.expected(SPARSE, before=cutoff)[:2])

    def test_created_after_and_before_bound_the_windows_as_the_single_query(self):
        for after, before in ((self.now - 2 * DAY, None), (self.now - 800 * DAY, self.now - 10 * DAY),
                              (None, self.now - 50 * DAY), (self.now - 5000 * DAY, self.now - 2900 * DAY)):
            with self.subTest(after=after, before=before):
                for limit in (1, 2, 3):
                    self.assert_paged_like_one_query(SPARSE, limit, after=after, before=before)

    def test_a_box_whose_last_day_fills_the_page_is_read_in_one_query_bounded_by_that_day(self):
        query = QueryDict(mutable=True)
        query.update({"bbox": bbox(DENSE), "limit": "5"})
        with CaptureQueriesContext(connection) as queries:
            public_reads.report_page(query, "vi")
        self.assertEqual(len(queries), 1)
        self.assertIn("r.created_at >= ", queries[0]["sql"])

    def test_without_a_bbox_the_page_is_one_unbounded_query(self):
        with CaptureQueriesContext(connection) as queries:
            page = public_reads.report_page(QueryDict("limit=2"), "vi")
        self.assertEqual(len(queries), 1)
        self.assertNotIn("r.created_at >= ", queries[0]["sql"])
        newest = Report.objects.order_by("-created_at", "-id").values_list("public_id", flat=True)[:2]
        self.assertEqual(feature_ids(page.features), list(newest))


class WindowGrowth(TestCase):
    def test_a_window_that_found_nothing_grows_the_most(self):
        self.assertEqual(public_reads.next_window(DAY, 0, 501), DAY * public_reads.GROWTH[1])

    def test_a_window_grows_to_twice_what_its_rate_needs_for_a_page(self):
        self.assertEqual(public_reads.next_window(DAY, 100, 501), DAY * 11)

    def test_a_window_grows_at_least_fourfold(self):
        self.assertEqual(public_reads.next_window(DAY, 500, 501), DAY * public_reads.GROWTH[0])

    def test_past_a_century_the_query_is_unbounded(self):
        self.assertIsNone(public_reads.next_window(public_reads.MAX_WINDOW, 1, 501))


FAR = timezone.make_aware(datetime(9999, 12, 31))
ORDER = {  # each console sort as a Python key on a report, and whether it runs descending
    "newest": (lambda r: (r.created_at, r.id), True),
    "oldest": (lambda r: (r.created_at, r.id), False),
    "due": (lambda r: (r.resolve_due_at or FAR, r.id), False),
    "priority": (lambda r: (r.priority, r.created_at, r.id), True),
}


class ConsoleListOfOpenReports(TestCase):
    """report_list and map_features, which report_open_location (a partial index on open
    reports) serves, against the ORM: the department's reports of the statuses, in the box."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        now = timezone.now()
        statuses = list(Report.Status.values)
        for i in range(40):
            lon, lat = at(DENSE if i % 2 else SPARSE, i // 2)
            report = submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False)
            Report.objects.filter(pk=report.pk).update(
                created_at=now - (i % 7) * 100 * DAY - i * DAY, status=statuses[i % len(statuses)], priority=1 + i % 4,
                resolve_due_at=None if i % 5 == 0 else now + (i % 9 - 4) * DAY,
                acknowledge_due_at=now + (i % 3 - 1) * DAY, acknowledged_at=now if i % 4 == 0 else None)
        cls.agent = StaffScope(user_id=1, roles={cls.committee_a.pk: "agent"}, operations_center_role=None)
        cls.elsewhere = StaffScope(user_id=2, roles={cls.committee_b.pk: "agent"}, operations_center_role=None)
        cls.operator = StaffScope(user_id=3, roles={}, operations_center_role="manager")

    def expected(self, scope: StaffScope, statuses: set[str] | None, box, sort: str, overdue: bool = False) -> list[str]:
        reports = Report.objects.all()
        if overdue:
            now = timezone.now()
            reports = reports.filter(Q(resolve_due_at__lt=now) | Q(acknowledged_at=None, acknowledge_due_at__lt=now),
                                     status__in=Report.OPEN_STATUSES)
        if scope.department_ids is not None:
            reports = reports.filter(department_id__in=scope.department_ids)
        if statuses is not None:
            reports = reports.filter(status__in=statuses)
        if box:
            reports = reports.filter(location__bboverlaps=Polygon.from_bbox(box))
        key, descending = ORDER[sort]
        return [r.public_id for r in sorted(reports, key=key, reverse=descending)]

    def pages(self, params: dict, scope: StaffScope) -> list[list[str]]:
        cursor, pages = None, []
        with mock.patch.object(staff, "PAGE", 4):
            while True:
                query = QueryDict(mutable=True)
                query.update({k: v for k, v in params.items() if v})
                if cursor:
                    query["cursor"] = cursor
                page = staff.report_list(query, scope, "vi")
                pages.append([row.public_id for row in page.rows])
                cursor = page.next_cursor
                if cursor is None:
                    return pages
                self.assertLess(len(pages), 30)

    def test_lists_with_any_status_filter_and_sort_page_through_the_reports_asked_for(self):
        open_ = set(Report.OPEN_STATUSES)
        for scope in (self.agent, self.elsewhere, self.operator):
            for status, statuses in (("", open_), ("open", open_), ("new", {"new"}),
                                     ("in_progress,reopened", {"in_progress", "reopened"}),
                                     ("new,resolved", {"new", "resolved"}), ("all", None), ("closed", {"closed"})):
                for sort in staff.SORTS:
                    for box in (None, DENSE):
                        with self.subTest(status=status, sort=sort, box=box, scope=scope.user_id):
                            expected = self.expected(scope, statuses, box, sort)
                            pages = self.pages({"status": status, "sort": sort, "bbox": box and bbox(box)}, scope)
                            self.assertEqual(pages, [expected[i:i + 4] for i in range(0, max(len(expected), 1), 4)])

    def test_overdue_reports_of_any_status_filter_page_through_the_reports_asked_for(self):
        open_ = set(Report.OPEN_STATUSES)
        for status, statuses in (("", open_), ("new", {"new"}), ("new,resolved", {"new", "resolved"}), ("all", None),
                                 ("closed", {"closed"})):
            for box in (None, DENSE):
                with self.subTest(status=status, box=box):
                    expected = self.expected(self.agent, statuses, box, "newest", overdue=True)
                    pages = self.pages({"status": status, "overdue": "1", "bbox": box and bbox(box)}, self.agent)
                    self.assertEqual(pages, [expected[i:i + 4] for i in range(0, max(len(expected), 1), 4)])
                    if status in ("", "all") and box is None:
                        self.assertTrue(expected)  # the data has overdue reports to find

    def test_the_map_of_open_reports_shows_the_reports_asked_for_newest_first(self):
        for status, statuses in (("", set(Report.OPEN_STATUSES)), ("new", {"new"}), ("all", None)):
            with self.subTest(status=status):
                query = QueryDict(mutable=True)
                query.update({"bbox": bbox(SPARSE), **({"status": status} if status else {})})
                features, _truncated = staff.map_features(query, self.agent, "vi")
                self.assertEqual(feature_ids(features), self.expected(self.agent, statuses, SPARSE, "newest"))
                self.assertTrue(features)


class OpenReportsIndex(TestCase):
    def test_covers_every_open_status_and_nothing_else(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                           "WHERE i.indexrelid = 'report_open_location'::regclass")
            predicate = cursor.fetchone()[0]
        named = {status for status in Report.Status.values if f"'{status}'" in predicate}
        self.assertEqual(named, set(Report.OPEN_STATUSES))


class WindowsStopAtTheOldestReport(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        now = timezone.now()
        for i, age in enumerate((0.5, 3, 9)):
            lon, lat = at(SPARSE, i)
            report = submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False)
            Report.objects.filter(pk=report.pk).update(created_at=now - age * DAY)

    def test_a_window_reaching_back_past_the_oldest_report_is_the_last_and_unbounded(self):
        with CaptureQueriesContext(connection) as queries:
            page = public_reads.report_page(QueryDict(f"bbox={bbox(SPARSE)}"), "vi")
        self.assertEqual(len(page.features), 3)
        self.assertEqual([("created_at >= " in q["sql"], "min(created_at)" in q["sql"]) for q in queries],
                         [(True, False), (False, True), (False, False)])


CELL_BOX = (105.740, 10.040, 105.745, 10.045)  # edges on cell boundaries (0.005°)


class WindowsReadByCells(TestCase):
    """A small box's windows also name its cells (report_cell_created, migration 0028): the
    reports on its very edges and corners are still listed exactly as `&&` lists them."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        now = timezone.now()
        minx, miny, maxx, maxy = CELL_BOX
        points = [(minx, miny), (maxx, maxy), (minx, maxy), (maxx, miny), (minx, (miny + maxy) / 2),
                  ((minx + maxx) / 2, maxy), (minx - 1e-6, miny), (maxx + 1e-6, maxy), (minx - 1e-3, miny),
                  (maxx, maxy + 1e-3), ((minx + maxx) / 2, (miny + maxy) / 2)]
        for i, (lon, lat) in enumerate(points):
            report = submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False)
            Report.objects.filter(pk=report.pk).update(public_location=f"SRID=4326;POINT({lon!r} {lat!r})",
                                                       created_at=now - (i + 0.5) * 40 * DAY)

    def test_reports_on_the_edges_of_a_box_along_cell_boundaries_are_listed_like_the_single_query(self):
        expected = list(Report.objects.filter(public_location__bboverlaps=Polygon.from_bbox(CELL_BOX)).order_by(
            "-created_at", "-id").values_list("public_id", flat=True))
        self.assertGreaterEqual(len(expected), 7)  # the corners and edges, at least
        for limit in (1, 2, 500):
            with self.subTest(limit=limit), CaptureQueriesContext(connection) as queries:
                query = QueryDict(mutable=True)
                query.update({"bbox": bbox(CELL_BOX), "limit": str(limit)})
                page = public_reads.report_page(query, "vi")
                self.assertEqual(feature_ids(page.features), expected[:limit])
                self.assertIn("citypin_cell(", queries[0]["sql"])

    def test_the_cells_of_a_box_hold_the_cell_the_database_gives_each_point_in_it(self):
        points = [(105.745, 10.04), (-0.0001, -0.0001), (179.9999, 89.9999), (-180, -90), (0.005, 0.01),
                  (105.7051234, 9.99999)]
        with connection.cursor() as cursor:
            for lon, lat in points:
                cursor.execute("SELECT citypin_cell(ST_MakePoint(%s, %s))", [lon, lat])
                with self.subTest(lon=lon, lat=lat):
                    self.assertIn(cursor.fetchone()[0], public_reads.box_cells((lon, lat, lon, lat)))

    def test_a_box_of_more_cells_than_the_most_is_read_without_them(self):
        self.assertIsNone(public_reads.box_cells((105.0, 10.0, 105.2, 10.2)))
        with CaptureQueriesContext(connection) as queries:
            public_reads.report_page(QueryDict("bbox=105.0,10.0,105.2,10.2"), "vi")
        self.assertNotIn("citypin_cell(", queries[0]["sql"])

    def test_a_window_query_names_its_cells_as_the_cell_index_does(self):
        # On so few rows the planner may take any index: every other one that could serve the
        # window (not backing a constraint) is dropped, rolled back with the test.
        with CaptureQueriesContext(connection) as queries:
            public_reads.report_page(QueryDict(f"bbox={bbox(CELL_BOX)}&limit=1"), "vi")
        with connection.cursor() as cursor:
            cursor.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                           "WHERE i.indrelid = 'incidents_report'::regclass AND c.relname <> 'report_cell_created' "
                           "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + queries[0]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        self.assertIn("report_cell_created", plan)
