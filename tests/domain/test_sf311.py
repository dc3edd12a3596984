"""Real data: San Francisco 311 cases (abandoned vehicles and graffiti, 2008–2016) imported
through the report importer into the 2012 supervisor districts, then clustered.

What the data shows (checked by hand with the same DBSCAN, eps 150 m, in EPSG:7131):
- abandoned vehicles form one large hotspot in Bernal Heights (93 cases at 86 distinct
  addresses around Precita Park and Cesar Chavez St, about 64 ha), a second one around Buena
  Vista (33), and a handful of small ones (8–12) in the Richmond and West of Twin Peaks;
- graffiti is concentrated in the Mission: its largest hotspot (over 400 cases) spans the
  Mission corridor, followed by the Haight and SoMa/Civic Center;
- most cases of both categories are noise at this scale: a city-wide sample of 14k cases
  over eight years is thin, so clusters are where the same streets keep being reported.
"""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

from django.contrib.gis.geos import MultiPolygon
from django.db import connection
from django.test import TestCase, override_settings

from gis.importers import import_areas
from gis.models import Area
from incidents.hotspots import refresh_hotspots
from incidents.importers import Columns, import_reports
from incidents.models import Category, CategoryGroup, Department, Hotspot, Report, RoutingRule

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sf"
END_OF_SAMPLE = datetime(2016, 2, 1, tzinfo=dt_timezone.utc)


@override_settings(CITYPIN_METRIC_SRID=7131)
class SanFranciscoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        districts = FIXTURES / "sf_supervisor_districts_2012.geojson"
        import_areas(districts, "ward", "supervisor", "supdist")
        with connection.cursor() as cursor:
            cursor.execute("SELECT ST_Multi(ST_Union(boundary)) FROM geo_area WHERE kind = 'ward'")
            from django.contrib.gis.geos import GEOSGeometry

            city = GEOSGeometry(cursor.fetchone()[0])
        cls.sf = Area.objects.create(kind="province", code="SF", name_vi="San Francisco", name_en="San Francisco",
                                     boundary=city if isinstance(city, MultiPolygon) else MultiPolygon(city))
        Area.objects.filter(kind="ward").update(parent=cls.sf)
        Department.objects.create(code="311", name_vi="SF311", is_operations_center=True, jurisdiction=cls.sf)
        dpt = Department.objects.create(code="dpt", name_vi="SFMTA / DPT")
        dpw = Department.objects.create(code="dpw", name_vi="Public Works")
        street = CategoryGroup.objects.create(code="street", name_vi="Street")
        cls.vehicles = Category.objects.create(code="abandoned-vehicle", group=street, name_vi="Abandoned vehicle",
                                               hotspot_eps_m=150, hotspot_min_points=8, duplicate_radius_m=30,
                                               duplicate_window_days=14)
        cls.graffiti = Category.objects.create(code="graffiti", group=street, name_vi="Graffiti",
                                               hotspot_eps_m=150, hotspot_min_points=10, duplicate_radius_m=30,
                                               duplicate_window_days=14)
        for category, department in ((cls.vehicles, dpt), (cls.graffiti, dpw)):
            RoutingRule.objects.create(name=f"{category.code} default", kind="default", category=category,
                                       area=cls.sf, department=department)
        cls.result = import_reports(
            FIXTURES / "sf311_vehicles_graffiti.csv",
            {"Abandoned Vehicle": "abandoned-vehicle", "Graffiti Public Property": "graffiti",
             "Graffiti Private Property": "graffiti"},
            {"Closed": "closed", "Open": "new"},
            Columns(closed="closed", description="request_type", external_id=""),
            timezone_name="America/Los_Angeles")
        refresh_hotspots(full=True, now=END_OF_SAMPLE, window=timedelta(days=8 * 366))

    def hotspots(self, category):
        return list(Hotspot.objects.filter(category=category).order_by("-report_count"))

    def test_every_case_inside_the_city_is_imported_and_routed(self):
        self.assertEqual(self.result.created, 3539)
        # The one case outside every district (Daly City line) is refused, naming line and place.
        self.assertEqual(len(self.result.rejected), 1)
        self.assertIn("line 2636", self.result.rejected[0])
        self.assertIn("37.708027, -122.450858", self.result.rejected[0])
        self.assertEqual(Report.objects.filter(department__code="dpt").count(), 1092)
        self.assertEqual(Report.objects.filter(department__code="dpw").count(), 2447)
        self.assertEqual(Report.objects.filter(created_at__year=2008).first().public_id[:7], "CT-2008")

    def test_abandoned_vehicles_cluster_in_bernal_heights(self):
        spots = self.hotspots(self.vehicles)
        self.assertEqual([s.report_count for s in spots[:2]], [93, 33])
        biggest = spots[0]
        precita_park = biggest.footprint.centroid  # around Precita Ave / Cesar Chavez St
        self.assertAlmostEqual(precita_park.x, -122.41, delta=0.01)
        self.assertAlmostEqual(precita_park.y, 37.746, delta=0.006)
        self.assertGreaterEqual(Report.objects.filter(category=self.vehicles,
                                                      location__coveredby=biggest.footprint).count(), 93)

    def test_graffiti_concentrates_in_the_mission(self):
        spots = self.hotspots(self.graffiti)
        self.assertGreaterEqual(spots[0].report_count, 400)
        mission = spots[0].centroid
        self.assertAlmostEqual(mission.x, -122.415, delta=0.015)
        self.assertAlmostEqual(mission.y, 37.76, delta=0.012)

    def test_most_cases_are_noise(self):
        clustered = sum(s.report_count for s in self.hotspots(self.vehicles))
        self.assertLess(clustered, 1093 / 2)

    def test_repeated_cases_at_one_place_within_two_weeks_become_one_incident(self):
        self.assertLess(Report.objects.values("incident").distinct().count(), 3539)
