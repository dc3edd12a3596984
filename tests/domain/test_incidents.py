"""Incidents on hand-placed points (tests/world.py): which reports become one incident, how
scores treat text, recurrence, and the staff services merge, split and status."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.access import StaffScope
from incidents.console.dashboard import figures
from incidents.incident_ops import merge_incidents, set_incident_status, split_report_from_incident
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.matching import Placement, candidates, incident_for, refresh_incident
from incidents.models import Category, Incident, OutboxMessage, Report, ReportEvent, StaffMembership
from incidents.workflow import support_report, transition_report
from tests.world import build_world, project

ORIGIN = (105.72, 10.02)  # in ward A; pothole duplicate radius 50 m (the default)


def report_at(metres_east=0.0, category="pothole", description="", email="", **extra):
    lon, lat = project(*ORIGIN, metres_east, 90)
    attributes = {"size": "small"} if category == "pothole" else {}
    return submit_report(ReportDraft(category_code=category, lon=lon, lat=lat, attributes=attributes,
                                     description=description, reporter=Reporter(email=email), **extra))


class IntakeGroupingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_two_reports_40_m_apart_with_radius_50_are_one_incident(self):
        first, second = report_at(0), report_at(40)
        self.assertEqual(first.incident_id, second.incident_id)
        self.assertIsNotNone(second.incident_score)
        incident = Incident.objects.get(pk=first.incident_id)
        self.assertEqual(incident.report_count, 2)
        self.assertEqual(incident.footprint.geom_type, "LineString")  # hull of two points

    def test_a_new_incident_is_made_whole_with_its_first_report_as_a_refresh_would_make_it(self):
        derived = ("location", "public_location", "footprint", "report_count", "supporter_count",
                   "first_reported_at", "last_reported_at")
        Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100)
        for category, description in (("pothole", "exact points"), ("illegal-construction", "snapped points")):
            with self.subTest(description):
                lon, lat = project(*ORIGIN, 3000 if category == "pothole" else 3500, 0)
                reporter = Reporter(name="A", email="a@example.vn")
                attributes = {"size": "small"} if category == "pothole" else {}
                report = submit_report(ReportDraft(category_code=category, lon=lon, lat=lat, attributes=attributes,
                                                   reporter=reporter))
                made = Incident.objects.get(pk=report.incident_id)
                refresh_incident(made.pk)
                refreshed = Incident.objects.get(pk=made.pk)
                self.assertEqual({f: getattr(made, f) for f in derived}, {f: getattr(refreshed, f) for f in derived})
                self.assertEqual(made.report_count, 1)
                self.assertIsNotNone(made.public_location)

    def joined_how(self, submit) -> tuple[object, list[str]]:
        """The report `submit()` makes, and the statements that moved its incident: "join" (one
        step, which may find it cannot) and "refresh" (every report read)."""
        with CaptureQueriesContext(connection) as queries:
            report = submit()
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        return report, [how for how in ("join", "refresh") if f"EXECUTE citypin_{how}_incident " in sql]

    def assert_as_refreshed(self, incident_id: int) -> None:
        """The incident as intake left it is what refresh_incident makes of all its reports: the
        same counts and times, the same hull, and its mean within rounding (1e-9 degrees)."""
        joined = Incident.objects.get(pk=incident_id)
        refresh_incident(incident_id)
        full = Incident.objects.get(pk=incident_id)
        fields = ("report_count", "supporter_count", "first_reported_at", "last_reported_at")
        self.assertEqual({f: getattr(joined, f) for f in fields}, {f: getattr(full, f) for f in fields})
        self.assertTrue(joined.footprint.equals(full.footprint), (joined.footprint.wkt, full.footprint.wkt))
        for name in ("location", "public_location"):
            self.assertAlmostEqual(getattr(joined, name).x, getattr(full, name).x, delta=1e-9)
            self.assertAlmostEqual(getattr(joined, name).y, getattr(full, name).y, delta=1e-9)

    def test_a_report_joining_an_incident_moves_it_as_refreshing_all_its_reports_would(self):
        """Joining is one step (the mean moves by one point, the hull takes it in), not a read of
        every report of the incident, which grew with it: the result is the same."""
        located = []
        for metres, bearing in ((0, 0), (20, 0), (20, 90), (15, 180), (20, 270), (30, 45)):
            lon, lat = project(*ORIGIN, metres, bearing)
            report, how = self.joined_how(lambda: submit_report(ReportDraft(
                category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"})))
            located.append(report)
            self.assertEqual(how, ["join"] if len(located) > 1 else [])  # the first made its incident whole
        self.assertEqual(len({r.incident_id for r in located}), 1)
        self.assertEqual(Incident.objects.get(pk=located[0].incident_id).footprint.geom_type, "Polygon")
        self.assert_as_refreshed(located[0].incident_id)

    def test_a_report_joining_an_incident_of_snapped_points_moves_it_as_refreshing_would(self):
        Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100)
        joined = []
        for lon, lat in (project(*ORIGIN, 2000, 0), project(*ORIGIN, 2010, 0), project(*ORIGIN, 2020, 0)):
            report, how = self.joined_how(lambda: submit_report(ReportDraft(
                category_code="illegal-construction", lon=lon, lat=lat, reporter=Reporter(name="A", email="a@example.vn"))))
            joined.append(report)
            self.assertEqual(how, ["refresh"])
        self.assertEqual(len({r.incident_id for r in joined}), 1)
        self.assert_as_refreshed(joined[0].incident_id)

    def test_an_exact_report_joining_an_incident_of_snapped_points_refreshes_it(self):
        """Its public point is snapped from its reports' (group matching mixes categories): no mean
        of points says where that lands."""
        Category.objects.filter(code__in=["encroachment", "illegal-construction"]).update(match_group=True)
        Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100)
        lon, lat = project(*ORIGIN, 2000, 0)
        first = submit_report(ReportDraft(category_code="illegal-construction", lon=lon, lat=lat,
                                          reporter=Reporter(name="A", email="a@example.vn")))
        joining, how = self.joined_how(lambda: submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat)))
        self.assertEqual((joining.incident_id, how), (first.incident_id, ["join", "refresh"]))
        self.assert_as_refreshed(first.incident_id)

    def test_an_incident_holding_an_unlocated_report_is_refreshed_whole_when_a_report_joins(self):
        """Its report count is not its number of points: the one-step mean would weigh them wrong."""
        first = report_at(0)
        unlocated = submit_report(ReportDraft(category_code="pothole", lon=None, lat=None, ward_code="A",
                                              address="Hẻm 12", attributes={"size": "small"}))
        merge_incidents(first.incident_id, [unlocated.incident_id])
        joining, how = self.joined_how(lambda: report_at(30))
        self.assertEqual(how, ["join", "refresh"])  # the one step found the unlocated report, and did nothing
        self.assertEqual(joining.incident_id, first.incident_id)
        self.assertEqual(Incident.objects.get(pk=first.incident_id).report_count, 3)
        self.assert_as_refreshed(first.incident_id)

    def test_a_supporter_counts_on_the_incident_at_once_and_after_more_reports_join(self):
        first = report_at(0)
        support_report(first, email="fan@example.vn")
        self.assertEqual(Incident.objects.get(pk=first.incident_id).supporter_count, 1)
        report_at(20)  # joins by one step
        self.assertEqual(Incident.objects.get(pk=first.incident_id).supporter_count, 1)
        self.assert_as_refreshed(first.incident_id)

    def test_two_reports_60_m_apart_are_two_incidents(self):
        self.assertNotEqual(report_at(0).incident_id, report_at(60).incident_id)

    def test_same_place_different_categories_are_two_incidents(self):
        self.assertNotEqual(report_at(0).incident_id, report_at(0, category="encroachment").incident_id)

    def test_report_outside_the_time_window_starts_a_new_incident(self):
        first = report_at(0)
        Incident.objects.filter(pk=first.incident_id).update(last_reported_at=timezone.now() - timedelta(days=31))
        self.assertNotEqual(first.incident_id, report_at(10).incident_id)

    def test_closed_incident_takes_no_new_reports(self):
        first = report_at(0)
        set_incident_status(first.incident_id, "resolved", message="Đã vá")
        self.assertNotEqual(first.incident_id, report_at(5).incident_id)

    def test_a_report_scored_against_a_merged_or_closed_incident_follows_the_merge_or_starts_anew(self):
        """Matching scores without a lock; the incident may be merged or closed before it is locked."""
        merged, target = report_at(0), report_at(500)
        merge_incidents(target.incident_id, [merged.incident_id])
        closed = report_at(1000)
        set_incident_status(closed.incident_id, "resolved", message="Đã vá")

        def joined(incident_id: int) -> int:
            return incident_for(Placement(attach_to=incident_id), category_id=merged.category_id,
                                department_id=merged.department_id, location=merged.location, text="",
                                now=timezone.now())

        self.assertEqual(joined(merged.incident_id), target.incident_id)
        fresh = joined(closed.incident_id)
        self.assertNotIn(fresh, (closed.incident_id, merged.incident_id, target.incident_id))
        with self.assertRaises(Incident.DoesNotExist):
            joined(10**9)

    def test_vietnamese_with_and_without_diacritics_scores_as_similar(self):
        report_at(0, description="Ngập nước sâu trên đường Trần Hưng Đạo")
        lon, lat = project(*ORIGIN, 30, 90)
        same = candidates(self.pothole, lon, lat, "ngap nuoc sau tren duong tran hung dao")[0]
        other = candidates(self.pothole, lon, lat, "cây đổ chắn lối vào chợ")[0]
        self.assertGreater(same.score, other.score + 0.25)  # text weighs 0.3; identical once unaccented

    def test_dissimilar_text_far_in_the_radius_is_only_a_candidate(self):
        first = report_at(0, description="Ổ gà rất lớn giữa đường")
        far_and_different = report_at(45, description="vạch kẻ đường bị mờ")
        self.assertNotEqual(first.incident_id, far_and_different.incident_id)
        self.assertLess(far_and_different.incident_score, self.pothole.duplicate_threshold)

    def test_suggest_only_category_keeps_the_report_apart_and_suggests_the_incident(self):
        Category.objects.filter(pk=self.pothole.pk).update(duplicate_action="suggest")
        first, second = report_at(0), report_at(10)
        self.assertNotEqual(first.incident_id, second.incident_id)
        self.assertEqual(second.suggested_incident_id, first.incident_id)

    def test_group_matching_when_the_category_allows_it(self):
        Category.objects.filter(code="illegal-construction").update(match_group=True)
        first = report_at(0, category="encroachment")
        second = submit_report(ReportDraft(category_code="illegal-construction", lon=first.location.x,
                                           lat=first.location.y, reporter=Reporter(name="A", email="a@example.vn")))
        self.assertEqual(first.incident_id, second.incident_id)

    def test_recurrence_after_a_resolved_incident_is_flagged(self):
        first = report_at(0)
        set_incident_status(first.incident_id, "resolved", message="Đã vá xong")
        again = report_at(20)
        self.assertEqual(again.recurrence_of_id, first.incident_id)
        self.assertNotEqual(again.incident_id, first.incident_id)

    def test_the_dashboard_counts_a_recurrence_for_its_department(self):
        first = report_at(0)
        set_incident_status(first.incident_id, "resolved", message="Đã vá xong")
        report_at(20)
        operations_center = StaffScope(0, {}, StaffMembership.Role.MANAGER)
        rows = {row["code"]: row for row in figures(operations_center, "department").rows}
        self.assertEqual(rows["construction"]["recurrence_rate"], 0.5)  # one of its two reports repeats a fixed one

    def test_recurrence_window_is_per_category(self):
        first = report_at(0)
        set_incident_status(first.incident_id, "resolved", message="Đã vá xong")
        Incident.objects.filter(pk=first.incident_id).update(resolved_at=timezone.now() - timedelta(days=91))
        self.assertIsNone(report_at(20).recurrence_of_id)

    def test_recurrence_is_of_the_new_report_s_category(self):
        other = report_at(0, category="encroachment")
        set_incident_status(other.incident_id, "resolved", message="Đã xử lý")
        self.assertIsNone(report_at(20).recurrence_of_id)

    def test_recurrence_names_the_incident_resolved_last(self):
        first = report_at(0)
        set_incident_status(first.incident_id, "resolved", message="Đã vá xong")
        Incident.objects.filter(pk=first.incident_id).update(resolved_at=timezone.now() - timedelta(days=10))
        second = report_at(10)
        self.assertEqual(second.recurrence_of_id, first.incident_id)
        set_incident_status(second.incident_id, "resolved", message="Đã vá lại")
        self.assertEqual(report_at(20).recurrence_of_id, second.incident_id)

    def test_a_closed_incident_is_done_for_recurrence(self):
        first = report_at(0)
        set_incident_status(first.incident_id, "resolved", message="Đã vá xong")
        Incident.objects.filter(pk=first.incident_id).update(status="closed")
        self.assertEqual(report_at(20).recurrence_of_id, first.incident_id)

    def generic_plan(self, query, params: dict) -> str:
        """The plan the prepared statement runs with (a generic plan, as PostgreSQL settles on
        after five executions), over a city's worth of incidents: 2,000 open ones reported this
        week and 2,000 resolved, spread over 10 km, the table analysed. On the few rows of a test
        world the planner's choice between two cheap indexes is a coin toss."""
        from django.contrib.gis.geos import Point
        from django.db import connection

        now = timezone.now()
        Incident.objects.bulk_create([
            Incident(category=self.pothole, department=self.construction, location=Point(
                105.70 + (i * 37 % 1000) / 10000, 10.00 + (i * 53 % 1000) / 10000, srid=4326),
                status="new" if i % 2 else "resolved", resolved_at=None if i % 2 else now,
                last_reported_at=now - timedelta(hours=i % 100)) for i in range(4000)])
        name = f"test_{query.name}"
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_incident")
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(query.prepare_sql.replace(f"PREPARE {query.name} ", f"PREPARE {name} ", 1))
            try:
                cursor.execute(query.execute_sql.replace(f"EXECUTE {query.name} ", f"EXPLAIN EXECUTE {name} ", 1),
                               [params[p] for p in query.order])
                return "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute(f"DEALLOCATE {name}")

    def test_candidate_query_uses_the_index_of_open_incidents(self):
        from incidents.matching import CANDIDATES

        plan = self.generic_plan(CANDIDATES, {
            "lon": ORIGIN[0], "lat": ORIGIN[1], "text": "", "radius_m": 50, "window_days": 30, "now": timezone.now(),
            "category_ids": [self.pothole.pk], "open_statuses": list(Report.OPEN_STATUSES)})
        self.assertIn("incident_open_recent_geog", plan, plan)

    def test_recurrence_query_uses_the_index_of_done_incidents(self):
        from incidents.matching import RECURRENCE

        plan = self.generic_plan(RECURRENCE, {
            "category_id": self.pothole.pk, "now": timezone.now(), "recurrence_days": 90, "lon": ORIGIN[0],
            "lat": ORIGIN[1], "radius_m": 50})
        self.assertIn("incident_done_recent_geog", plan, plan)

    def test_recurrence_query_names_every_done_status_for_its_index(self):
        from incidents.matching import DONE_STATUSES, RECURRENCE_SQL

        for status in DONE_STATUSES:
            self.assertIn(f"'{status}'", RECURRENCE_SQL)

    def test_candidate_query_names_every_open_status_for_its_index(self):
        from incidents.matching import CANDIDATES_SQL

        for status in Report.OPEN_STATUSES:
            self.assertIn(f"'{status}'", CANDIDATES_SQL.split("near AS")[0])


class StaffIncidentTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def setUp(self):
        self.a1 = report_at(0, email="a1@example.vn")
        self.a2 = report_at(20, email="a2@example.vn")
        self.b = report_at(200, email="b@example.vn")
        support_report(self.b, email="fan@example.vn")
        OutboxMessage.objects.all().delete()

    def test_merge_keeps_every_report_and_subscriber(self):
        target = merge_incidents(self.a1.incident_id, [self.b.incident_id])
        self.assertEqual(target.report_count, 3)
        self.assertEqual(target.supporter_count, 1)
        self.assertEqual(set(Report.objects.values_list("incident_id", flat=True)), {target.pk})
        old = Incident.objects.get(pk=self.b.incident_id)
        self.assertEqual((old.merged_into_id, old.status, old.report_count), (target.pk, "duplicate", 0))
        self.assertTrue(ReportEvent.objects.filter(report=self.b, kind="merged").exists())
        set_incident_status(target.pk, "resolved", message="Đã xử lý cả khu vực")
        recipients = set(OutboxMessage.objects.values_list("recipient", flat=True))
        self.assertEqual(recipients, {"a1@example.vn", "a2@example.vn", "b@example.vn", "fan@example.vn"})

    def test_split_moves_one_report_out_and_keeps_the_rest(self):
        new = split_report_from_incident(self.a2.pk)
        self.a1.refresh_from_db(); self.a2.refresh_from_db()
        self.assertEqual(self.a2.incident_id, new.pk)
        self.assertEqual(Incident.objects.get(pk=self.a1.incident_id).report_count, 1)
        self.assertEqual(new.report_count, 1)
        self.assertTrue(ReportEvent.objects.filter(report=self.a2, kind="split").exists())

    def test_splitting_a_lonely_report_is_refused(self):
        with self.assertRaises(ValidationError):
            split_report_from_incident(self.b.pk)

    def test_incident_status_moves_every_report_with_one_public_event_each_and_tells_each_reporter(self):
        change = set_incident_status(self.a1.incident_id, "resolved", message="Đã vá xong")
        self.assertEqual(sorted(change.changed), sorted([self.a1.public_id, self.a2.public_id]))
        for report in (self.a1, self.a2):
            report.refresh_from_db()
            self.assertEqual(report.status, "resolved")
            self.assertEqual(report.events.filter(kind="status_changed", is_public=True).count(), 1)
        self.assertEqual(set(OutboxMessage.objects.values_list("recipient", flat=True)),
                         {"a1@example.vn", "a2@example.vn"})
        self.assertIn("Đã vá xong", OutboxMessage.objects.first().body)

    def test_resolving_an_incident_needs_a_public_message(self):
        with self.assertRaises(ValidationError):
            set_incident_status(self.a1.incident_id, "resolved", message="")
        self.a1.refresh_from_db()
        self.assertEqual(self.a1.status, "new")

    def test_reopening_one_report_reopens_its_incident(self):
        set_incident_status(self.a1.incident_id, "resolved", message="Đã vá xong")
        transition_report(self.a2.pk, "reopened", message="Vẫn còn")
        self.assertEqual(Incident.objects.get(pk=self.a1.incident_id).status, "reopened")


class IncidentApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.first, cls.second = report_at(0), report_at(30)
        Category.objects.filter(code="illegal-construction").update(public_location_precision_m=100)
        cls.hidden = submit_report(ReportDraft(category_code="illegal-construction", lon=105.7234567, lat=10.0234567,
                                               reporter=Reporter(name="Người báo", phone="0912345678")))

    def test_list_is_geojson_with_counts_and_report_ids(self):
        data = self.client.get("/api/v1/incidents/", {"category": "pothole"}).json()
        self.assertEqual(len(data["features"]), 1)
        props = data["features"][0]["properties"]
        self.assertEqual((props["report_count"], props["reports"]), (2, [self.first.public_id, self.second.public_id]))

    def test_detail_and_404(self):
        response = self.client.get(f"/api/v1/incidents/{self.first.incident_id}/")
        self.assertEqual(response.json()["properties"]["category"]["code"], "pothole")
        self.assertEqual(self.client.get("/api/v1/incidents/999999/").status_code, 404)

    def test_filters_are_checked(self):
        self.assertEqual(self.client.get("/api/v1/incidents/", {"bbox": "x"}).status_code, 400)
        self.assertEqual(self.client.get("/api/v1/incidents/", {"status": "bogus"}).status_code, 400)

    def test_report_feature_names_its_incident(self):
        feature = self.client.get(f"/api/v1/reports/{self.second.public_id}/").json()
        self.assertEqual(feature["properties"]["incident"], self.first.incident_id)

    def test_no_contact_data_and_sensitive_footprint_withheld(self):
        text = self.client.get("/api/v1/incidents/").content.decode()
        self.assertNotIn("Người báo", text)
        self.assertNotIn("0912345678", text)
        hidden = self.client.get(f"/api/v1/incidents/{self.hidden.incident_id}/").json()
        self.assertIsNone(hidden["properties"]["footprint"])
