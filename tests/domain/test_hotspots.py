"""Hotspots on a constructed cluster plus noise (tests/world.py), full and incremental."""

from datetime import timedelta

import psycopg2
import pytest
from django.contrib.gis.geos import Point
from django.test import TestCase, override_settings
from django.utils import timezone

from incidents import hotspots as hotspot_module
from incidents.hotspots import helper_sessions, refresh_hotspots
from incidents.intake import ReportDraft, submit_report
from incidents.models import Hotspot, HotspotRun, Report
from incidents.workflow import transition_report
from tests.world import build_world, project

CLUSTER = (105.73, 10.06)  # ward A, north of the road


def pothole_near(centre, metres, azimuth):
    lon, lat = project(*centre, metres, azimuth)
    return submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"}),
                         notify=False)


class HotspotTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.cluster = [pothole_near(CLUSTER, 10 + 12 * i, 45 * i) for i in range(8)]  # within ~100 m
        cls.noise = [pothole_near((105.705 + 0.01 * i, 10.005), 0, 0) for i in range(5)]  # ~1 km apart
        transition_report(cls.cluster[0].pk, "resolved", message="Đã vá")

    def test_one_hotspot_for_the_cluster_and_none_for_the_noise(self):
        result = refresh_hotspots(full=True, categories=[self.pothole])
        self.assertEqual(result.full, ["pothole"])
        hotspot = Hotspot.objects.get()
        self.assertEqual((hotspot.report_count, hotspot.open_count), (8, 7))
        self.assertAlmostEqual(hotspot.open_share, 7 / 8)
        for report in self.cluster:
            self.assertTrue(hotspot.footprint.covers(report.location))
        for report in self.noise:
            self.assertFalse(hotspot.footprint.covers(report.location))

    def test_trend_compares_with_the_previous_window(self):
        Report.objects.filter(pk__in=[r.pk for r in self.cluster[:2]]).update(
            created_at=timezone.now() - timedelta(days=40))  # two now fall in the previous window
        pothole_near(CLUSTER, 5, 0)
        refresh_hotspots(full=True, categories=[self.pothole])
        hotspot = Hotspot.objects.get()
        self.assertEqual((hotspot.report_count, hotspot.previous_count), (7, 2))
        self.assertAlmostEqual(hotspot.trend, 2.5)

    def test_incremental_refresh_only_touches_the_new_place(self):
        refresh_hotspots(full=True, categories=[self.pothole])
        first = Hotspot.objects.get()
        second_place = (105.77, 10.03)  # ward B, 4 km away
        for i in range(5):
            pothole_near(second_place, 8 * i, 72 * i)
        result = refresh_hotspots(categories=[self.pothole])
        self.assertEqual((result.full, result.incremental), ([], ["pothole"]))
        self.assertEqual(Hotspot.objects.count(), 2)
        self.assertTrue(Hotspot.objects.filter(pk=first.pk).exists())  # untouched, same row
        self.assertEqual(Hotspot.objects.exclude(pk=first.pk).get().report_count, 5)

    def test_incremental_refresh_finds_a_new_cluster_across_bucket_edges(self):
        # lon 105.76 and lat 10.04 are edges of the 0.01° cells the seed check looks reports up
        # in: the five reports around that corner lie in four different cells.
        refresh_hotspots(full=True, categories=[self.pothole])
        corner = (105.76, 10.04)
        for i in range(5):
            pothole_near(corner, 15, 45 + 90 * i)
        refresh_hotspots(categories=[self.pothole])
        self.assertEqual(Hotspot.objects.count(), 2)
        self.assertEqual(Hotspot.objects.order_by("-id").first().report_count, 5)

    def test_incremental_refresh_grows_a_touched_hotspot(self):
        refresh_hotspots(full=True, categories=[self.pothole])
        first = Hotspot.objects.get()
        pothole_near(CLUSTER, 20, 200)
        refresh_hotspots(categories=[self.pothole])
        hotspot = Hotspot.objects.get()
        self.assertEqual((hotspot.pk, hotspot.report_count), (first.pk, 9))
        self.assertTrue(hotspot.footprint.covers(Report.objects.latest("id").location))

    def test_incremental_refresh_pads_the_footprint_only_where_a_report_reaches_past_it(self):
        refresh_hotspots(full=True, categories=[self.pothole])
        first = Hotspot.objects.get()
        pothole_near(CLUSTER, 5, 90)  # its 75 m pad (eps/2) lies in the footprint already
        refresh_hotspots(categories=[self.pothole])
        inside = Hotspot.objects.get()
        self.assertEqual(inside.report_count, 9)
        self.assertTrue(inside.footprint.equals_exact(first.footprint, 1e-12))
        self.assertTrue(inside.centroid.equals_exact(first.centroid, 1e-12))
        pothole_near(CLUSTER, 200, 90)  # ~90 m east of the footprint, within eps (150 m)
        refresh_hotspots(categories=[self.pothole])
        grown = Hotspot.objects.get()
        self.assertEqual(grown.report_count, 10)
        self.assertTrue(grown.footprint.covers(first.footprint))
        self.assertTrue(grown.footprint.covers(Point(*project(*CLUSTER, 260, 90), srid=4326)))  # 60 m past it
        self.assertFalse(grown.footprint.covers(Point(*project(*CLUSTER, 290, 90), srid=4326)))  # 90 m past it

    def test_nothing_new_means_nothing_recomputed(self):
        refresh_hotspots(full=True, categories=[self.pothole])
        result = refresh_hotspots(categories=[self.pothole])
        self.assertEqual((result.full, result.incremental), ([], []))
        self.assertEqual(HotspotRun.objects.get().category, self.pothole)

    def test_hotspots_api_is_geojson(self):
        refresh_hotspots(full=True, categories=[self.pothole])
        data = self.client.get("/api/v1/hotspots/", {"category": "pothole"}).json()
        self.assertEqual(len(data["features"]), 1)
        props = data["features"][0]["properties"]
        self.assertEqual((props["report_count"], props["open_count"]), (8, 7))
        self.assertEqual(data["features"][0]["geometry"]["type"], "Polygon")
        self.assertEqual(self.client.get("/api/v1/hotspots/", {"bbox": "1,2"}).status_code, 400)

    def test_command_prints_a_summary(self):
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("refresh_hotspots", "--full", stdout=out)
        self.assertIn("hotspots: 1 after", out.getvalue())


class SensitiveHotspotTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        from incidents.models import Category

        Category.objects.filter(code="encroachment").update(public_location_precision_m=100)
        cls.reports = []
        for i in range(6):
            lon, lat = project(105.7234567, 10.0234567, 3 * i, 60 * i)
            cls.reports.append(submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False))

    def test_hotspot_of_a_sensitive_category_is_drawn_from_public_points(self):
        refresh_hotspots(full=True, categories=[self.encroachment])
        hotspot = Hotspot.objects.get()
        snapped = {(round(r.public_location.x, 7), round(r.public_location.y, 7)) for r in
                   Report.objects.filter(category=self.encroachment)}
        self.assertEqual(len(snapped), 1)  # all six snap to one grid point, 100 m apart from the next
        (x, y), = snapped
        self.assertAlmostEqual(hotspot.centroid.x, x, places=6)
        self.assertAlmostEqual(hotspot.centroid.y, y, places=6)


def test_padding_is_in_metres_at_any_latitude(db):
    """citypin_pad grows a shape by metres on the ellipsoid: the vertices of a point padded by
    75 m lie 75 m from it (a 16-gon), near the equator, in Cần Thơ and far north."""
    from django.db import connection

    with connection.cursor() as cursor:
        for lat in (0.5, 10.03, 60.0):
            cursor.execute("""
                SELECT min(ST_Distance(v.geom::geography, p::geography)), max(ST_Distance(v.geom::geography, p::geography))
                FROM (SELECT ST_SetSRID(ST_MakePoint(105.7, %s), 4326) AS p) pt,
                     ST_DumpPoints(citypin_pad(pt.p, 75, %s)) v""", [lat, lat])
            shortest, longest = cursor.fetchone()
            assert 74.9 < shortest <= longest < 75.1, (lat, shortest, longest)


@pytest.mark.django_db(transaction=True)
def test_refreshes_shared_among_sessions_find_what_one_session_finds(monkeypatch):
    """Committed reports in two categories: a full refresh on two database sessions (reading the
    refreshing transaction's snapshot) finds exactly what one session finds; an incremental one
    checks its seeds on two sessions; a failing session fails the refresh, which changes nothing."""
    class Place:
        pass

    build_world(Place)
    for i in range(8):
        pothole_near(CLUSTER, 10 + 12 * i, 45 * i)
    for i in range(6):
        lon, lat = project(105.77, 10.03, 8 * i, 60 * i)
        submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False)
    Report.objects.filter(pk=Report.objects.order_by("id").first().pk).update(
        created_at=timezone.now() - timedelta(days=40))  # one in the previous window: a trend to count

    def hotspots():
        return sorted((h.category.code, h.report_count, h.open_count, h.previous_count, h.footprint.wkt,
                       round(h.centroid.x, 9), round(h.centroid.y, 9)) for h in Hotspot.objects.all())

    with override_settings(CITYPIN_HOTSPOT_SESSIONS=2):
        shared = refresh_hotspots(full=True, now=timezone.now())
        found_shared = hotspots()
        again = refresh_hotspots(full=True, now=timezone.now())  # on the sessions kept from the first
        helper_sessions.close()  # (the test database can be dropped at the end)
        assert (again.sessions, hotspots()) == (2, found_shared)
    with override_settings(CITYPIN_HOTSPOT_SESSIONS=1):
        alone = refresh_hotspots(full=True, now=timezone.now())
        found_alone = hotspots()
    assert (shared.sessions, alone.sessions) == (2, 1)
    assert [h[:4] for h in found_shared] == [("encroachment", 6, 6, 0), ("pothole", 7, 7, 1)]
    assert found_shared == found_alone

    # New reports, committed: a new cluster, whose seeds the two sessions check between them.
    for i in range(5):
        pothole_near((105.715, 10.08), 8 * i, 72 * i)
    with override_settings(CITYPIN_HOTSPOT_SESSIONS=2):
        around = refresh_hotspots(now=timezone.now())
        helper_sessions.close()  # (the test database can be dropped at the end)
    assert (around.incremental, around.sessions) == (["pothole"], 2)
    assert [h[:4] for h in hotspots()] == [("encroachment", 6, 6, 0), ("pothole", 5, 5, 0), ("pothole", 7, 7, 1)]

    # A session that fails fails the refresh, which then changes nothing.
    before = hotspots()

    def broken(cursor, category_id, params):
        cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(hotspot_module, "_category_clusters", broken)
    with override_settings(CITYPIN_HOTSPOT_SESSIONS=2), pytest.raises(psycopg2.errors.DivisionByZero):
        refresh_hotspots(full=True, now=timezone.now())
    assert hotspots() == before
    kept = [session for _, _, session in helper_sessions._idle]  # a failed one (in an aborted transaction) is not
    assert all(session.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE for session in kept)
    helper_sessions.close()


class RefreshInsideATransactionTests(TestCase):
    def test_a_transaction_that_has_written_keeps_the_work_to_itself(self):
        """Other sessions cannot see uncommitted reports, so none is asked to help."""
        build_world(self)
        for i in range(6):
            pothole_near(CLUSTER, 10 + 12 * i, 60 * i)
        with override_settings(CITYPIN_HOTSPOT_SESSIONS=2):
            result = refresh_hotspots(full=True)
        self.assertEqual((result.sessions, Hotspot.objects.get().report_count), (1, 6))


def test_a_kept_session_that_the_server_closed_is_replaced(db):
    from django.db import connection

    params = connection.get_connection_params()
    session = helper_sessions.take(params)
    helper_sessions.give_back(params, session)
    with connection.cursor() as cursor:  # as a server restart would
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [session.get_backend_pid()])
    fresh = helper_sessions.take(params)
    try:
        assert fresh is not session and session.closed
        with fresh.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        fresh.close()
