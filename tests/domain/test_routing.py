"""Routing on hand-placed geometry (see tests/world.py for the map)."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from gis.models import Area
from incidents.models import RoutingRule
from incidents.routing import OutsideJurisdiction, route
from tests.world import box, build_world, project


class RoutingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def route_at(self, category, lon, lat, accuracy_m=0):
        return route(category, lon, lat, accuracy_m)

    def test_pothole_29_m_from_national_road_goes_to_road_authority(self):
        lon, lat = project(105.72, 10.05, 29, 0)
        result = self.route_at(self.pothole, lon, lat)
        self.assertEqual(result.department_id, self.road_authority.pk)
        self.assertEqual(result.rule_id, self.rule_road.pk)
        self.assertAlmostEqual(result.explanation["rule"]["distance_m"], 29, delta=0.2)

    def test_pothole_31_m_from_national_road_goes_to_construction_by_default(self):
        lon, lat = project(105.72, 10.05, 31, 180)
        result = self.route_at(self.pothole, lon, lat)
        self.assertEqual(result.department_id, self.construction.pk)
        self.assertEqual(result.rule_id, self.rule_roads_default.pk)

    def test_encroachment_inside_ward_a_goes_to_its_committee(self):
        result = self.route_at(self.encroachment, 105.72, 10.02)
        self.assertEqual(result.department_id, self.committee_a.pk)
        self.assertEqual(result.reason, "rule")

    def test_point_exactly_on_shared_edge_goes_to_the_smaller_ward_every_time(self):
        winners = {self.route_at(self.encroachment, 105.75, 10.03).department_id for _ in range(3)}
        self.assertEqual(winners, {self.committee_b.pk})  # ward B is narrower, so more specific

    def test_equal_wards_on_shared_edge_tie_break_by_rule_id(self):
        self.ward_b.boundary = box(105.75, 10.00, 105.80, 10.10)  # now as large as ward A
        self.ward_b.save()
        self.assertEqual(self.route_at(self.encroachment, 105.75, 10.03).department_id, self.committee_a.pk)

    def test_higher_priority_rule_wins_over_ward_rule(self):
        RoutingRule.objects.create(name="market in A", kind="area", category=self.encroachment, area=self.ward_a,
                                   department=self.market_board, priority=5)
        self.assertEqual(self.route_at(self.encroachment, 105.72, 10.02).department_id, self.market_board.pk)

    def test_at_equal_priority_the_smaller_area_wins(self):
        market = Area.objects.create(kind="service_area", code="M", name_vi="Chợ", parent=self.province,
                                     boundary=box(105.71, 10.01, 105.73, 10.03))
        RoutingRule.objects.create(name="market area", kind="area", category=self.encroachment, area=market,
                                   department=self.market_board, priority=0)
        self.assertEqual(self.route_at(self.encroachment, 105.72, 10.02).department_id, self.market_board.pk)
        self.assertEqual(self.route_at(self.encroachment, 105.74, 10.08).department_id, self.committee_a.pk)

    def test_expired_and_future_rules_are_ignored(self):
        now = timezone.now()
        RoutingRule.objects.create(name="expired", kind="area", category=self.encroachment, area=self.ward_a,
                                   department=self.market_board, priority=5, valid_until=now - timedelta(days=1))
        RoutingRule.objects.create(name="future", kind="area", category=self.encroachment, area=self.ward_a,
                                   department=self.market_board, priority=5, valid_from=now + timedelta(days=1))
        self.assertEqual(self.route_at(self.encroachment, 105.72, 10.02).department_id, self.committee_a.pk)

    def test_rule_within_its_validity_period_applies(self):
        now = timezone.now()
        RoutingRule.objects.create(name="festival", kind="area", category=self.encroachment, area=self.ward_a,
                                   department=self.market_board, priority=5, valid_from=now - timedelta(days=1),
                                   valid_until=now + timedelta(days=1))
        self.assertEqual(self.route_at(self.encroachment, 105.72, 10.02).department_id, self.market_board.pk)

    def test_inactive_rule_is_ignored(self):
        RoutingRule.objects.create(name="off", kind="area", category=self.encroachment, area=self.ward_a,
                                   department=self.market_board, priority=5, active=False)
        self.assertEqual(self.route_at(self.encroachment, 105.72, 10.02).department_id, self.committee_a.pk)

    def test_accuracy_circle_reaching_the_neighbouring_ward_is_contested(self):
        lon, lat = project(105.75, 10.03, 20, 270)  # 20 m inside ward A
        result = self.route_at(self.encroachment, lon, lat, accuracy_m=50)
        self.assertEqual(result.department_id, self.ioc.pk)
        self.assertEqual(result.reason, "contested")
        self.assertEqual({d["code"] for d in result.explanation["contested_between"]}, {"ubnd-a", "ubnd-b"})
        self.assertIn("Contested between", result.explanation["text"]["en"])

    def test_accuracy_circle_inside_one_ward_is_not_contested(self):
        lon, lat = project(105.75, 10.03, 20, 270)
        result = self.route_at(self.encroachment, lon, lat, accuracy_m=10)
        self.assertEqual(result.department_id, self.committee_a.pk)

    def test_pothole_circle_straddling_the_road_buffer_is_contested(self):
        lon, lat = project(105.72, 10.05, 25, 0)
        result = self.route_at(self.pothole, lon, lat, accuracy_m=15)
        self.assertEqual(result.reason, "contested")
        self.assertEqual({d["code"] for d in result.explanation["contested_between"]}, {"road-authority", "construction"})

    def test_circle_reaching_only_the_same_department_is_not_contested(self):
        lon, lat = project(105.72, 10.05, 5, 0)
        self.assertEqual(self.route_at(self.pothole, lon, lat, accuracy_m=10).department_id, self.road_authority.pk)

    def test_category_without_rule_goes_to_operations_center(self):
        result = self.route_at(self.orphan, 105.72, 10.02)
        self.assertEqual((result.department_id, result.reason), (self.ioc.pk, "no_rule"))

    def test_point_in_the_strip_without_ward_still_uses_the_jurisdiction_default(self):
        self.assertEqual(self.route_at(self.pothole, 105.795, 10.02).department_id, self.construction.pk)

    def test_unlocated_report_goes_to_operations_center(self):
        result = route(self.pothole, None, None)
        self.assertEqual((result.department_id, result.reason), (self.ioc.pk, "unlocated"))

    def test_point_outside_every_jurisdiction_is_refused(self):
        with pytest.raises(OutsideJurisdiction):
            self.route_at(self.pothole, 106.5, 9.0)

    def test_explanation_comes_in_vietnamese_and_english(self):
        lon, lat = project(105.72, 10.05, 10, 0)
        text = self.route_at(self.pothole, lon, lat).explanation["text"]
        self.assertIn("pothole near national road", text["en"])
        self.assertIn("Road Authority", text["en"])
        self.assertIn("Khu QLĐB", text["vi"])
