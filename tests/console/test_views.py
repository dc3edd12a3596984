"""The staff console over real HTTP (Django's test client) on the hand-placed world: who sees
what (a persona × action matrix), the triage actions, conflicts, bulk actions, targets and
escalation, saved views, search, exports and the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.escalation import escalate_overdue
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import OutboxMessage, Report, ReportEvent, ResponseTemplate, SavedView, StaffMembership
from incidents.photos import clean_photos
from incidents.workflow import transition_report
from tests.images import jpeg_bytes
from tests.world import build_world, project

User = get_user_model()
ORIGIN = (105.72, 10.02)  # ward A, far from the road: potholes here go to Construction
NEAR_ROAD = (105.72, 10.0502)  # potholes here go to the Road Authority


def pothole(at=ORIGIN, metres_east=0.0, description="Ổ gà lớn", email="dan@example.vn", photo=False, **extra):
    lon, lat = project(*at, metres_east, 90)
    photos = clean_photos([SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")]) if photo else []
    return submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                                     description=description, reporter=Reporter(name="Dân", email=email,
                                                                                phone="0901234567"),
                                     photos=photos, **extra))


def staff(username: str, department, role: str = "agent") -> User:
    user = User.objects.create_user(username, f"{username}@example.vn", "pw-" + username)
    if department is not None:
        StaffMembership.objects.create(user=user, department=department, role=role)
    return user


class ConsoleWorld(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.operator = staff("operator", cls.ioc, "manager")
        cls.ioc_viewer = staff("ioc-viewer", cls.ioc, "viewer")
        cls.agent = staff("agent", cls.construction)
        cls.colleague = staff("colleague", cls.construction)
        cls.manager = staff("manager", cls.construction, "manager")
        cls.viewer = staff("viewer", cls.construction, "viewer")
        cls.other_agent = staff("road-agent", cls.road_authority)
        cls.citizen = staff("citizen", None)
        cls.report = pothole(photo=True)
        cls.road_report = pothole(at=NEAR_ROAD, description="Ổ gà gần quốc lộ")

    def as_(self, user):
        self.client.force_login(user)
        return self.client

    def reload(self, report: Report) -> Report:
        return Report.objects.get(pk=report.pk)


class PermissionMatrixTests(ConsoleWorld):
    """Out of scope is 404 everywhere: the report, its API item, its photos, its contact data."""

    def urls(self, report):
        photo = report.photos.first()
        return {"detail": f"/console/r/{report.public_id}/", "api": f"/console/api/reports/{report.public_id}/",
                **({"photo": f"/photos/{photo.uuid}/", "thumbnail": f"/photos/{photo.uuid}/thumbnail/"} if photo else {})}

    def test_routing_placed_the_reports_where_the_matrix_expects(self):
        self.assertEqual(self.report.department, self.construction)
        self.assertEqual(self.road_report.department, self.road_authority)

    def test_agent_of_the_department_reaches_everything_with_contact_data(self):
        client = self.as_(self.agent)
        for name, url in self.urls(self.report).items():
            with self.subTest(name):
                self.assertEqual(client.get(url).status_code, 200)
        self.assertContains(client.get(f"/console/r/{self.report.public_id}/"), "0901234567")
        self.assertEqual(client.get(f"/console/api/reports/{self.report.public_id}/").json()["reporter"]["email"],
                         "dan@example.vn")

    def test_agent_of_another_department_gets_404_on_everything(self):
        client = self.as_(self.other_agent)
        for name, url in self.urls(self.report).items():
            with self.subTest(name):
                self.assertEqual(client.get(url).status_code, 404)
        for action in ("acknowledge", "status", "reply", "note", "assign", "reroute"):
            with self.subTest(action):
                response = client.post(f"/console/r/{self.report.public_id}/{action}/",
                                       {"version": 1, "message": "x", "note": "x", "reason": "x", "status": "resolved"})
                self.assertEqual(response.status_code, 404)
        self.assertEqual(self.reload(self.report).version, 1)
        self.assertFalse(self.report.events.filter(kind="note").exists())

    def test_other_department_does_not_see_the_report_in_list_map_or_export(self):
        client = self.as_(self.other_agent)
        self.assertNotContains(client.get("/console/"), self.report.public_id)
        self.assertNotIn(self.report.public_id, client.get("/console/points.geojson").content.decode())
        export = b"".join(client.get("/console/reports.csv").streaming_content).decode()
        self.assertNotIn(self.report.public_id, export)
        self.assertIn(self.road_report.public_id, export)

    def test_operations_center_sees_every_department(self):
        client = self.as_(self.operator)
        page = client.get("/console/")
        self.assertContains(page, self.report.public_id)
        self.assertContains(page, self.road_report.public_id)
        for url in self.urls(self.report).values():
            self.assertEqual(client.get(url).status_code, 200)

    def test_viewer_reads_but_cannot_act(self):
        client = self.as_(self.viewer)
        self.assertFalse(client.get(f"/console/r/{self.report.public_id}/").context["can_act"])
        response = client.post(f"/console/r/{self.report.public_id}/acknowledge/", {"version": 1})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.reload(self.report).status, "new")

    def test_operations_center_viewer_reads_everything_and_changes_nothing(self):
        client = self.as_(self.ioc_viewer)
        self.assertEqual(client.get(f"/console/r/{self.road_report.public_id}/").status_code, 200)
        self.assertEqual(client.post(f"/console/r/{self.road_report.public_id}/note/", {"note": "x"}).status_code, 403)

    def test_someone_without_a_department_is_refused_and_anonymous_must_sign_in(self):
        self.assertEqual(self.as_(self.citizen).get("/console/").status_code, 403)
        self.assertEqual(self.as_(self.citizen).get(f"/console/r/{self.report.public_id}/").status_code, 403)
        self.client.logout()
        response = self.client.get(f"/console/r/{self.report.public_id}/")
        self.assertRedirects(response, f"/console/login/?next=/console/r/{self.report.public_id}/",
                             fetch_redirect_response=False)
        self.assertEqual(self.client.get(f"/console/api/reports/{self.report.public_id}/").status_code, 302)

    def test_unapproved_photo_is_hidden_from_the_public_until_approved(self):
        photo = self.report.photos.get()
        self.client.logout()
        self.assertEqual(self.client.get(f"/photos/{photo.uuid}/").status_code, 404)
        self.as_(self.agent).post(f"/console/r/{self.report.public_id}/photos/{photo.uuid}/", {"public": "1"})
        self.client.logout()
        self.assertEqual(self.client.get(f"/photos/{photo.uuid}/").status_code, 200)
        self.assertTrue(self.report.events.filter(kind=ReportEvent.Kind.PHOTO_APPROVED).exists())

    def test_dashboard_is_for_the_operations_center_and_managers(self):
        self.assertEqual(self.as_(self.agent).get("/console/dashboard/").status_code, 404)
        self.assertEqual(self.as_(self.manager).get("/console/dashboard/").status_code, 200)
        self.assertEqual(self.as_(self.operator).get("/console/dashboard/").status_code, 200)

    def test_a_manager_sees_only_their_departments_figures(self):
        text = self.as_(self.manager).get("/console/dashboard.csv").content.decode("utf-8-sig")
        codes = [row["code"] for row in csv.DictReader(io.StringIO(text))]
        self.assertEqual(codes, ["construction"])


class ActionTests(ConsoleWorld):
    def post(self, user, action, report=None, **data):
        report = report or self.report
        data.setdefault("version", self.reload(report).version)
        return self.as_(user).post(f"/console/r/{report.public_id}/{action}/", data)

    def test_acknowledging_sets_status_and_time_and_writes_the_event(self):
        response = self.post(self.agent, "acknowledge")
        self.assertEqual(response.status_code, 302)
        report = self.reload(self.report)
        self.assertEqual(report.status, "acknowledged")
        self.assertIsNotNone(report.acknowledged_at)
        self.assertTrue(report.events.filter(kind="status_changed", to_status="acknowledged", actor=self.agent).exists())

    def test_resolving_without_a_public_message_is_refused_and_changes_nothing(self):
        response = self.post(self.agent, "status", status="resolved", message=" ")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(list(response.context["action_errors"]), ["message"])
        self.assertEqual(self.reload(self.report).status, "new")

    def test_a_status_the_workflow_does_not_allow_is_refused(self):
        response = self.post(self.agent, "status", status="closed", message="x")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.reload(self.report).status, "new")

    def test_reply_from_a_template_reaches_the_citizen_and_the_tracking_page(self):
        template = ResponseTemplate.objects.create(title="Received", body_vi="Đã nhận {public_id}",
                                                   body_en="Received {public_id}")
        page = self.as_(self.agent).get(f"/console/r/{self.report.public_id}/")
        self.assertEqual(page.context["templates"], [  # offered, filled in
            {"id": template.pk, "title": "Received", "status": "",
             "body": {"vi": f"Đã nhận {self.report.public_id}", "en": f"Received {self.report.public_id}"}}])
        self.assertContains(page, template.title)
        self.post(self.agent, "reply", message=f"Đã nhận {self.report.public_id}, sẽ sửa trong tuần.")
        self.client.logout()
        self.assertContains(self.client.get(f"/r/{self.report.public_id}/"), "sẽ sửa trong tuần")
        message = OutboxMessage.objects.filter(report=self.report, recipient="dan@example.vn").last()
        self.assertIn("sẽ sửa trong tuần", message.body)
        self.assertIsNotNone(self.reload(self.report).acknowledged_at)

    def test_internal_note_stays_off_the_tracking_page(self):
        self.post(self.agent, "note", note="Chờ vật tư")
        self.assertContains(self.as_(self.agent).get(f"/console/r/{self.report.public_id}/"), "Chờ vật tư")
        self.client.logout()
        self.assertNotContains(self.client.get(f"/r/{self.report.public_id}/"), "Chờ vật tư")

    def test_agent_takes_a_report_but_only_a_manager_assigns_others(self):
        self.assertEqual(self.post(self.agent, "assign", assignee="me").status_code, 302)
        self.assertEqual(self.reload(self.report).assigned_to, self.agent)
        self.assertEqual(self.post(self.agent, "assign", assignee=self.colleague.pk).status_code, 400)
        self.assertEqual(self.reload(self.report).assigned_to, self.agent)
        self.assertEqual(self.post(self.manager, "assign", assignee=self.colleague.pk).status_code, 302)
        self.assertEqual(self.reload(self.report).assigned_to, self.colleague)

    def test_assigning_someone_outside_the_department_is_refused(self):
        response = self.post(self.manager, "assign", assignee=self.other_agent.pk)
        self.assertEqual(response.status_code, 400)
        self.assertIsNone(self.reload(self.report).assigned_to)

    def test_priority_is_checked_and_recorded(self):
        self.assertEqual(self.post(self.agent, "priority", priority="9").status_code, 400)
        self.post(self.agent, "priority", priority="4")
        self.assertEqual(self.reload(self.report).priority, 4)
        self.assertTrue(self.report.events.filter(kind="priority", data__to=4).exists())

    def test_reroute_needs_a_reason_then_moves_restarts_targets_and_tells_the_new_department(self):
        self.road_authority.email = "roads@example.vn"
        self.road_authority.save()
        self.assertEqual(self.post(self.agent, "reroute", department="road-authority", reason="").status_code, 400)
        before = self.reload(self.report)
        self.post(self.agent, "reroute", department="road-authority", reason="Thuộc quốc lộ")
        report = self.reload(self.report)
        self.assertEqual(report.department, self.road_authority)
        self.assertGreaterEqual(report.resolve_due_at, before.resolve_due_at)
        event = report.events.get(kind="rerouted")
        self.assertEqual((event.message, event.data["from"], event.data["to"]), ("Thuộc quốc lộ", "construction",
                                                                                  "road-authority"))
        self.assertTrue(OutboxMessage.objects.filter(report=report, recipient="roads@example.vn").exists())
        # Now out of the agent's scope:
        self.assertEqual(self.as_(self.agent).get(f"/console/r/{report.public_id}/").status_code, 404)
        # The citizen sees where it went, not the internal reason.
        self.client.logout()
        page = self.client.get(f"/r/{report.public_id}/")
        self.assertContains(page, "Khu QLĐB", count=3)  # handled by, why, and the timeline
        self.assertNotContains(page, "Thuộc quốc lộ")

    def test_not_our_responsibility_sends_it_back_to_the_operations_center(self):
        response = self.post(self.agent, "reroute", mode="not_ours", reason="Không thuộc thẩm quyền")
        self.assertRedirects(response, "/console/", fetch_redirect_response=False)
        report = self.reload(self.report)
        self.assertEqual(report.department, self.ioc)
        self.assertTrue(report.events.get(kind="rerouted").data["not_ours"])

    def test_operator_reroutes_by_running_the_rules_again(self):
        self.post(self.agent, "reroute", mode="not_ours", reason="Không phải của chúng tôi")
        self.post(self.operator, "reroute", mode="rules", reason="Theo quy tắc")
        self.assertEqual(self.reload(self.report).department, self.construction)

    def test_merge_and_split_from_the_detail_page(self):
        other = pothole(metres_east=500)
        self.assertNotEqual(other.incident_id, self.report.incident_id)
        self.post(self.agent, "merge", report=other, incident=self.report.incident_id)
        self.assertEqual(self.reload(other).incident_id, self.report.incident_id)
        self.post(self.agent, "split", report=other)
        self.assertNotEqual(self.reload(other).incident_id, self.report.incident_id)

    def test_merge_into_an_incident_of_another_department_is_refused(self):
        response = self.post(self.agent, "merge", incident=self.road_report.incident_id)
        self.assertEqual(response.status_code, 400)


class ConflictTests(ConsoleWorld):
    def test_second_editor_sees_the_conflict_and_the_current_state_and_nothing_is_overwritten(self):
        seen = self.report.version  # both opened the page at this version
        first = self.client_class()
        first.force_login(self.agent)
        second = self.client_class()
        second.force_login(self.colleague)
        self.assertEqual(first.post(f"/console/r/{self.report.public_id}/status/",
                                    {"version": seen, "status": "in_progress", "message": ""}).status_code, 302)
        response = second.post(f"/console/r/{self.report.public_id}/status/",
                               {"version": seen, "status": "rejected", "message": "Không phải ổ gà"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.context["conflict"]["by"], "agent")
        self.assertContains(response, 'class="errors conflict"', status_code=409)
        report = self.reload(self.report)
        self.assertEqual(report.status, "in_progress")
        self.assertFalse(report.events.filter(to_status="rejected").exists())


class BulkTests(ConsoleWorld):
    def test_bulk_status_change_is_atomic_per_item_and_lists_the_failures(self):
        second = pothole(metres_east=400)
        transition_report(second.pk, "in_progress")
        transition_report(second.pk, "resolved", message="Đã sửa")
        client = self.as_(self.agent)
        response = client.post("/console/bulk/", {
            "action": "status", "status": "in_progress", "message": "",
            "ids": f"{self.report.public_id},{second.public_id},{self.road_report.public_id}"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.reload(self.report).status, "in_progress")
        self.assertEqual(self.reload(second).status, "resolved")
        self.assertEqual(self.reload(self.road_report).status, "new")  # not in scope: "not found"
        page = client.get(response["Location"])
        self.assertEqual(page.context["bulk_result"]["done"], [self.report.public_id])
        self.assertEqual(set(page.context["bulk_result"]["failed"]), {second.public_id, self.road_report.public_id})
        self.assertContains(page, second.public_id)  # listed with the reason

    def test_bulk_assign_and_reroute(self):
        other = pothole(metres_east=300)
        ids = f"{self.report.public_id},{other.public_id}"
        self.as_(self.manager).post("/console/bulk/", {"action": "assign", "assignee": self.colleague.pk, "ids": ids})
        self.assertEqual(set(Report.objects.filter(assigned_to=self.colleague).values_list("public_id", flat=True)),
                         {self.report.public_id, other.public_id})
        self.as_(self.manager).post("/console/bulk/", {"action": "reroute", "department": "market", "reason": "Chợ",
                                                       "ids": ids})
        self.assertEqual(Report.objects.filter(department=self.market_board).count(), 2)

    def test_bulk_merge_makes_one_incident(self):
        others = [pothole(metres_east=200 * (i + 1)) for i in range(2)]
        ids = ",".join([self.report.public_id, *[o.public_id for o in others]])
        self.as_(self.agent).post("/console/bulk/", {"action": "merge", "ids": ids})
        incidents = {self.reload(r).incident_id for r in [self.report, *others]}
        self.assertEqual(len(incidents), 1)


class TargetTests(ConsoleWorld):
    def test_due_times_are_set_at_intake_in_working_hours(self):
        # Friday 2026-11-27 16:00 in Cần Thơ; targets: acknowledge 8 h, resolve 72 h (defaults).
        friday = timezone.datetime(2026, 11, 27, 16, 0, tzinfo=timezone.get_default_timezone())
        report = pothole(metres_east=900, created_at=friday)
        # 1 h on Friday (to 17:00), then Monday 07:30–11:30 (4 h) and 13:30–16:30 (3 h).
        self.assertEqual(timezone.localtime(report.acknowledge_due_at).strftime("%a %H:%M"), "Mon 16:30")

    def test_report_nobody_acknowledged_in_time_escalates_once_with_an_event(self):
        self.ioc.email = "ioc@example.vn"
        self.ioc.save()
        later = self.report.acknowledge_due_at + timedelta(minutes=1)
        self.assertEqual(escalate_overdue(later), 2)  # both reports are new and past due
        self.assertEqual(escalate_overdue(later), 0)
        report = self.reload(self.report)
        self.assertEqual(report.escalated_at, later)
        self.assertTrue(report.events.filter(kind="escalated").exists())
        self.assertTrue(OutboxMessage.objects.filter(report=report, recipient="ioc@example.vn").exists())

    def test_overdue_filter_lists_reports_past_their_target(self):
        Report.objects.filter(pk=self.report.pk).update(resolve_due_at=timezone.now() - timedelta(hours=1))
        page = self.as_(self.operator).get("/console/?overdue=1")
        self.assertContains(page, self.report.public_id)
        self.assertNotContains(page, self.road_report.public_id)


class ListTests(ConsoleWorld):
    def test_free_text_search_ignores_diacritics(self):
        pothole(metres_east=700, description="Cống thoát nước bị tắc nghẽn")
        page = self.as_(self.operator).get("/console/?q=cong+thoat+nuoc")
        self.assertContains(page, "Cống thoát nước")
        self.assertNotContains(page, self.report.public_id)

    def test_pages_follow_each_other_without_gaps_or_repeats(self):
        for i in range(60):
            pothole(metres_east=100 + 60 * i)
        client = self.as_(self.operator)
        seen, url = [], "/console/?sort=oldest"
        while url:
            response = client.get(url if url.startswith("/") else "/console/" + url)
            seen += [r.public_id for r in response.context["page"].rows]
            url = response.context["next_url"]
        self.assertEqual(seen, list(Report.objects.order_by("created_at", "id").values_list("public_id", flat=True)))

    def test_bad_filters_are_named(self):
        response = self.as_(self.operator).get("/console/?status=lost&created_after=2026-02-30&cursor=%%%")
        for name in ("status", "created_after", "cursor"):
            self.assertIn(name, response.context["errors"])
        self.assertEqual(self.as_(self.operator).get("/console/points.geojson?bbox=1,2").status_code, 400)

    def test_saved_view_keeps_the_filters(self):
        client = self.as_(self.agent)
        client.post("/console/views/", {"name": "Quá hạn", "filters": "overdue=1&sort=due&cursor=abc"})
        view = SavedView.objects.get(user=self.agent)
        self.assertEqual(view.query, "overdue=1&sort=due")
        self.assertContains(client.get("/console/"), "Quá hạn")

    def test_export_has_contact_data_for_staff(self):
        rows = list(csv.DictReader(io.StringIO(
            b"".join(self.as_(self.agent).get("/console/reports.csv").streaming_content).decode("utf-8-sig"))))
        self.assertEqual([r["public_id"] for r in rows], [self.report.public_id])
        self.assertEqual(rows[0]["reporter_phone"], "0901234567")

    def test_zoomed_out_map_gets_counts_on_a_grid_in_scope(self):
        Report.objects.filter(pk=self.report.pk).update(resolve_due_at=timezone.now() - timedelta(hours=1))
        pothole(metres_east=30)
        box = {"bbox": "105.70,10.00,105.80,10.10", "zoom": "10"}
        data = self.as_(self.agent).get("/console/cells.geojson", box).json()
        self.assertEqual([f["properties"] for f in data["features"]], [{"count": 2, "open": 2, "overdue": 1}])
        data = self.as_(self.other_agent).get("/console/cells.geojson", box).json()
        self.assertEqual([f["properties"]["count"] for f in data["features"]], [1])  # only the road report
        self.assertEqual(self.as_(self.agent).get("/console/cells.geojson", {**box, "zoom": "99"}).status_code, 400)
        self.assertEqual(self.as_(self.agent).get("/console/cells.geojson", {"zoom": "10"}).status_code, 400)

    def test_map_points_are_exact_locations_with_overdue_flags(self):
        data = self.as_(self.agent).get("/console/points.geojson").json()
        self.assertEqual([f["id"] for f in data["features"]], [self.report.public_id])
        self.assertAlmostEqual(data["features"][0]["geometry"]["coordinates"][0], self.report.location.x, places=6)
        self.assertFalse(data["truncated"])


@override_settings(CITYPIN_LOGIN_ATTEMPTS=3)
class LoginTests(ConsoleWorld):
    def test_login_then_lockout_after_repeated_failures(self):
        for _ in range(3):
            self.client.post("/console/login/", {"username": "agent", "password": "wrong"})
        response = self.client.post("/console/login/", {"username": "agent", "password": "pw-agent"})
        self.assertEqual([e.code for e in response.context["form"].non_field_errors().as_data()], ["locked"])
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_good_password_signs_in_and_lands_on_the_console(self):
        response = self.client.post("/console/login/", {"username": "agent", "password": "pw-agent"})
        self.assertRedirects(response, "/console/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/console/").status_code, 200)
        self.client.post("/console/logout/")
        self.assertEqual(self.client.get("/console/").status_code, 302)

    def test_password_change(self):
        client = self.as_(self.agent)
        client.post("/console/password/", {"old_password": "pw-agent", "new_password1": "Đổi-mật-khẩu-2026",
                                           "new_password2": "Đổi-mật-khẩu-2026"})
        self.assertTrue(User.objects.get(pk=self.agent.pk).check_password("Đổi-mật-khẩu-2026"))


class DashboardTests(ConsoleWorld):
    def test_dashboard_counts_open_overdue_and_draws_charts(self):
        Report.objects.filter(pk=self.report.pk).update(resolve_due_at=timezone.now() - timedelta(hours=1))
        response = self.as_(self.operator).get("/console/dashboard/")
        self.assertContains(response, "<svg", count=4)
        rows = {r["code"]: r for r in response.context["figures"].rows}
        self.assertEqual((rows["construction"]["open"], rows["construction"]["overdue"]), (1, 1))
        self.assertEqual((rows["road-authority"]["open"], rows["road-authority"]["overdue"]), (1, 0))

    def test_resolution_within_target_and_time_to_acknowledge(self):
        transition_report(self.report.pk, "acknowledged")
        transition_report(self.report.pk, "resolved", message="Đã sửa")
        text = self.as_(self.operator).get("/console/dashboard.csv").content.decode("utf-8-sig")
        rows = {r["code"]: r for r in csv.DictReader(io.StringIO(text))}
        self.assertEqual(rows["construction"]["within_target"], "1.0")
        self.assertLess(float(rows["construction"]["median_ack_h"]), 0.1)

    def test_by_ward(self):
        response = self.as_(self.operator).get("/console/dashboard/?by=ward")
        self.assertEqual({r["code"] for r in response.context["figures"].rows}, {"A"})


class IncidentStatusTests(ConsoleWorld):
    def test_closing_the_whole_incident_resolves_every_report_and_tells_each_reporter(self):
        others = [pothole(metres_east=20 * (i + 1), email=f"hang-xom-{i}@example.vn") for i in range(2)]
        incident = self.report.incident
        self.assertEqual({self.reload(o).incident_id for o in others}, {incident.pk})
        incident.refresh_from_db()
        response = self.as_(self.agent).post(f"/console/r/{self.report.public_id}/status/", {
            "version": self.reload(self.report).version, "incident_version": incident.version,
            "whole_incident": "1", "status": "resolved", "message": "Đã vá xong"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(set(Report.objects.filter(incident=incident).values_list("status", flat=True)), {"resolved"})
        self.assertEqual(OutboxMessage.objects.filter(body__contains="Đã vá xong").count(), 3)

    def test_whole_incident_change_with_a_stale_incident_version_is_a_conflict(self):
        pothole(metres_east=20)
        incident = self.report.incident
        incident.refresh_from_db()
        response = self.as_(self.agent).post(f"/console/r/{self.report.public_id}/status/", {
            "version": 1, "incident_version": incident.version - 1, "whole_incident": "1",
            "status": "in_progress", "message": ""})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.reload(self.report).status, "new")

    def test_whole_incident_change_says_which_reports_could_not_follow(self):
        other = pothole(metres_east=20)
        transition_report(other.pk, "in_progress")
        transition_report(other.pk, "resolved", message="Đã sửa")
        incident = self.report.incident
        incident.refresh_from_db()
        response = self.as_(self.agent).post(f"/console/r/{self.report.public_id}/status/", {
            "version": self.reload(self.report).version, "incident_version": incident.version,
            "whole_incident": "1", "status": "acknowledged", "message": ""}, follow=True)
        self.assertEqual(self.reload(self.report).status, "acknowledged")
        self.assertIn(other.public_id, " ".join(str(m) for m in response.context["messages"]))


class HostileInputTests(ConsoleWorld):
    def post(self, action, **data):
        data.setdefault("version", self.reload(self.report).version)
        return self.as_(self.agent).post(f"/console/r/{self.report.public_id}/{action}/", data)

    def test_messages_with_nul_or_too_long_are_refused_naming_the_field(self):
        for action, field in (("reply", "message"), ("note", "note"), ("status", "message")):
            for value in ("a\x00b", "x" * 2001):
                with self.subTest(action=action, value=value[:5]):
                    response = self.post(action, status="in_progress", **{field: value})
                    self.assertEqual(response.status_code, 400)
                    self.assertIn(field, response.context["action_errors"])
        report = self.reload(self.report)
        self.assertEqual((report.status, report.version), ("new", 1))
        self.assertEqual(report.events.count(), 2)  # created, routed: nothing was half-saved

    def test_reroute_reason_with_nul_and_an_unknown_department_are_refused(self):
        self.assertIn("reason", self.post("reroute", department="market", reason="\x00").context["action_errors"])
        self.assertIn("department", self.post("reroute", department="nowhere", reason="x").context["action_errors"])
        self.assertEqual(self.reload(self.report).department, self.construction)

    def test_garbage_version_and_ids_do_not_crash(self):
        self.assertIn("version", self.post("priority", priority="3", version="abc").context["action_errors"])
        self.assertEqual(self.post("priority", priority="x").status_code, 400)
        self.assertEqual(self.post("assign", assignee="'; DROP TABLE").status_code, 400)
        self.assertEqual(self.as_(self.agent).post(f"/console/r/{self.report.public_id}/photos/"
                                                   "00000000-0000-0000-0000-000000000000/", {}).status_code, 404)

    def test_reply_is_escaped_on_the_tracking_page(self):
        self.post("reply", message="<script>alert(1)</script>")
        self.client.logout()
        page = self.client.get(f"/r/{self.report.public_id}/")
        self.assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt;")
        self.assertNotContains(page, "<script>alert(1)</script>")

    def test_bulk_with_too_many_ids_changes_nothing(self):
        ids = ",".join([self.report.public_id] + [f"CT-2026-{i:06d}" for i in range(600)])
        self.as_(self.agent).post("/console/bulk/", {"action": "status", "status": "in_progress", "ids": ids})
        self.assertEqual(self.reload(self.report).status, "new")

    def test_filters_with_nul_or_huge_text_are_named(self):
        response = self.as_(self.agent).get("/console/", {"q": "x" * 201, "area": "\x00"})
        self.assertEqual(set(response.context["errors"]), {"q", "area"})
        self.assertEqual(self.as_(self.agent).get("/console/reports.csv", {"q": "\x00"}).status_code, 400)

    def test_saved_view_name_too_long_is_refused(self):
        self.as_(self.agent).post("/console/views/", {"name": "x" * 81, "filters": "overdue=1"})
        self.assertFalse(SavedView.objects.exists())


class TriageQueueTests(ConsoleWorld):
    def test_the_triage_queue_lists_what_no_rule_could_place(self):
        unplaced = submit_report(ReportDraft(category_code="orphan", lon=105.72, lat=10.03, description="Không rõ"))
        self.assertEqual(unplaced.department, self.ioc)
        page = self.as_(self.operator).get("/console/")
        self.assertContains(page, 'href="?department=ioc"')
        page = self.as_(self.operator).get("/console/?department=ioc")
        self.assertEqual([r.public_id for r in page.context["page"].rows], [unplaced.public_id])


class ReviewRegressionTests(ConsoleWorld):
    """Each failed before its fix (found in review)."""

    def test_merge_refuses_when_the_incident_holds_another_departments_report(self):
        mine = pothole(metres_east=20)  # same incident as self.report
        self.assertEqual(mine.incident_id, self.report.incident_id)
        self.as_(self.agent).post(f"/console/r/{mine.public_id}/reroute/", {
            "version": self.reload(mine).version, "department": "market", "reason": "Chợ"})
        target = pothole(metres_east=900)
        response = self.as_(self.agent).post(f"/console/r/{target.public_id}/merge/",
                                             {"incident": self.report.incident_id})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.reload(mine).incident_id, self.report.incident_id)  # the market's report stayed

    def test_whole_incident_change_needs_the_incident_version_and_sees_report_changes(self):
        other = pothole(metres_east=20)
        incident = self.report.incident
        incident.refresh_from_db()
        seen = incident.version
        url = f"/console/r/{self.report.public_id}/status/"
        response = self.as_(self.agent).post(url, {"version": 1, "whole_incident": "1", "status": "rejected",
                                                   "message": "x"})
        self.assertIn("incident_version", response.context["action_errors"])
        transition_report(other.pk, "in_progress")  # a colleague moves one report meanwhile
        response = self.as_(self.agent).post(url, {"version": 1, "incident_version": seen, "whole_incident": "1",
                                                   "status": "rejected", "message": "x"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.reload(other).status, "in_progress")

    def test_hostile_bulk_and_filter_input_gets_named_errors_not_500s(self):
        client = self.as_(self.agent)
        for ids in ("a\x00b", "x/y", "../../etc"):
            response = client.post("/console/bulk/", {"action": "status", "status": "in_progress", "ids": ids})
            self.assertEqual(response.status_code, 302)
            self.assertEqual(client.get(response["Location"]).status_code, 200)
        self.assertIn("category", client.get("/console/?category=%00&category=x").context["errors"])
        self.assertEqual(client.get("/console/points.geojson?department=%00&department=x").status_code, 400)
        import base64
        cursor = base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", 1e400]').decode()
        self.assertIn("cursor", client.get("/console/", {"cursor": cursor}).context["errors"])
        response = client.post(f"/console/r/{self.report.public_id}/reroute/",
                               {"version": 1, "department": "a\x00", "reason": "x"})
        self.assertIn("department", response.context["action_errors"])
        response = client.post("/console/views/", {"name": "dài", "filters": "q=" + "ữ" * 1990})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(SavedView.objects.exists())

    def test_a_reply_acknowledges_so_the_report_is_not_escalated(self):
        self.as_(self.agent).post(f"/console/r/{self.report.public_id}/reply/",
                                  {"version": 1, "message": "Đã nhận"})
        later = self.report.acknowledge_due_at + timedelta(hours=1)
        escalate_overdue(later)
        self.assertIsNone(self.reload(self.report).escalated_at)

    def test_reopening_clears_the_resolution_and_sets_a_new_target(self):
        transition_report(self.report.pk, "resolved", message="Đã sửa")
        before = self.reload(self.report).resolve_due_at
        transition_report(self.report.pk, "reopened", message="Vẫn còn")
        report = self.reload(self.report)
        self.assertIsNone(report.resolved_at)
        self.assertGreaterEqual(report.resolve_due_at, before)
        text = self.as_(self.operator).get("/console/dashboard.csv").content.decode("utf-8-sig")
        rows = {r["code"]: r for r in csv.DictReader(io.StringIO(text))}
        self.assertEqual(rows["construction"]["within_target"], "")  # nothing resolved any more

    def test_export_cells_cannot_run_as_spreadsheet_formulas(self):
        pothole(metres_east=800, description='=HYPERLINK("http://evil.example","bấm")')
        rows = list(csv.DictReader(io.StringIO(
            b"".join(self.as_(self.agent).get("/console/reports.csv").streaming_content).decode("utf-8-sig"))))
        self.assertIn("'=HYPERLINK(\"http://evil.example\",\"bấm\")", [r["description"] for r in rows])

    def test_an_agent_cannot_take_over_or_undo_a_colleagues_assignment(self):
        self.as_(self.manager).post(f"/console/r/{self.report.public_id}/assign/",
                                    {"version": 1, "assignee": self.colleague.pk})
        version = self.reload(self.report).version
        for assignee in ("me", ""):
            response = self.as_(self.agent).post(f"/console/r/{self.report.public_id}/assign/",
                                                 {"version": version, "assignee": assignee})
            self.assertEqual(response.status_code, 400)
        self.assertEqual(self.reload(self.report).assigned_to, self.colleague)

    def test_template_status_must_be_a_real_status(self):
        response = self.as_(self.manager).post("/console/templates/", {
            "title": "x", "department": self.construction.pk, "status": "bogus", "body_vi": "x", "active": "on"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(ResponseTemplate.objects.exists())


class TemplatePageTests(ConsoleWorld):
    def test_a_department_manager_keeps_their_own_and_sees_the_shared_ones(self):
        ResponseTemplate.objects.create(title="Chung", body_vi="Mẫu chung")
        client = self.as_(self.manager)
        response = client.post("/console/templates/", {"title": "Riêng", "department": self.construction.pk,
                                                       "body_vi": "Mẫu của Sở", "active": "on"})
        self.assertEqual(response.status_code, 302)
        page = client.get("/console/templates/")
        self.assertEqual([t.title for t in page.context["templates"]], ["Riêng"])
        self.assertEqual([t.title for t in page.context["shared"]], ["Chung"])
        shared = ResponseTemplate.objects.get(title="Chung")
        self.assertEqual(client.get(f"/console/templates/{shared.pk}/").status_code, 404)  # not theirs to edit
        self.assertEqual(self.as_(self.agent).get("/console/templates/").status_code, 404)

