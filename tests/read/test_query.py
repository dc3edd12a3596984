"""The one report query (incidents/read/query.py): one parser for the public API and the staff
console, staff-only filters read only with a staff scope, errors naming the parameter, and the
WHERE clause it compiles to."""

from __future__ import annotations

import base64
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.test import TestCase
from django.utils import timezone
from django.utils.translation import override

from incidents.access import StaffScope
from incidents.intake import ReportDraft, submit_report
from incidents.models import Report
from incidents.read.cursors import decode_cursor, encode_cursor
from incidents.read.query import ReportQuery, parse_bbox
from incidents.read.sql import language
from tests.world import build_world

OPERATOR = StaffScope(user_id=1, roles={}, operations_center_role="manager")  # sees every department
AGENT = StaffScope(user_id=7, roles={3: "agent", 5: "viewer"}, operations_center_role=None)
STAFF_ONLY = {"q": "x" * 500, "priority": "9", "assigned": "bogus", "overdue": "1", "escalated": "1"}


def errors_of(query, scope=None) -> set[str]:
    with pytest.raises(ValidationError) as exc:
        ReportQuery.parse(query, scope)
    return set(exc.value.message_dict)


def test_the_public_and_staff_read_the_shared_filters_alike():
    query = QueryDict("bbox=105.7,10,105.8,10.1&category=pothole,streetlight&department=ubnd-a&area=B"
                      "&created_after=2026-01-01&created_before=2026-01-31")
    for scope in (None, AGENT):
        parsed = ReportQuery.parse(query, scope)
        assert parsed.bbox == (105.7, 10.0, 105.8, 10.1)
        assert parsed.categories == ("pothole", "streetlight")
        assert parsed.departments == ("ubnd-a",)
        assert parsed.area == "B"
        assert parsed.created_after == timezone.make_aware(datetime(2026, 1, 1))
        assert parsed.created_before.date().isoformat() == "2026-01-31"  # the end of that day


def test_a_date_as_created_before_means_the_last_instant_of_that_day():
    parsed = ReportQuery.parse({"created_before": "2026-01-31"})
    assert parsed.created_before == timezone.make_aware(datetime.combine(date(2026, 1, 31), time.max))


def test_staff_only_filters_are_never_read_without_a_scope():
    parsed = ReportQuery.parse(STAFF_ONLY)
    assert (parsed.text, parsed.priorities, parsed.assigned, parsed.overdue, parsed.escalated) == ("", (), "", False,
                                                                                                     False)
    assert parsed.where({}) == "TRUE"


def test_staff_only_filters_are_checked_with_a_scope_and_errors_name_each_parameter():
    assert errors_of(STAFF_ONLY, OPERATOR) == {"q", "priority", "assigned"}


def test_every_bad_parameter_is_named_at_once():
    query = {"bbox": "1,2,3", "status": "bogus", "created_after": "2026-02-30", "created_before": "yesterday"}
    assert errors_of(query) == {"bbox", "status", "created_after", "created_before"}


def test_public_filters_test_the_public_point_and_staff_filters_the_exact_location():
    query = {"bbox": "105.7,10,105.8,10.1", "area": "B"}
    public = ReportQuery.parse(query).where({})
    staff = ReportQuery.parse(query, OPERATOR).where({})
    assert "r.location" not in public and public.count("r.public_location") == 2
    assert "r.public_location" not in staff and staff.count("r.location") == 2


def test_an_agent_is_limited_to_their_departments_and_an_operator_is_not():
    params = {}
    assert "r.department_id = ANY(%(scope)s)" in ReportQuery.parse({}, AGENT).where(params)
    assert params["scope"] == [3, 5]
    assert "department_id" not in ReportQuery.parse({}, OPERATOR).where({})


def test_staff_status_defaults_to_open_and_all_means_any():
    assert set(ReportQuery.parse({}, OPERATOR).statuses) == set(Report.OPEN_STATUSES)
    assert ReportQuery.parse({"status": "all"}, OPERATOR).statuses is None
    assert ReportQuery.parse({"status": "open,resolved"}, OPERATOR).statuses == tuple(sorted(
        {*Report.OPEN_STATUSES, "resolved"}))


def test_the_public_knows_no_open_or_all_status_and_no_status_means_any():
    assert ReportQuery.parse({}).statuses is None
    assert errors_of({"status": "open"}) == {"status"}


def test_mine_and_unassigned_compile_to_the_staff_member_and_to_nobody():
    params = {}
    assert "r.assigned_to_id = %(me)s" in ReportQuery.parse({"assigned": "me"}, AGENT).where(params)
    assert params["me"] == 7
    assert "r.assigned_to_id IS NULL" in ReportQuery.parse({"assigned": "none"}, AGENT).where({})


def test_repeated_parameters_add_up_in_a_query_string():
    parsed = ReportQuery.parse(QueryDict("category=pothole&category=flood,tree&priority=1&priority=2"), OPERATOR)
    assert parsed.categories == ("pothole", "flood", "tree")
    assert parsed.priorities == (1, 2)


def test_incidents_filter_dates_on_their_first_report():
    where = ReportQuery.parse({"created_after": "2026-01-01"}).where({}, alias="i", created="first_reported_at")
    assert where == "i.first_reported_at >= %(created_after)s"


def test_nul_characters_are_refused_naming_the_parameter():
    assert errors_of(QueryDict("area=%00"), OPERATOR) == {"area"}


@pytest.mark.parametrize("raw", ["1,2,3", "a,b,c,d", "nan,0,1,1", "0,0,200,1", "0,-91,1,1", "2,0,1,1", "0,2,1,1"])
def test_a_bbox_that_is_not_a_box_inside_the_world_is_refused(raw):
    with pytest.raises(ValidationError) as exc:
        parse_bbox(raw)
    assert set(exc.value.message_dict) == {"bbox"}


def test_a_bbox_inside_the_world_is_its_four_numbers():
    assert parse_bbox("-180,-90,180,90") == (-180.0, -90.0, 180.0, 90.0)


def test_a_bbox_of_no_width_is_still_a_filter_as_it_was():
    assert parse_bbox("105.7,10,105.7,10.1") == (105.7, 10.0, 105.7, 10.1)


def test_a_cursor_gives_back_the_keys_it_was_made_of_and_a_bad_one_is_named():
    when = timezone.make_aware(datetime(2026, 5, 1, 8, 30))
    assert decode_cursor(encode_cursor([when, 42]), ("time", "int")) == [when, 42]
    with pytest.raises(ValidationError) as exc:
        decode_cursor(encode_cursor([when]), ("time", "int"))
    assert set(exc.value.message_dict) == {"cursor"}


def test_names_are_read_in_english_for_english_and_in_vietnamese_otherwise():
    assert [language(code) for code in ("en", "en-us", "vi", "fr", "")] == ["en", "en", "vi", "vi", "vi"]
    with override("en"):
        assert language() == "en"


class PublicApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}))

    def test_the_public_api_ignores_staff_only_filters(self):
        response = self.client.get("/api/v1/reports/", STAFF_ONLY)
        self.assertEqual(response.status_code, 200)
        self.assertEqual([f["id"] for f in response.json()["features"]], [self.report.public_id])

    def test_a_page_cursor_leads_past_the_last_report_shown(self):
        second = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.021,
                                           attributes={"size": "small"}))
        first_page = self.client.get("/api/v1/reports/", {"limit": 1}).json()
        self.assertEqual([f["id"] for f in first_page["features"]], [second.public_id])
        following = self.client.get(first_page["next"]).json()
        self.assertEqual([f["id"] for f in following["features"]], [self.report.public_id])
        self.assertNotIn("next", following)


def test_a_public_cursor_in_the_earlier_time_and_id_form_still_works():
    when = timezone.make_aware(datetime(2026, 5, 1, 8, 30))
    earlier = base64.urlsafe_b64encode(f"{when.isoformat()}|42".encode()).decode().rstrip("=")
    assert decode_cursor(earlier, ("time", "int")) == [when, 42]
