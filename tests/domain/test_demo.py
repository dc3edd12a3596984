"""The Cần Thơ demo, checked as a newcomer would after `make run`."""

from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from gis.models import Area, Asset
from incidents.demo import load_demo
from incidents.models import ApiKey, Category, Department, Report, RoutingRule, StaffMembership


def nearest_national_road_m(lon: float, lat: float) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)) "
            "FROM geo_asset WHERE asset_class = 'national'", [lon, lat])
        return cursor.fetchone()[0]


class DemoCityTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.summary = load_demo()

    def setUp(self):
        self.client = APIClient()

    def post(self, category, lon, lat, **extra):
        body = {"category": category, "location": {"type": "Point", "coordinates": [lon, lat]}, **extra}
        return self.client.post("/api/v1/reports/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    def test_demo_has_the_city_its_departments_and_sample_reports(self):
        self.assertEqual(Area.objects.filter(kind="ward").count(), 103)
        self.assertGreater(Asset.objects.filter(asset_class="national").count(), 300)
        self.assertGreaterEqual(Category.objects.count(), 12)
        self.assertEqual(Department.objects.filter(code__startswith="ubnd-").count(), 103)
        self.assertEqual(Report.objects.count(), 500)
        self.assertGreater(Report.objects.exclude(status="new").count(), 200)

    def test_loading_the_demo_again_changes_nothing(self):
        counts = (Area.objects.count(), Department.objects.count(), RoutingRule.objects.count(),
                  Report.objects.count(), StaffMembership.objects.count(), ApiKey.objects.count())
        again = load_demo()
        self.assertEqual(counts, (Area.objects.count(), Department.objects.count(), RoutingRule.objects.count(),
                                  Report.objects.count(), StaffMembership.objects.count(), ApiKey.objects.count()))
        self.assertEqual(again.api_key, self.summary.api_key)

    def test_accounts_and_api_key_are_printed_and_work(self):
        from django.contrib.auth import authenticate

        self.assertEqual({a[0] for a in self.summary.accounts},
                         {"ioc", "xaydung", "capnuoc", "ninhkieu", "truongphong", "giamsat"})
        for username, password, _ in self.summary.accounts:
            self.assertIsNotNone(authenticate(username=username, password=password), username)
        self.assertIsNotNone(ApiKey.find_active(self.summary.api_key))

    def test_pothole_on_quoc_lo_61_in_former_hau_giang_goes_to_road_authority(self):
        lon, lat = 105.402945, 9.743524  # on Quốc lộ 61, Xã Hoả Lựu (former Hậu Giang)
        response = self.post("pothole", lon, lat, location_accuracy_m=10, attributes={"size": "large"})
        props = response.json()["properties"]
        self.assertEqual(props["department"]["code"], "duong-bo", props["routing"])
        self.assertEqual(props["ward"]["code"], "31338")
        self.assertIn("Quốc lộ 61", props["routing"]["text"])

    def test_pothole_500_m_off_any_national_road_in_a_ward_goes_to_construction(self):
        lon, lat = 105.7782, 10.0340  # central Ninh Kiều
        self.assertGreater(nearest_national_road_m(lon, lat), 500)
        props = self.post("pothole", lon, lat, attributes={"size": "small"}).json()["properties"]
        self.assertEqual(props["department"]["code"], "so-xay-dung")
        self.assertEqual(props["ward"]["code"], "31135")

    def test_sidewalk_encroachment_goes_to_that_wards_peoples_committee(self):
        props = self.post("sidewalk-encroachment", 105.7782, 10.0340).json()["properties"]
        self.assertEqual(props["department"]["code"], "ubnd-31135")
        self.assertEqual(props["department"]["name"], "Ninh Kieu Ward People's Committee")

    def test_point_in_the_sea_is_refused_naming_the_location(self):
        response = self.post("pothole", 106.9, 9.3, attributes={"size": "small"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("location", response.json())
        self.assertIn("9.300000, 106.900000", response.json()["location"][0])

    def test_every_sample_report_carries_its_explanation(self):
        self.assertFalse(Report.objects.filter(routing__text__isnull=True).exists())
        feature = self.client.get("/api/v1/reports/", {"limit": 1}).json()["features"][0]
        self.assertTrue(feature["properties"]["routing"]["text"])

    def test_sample_reports_send_no_mail(self):
        from incidents.models import OutboxMessage

        self.assertFalse(OutboxMessage.objects.exists())


class FloodingScenarioTests(TestCase):
    """The check from the incidents issue, on the demo city: five flooding reports along one
    street within an hour are one incident; one 300 m away is another; closing the incident
    closes all five and tells each reporter; the hotspot layer shows the cluster."""

    @classmethod
    def setUpTestData(cls):
        from incidents.demo import CITY, DemoSummary, load_city, load_geography

        summary = DemoSummary()
        load_geography(summary)
        load_city(CITY, summary)

    def post(self, lon, lat, i):
        body = {"category": "flooding", "location": {"type": "Point", "coordinates": [lon, lat]},
                "description": "Ngập sâu sau mưa, nước tới yên xe", "attributes": {"depth_cm": 40},
                "reporter": {"email": f"dan{i}@example.vn"}}
        return APIClient().post("/api/v1/reports/", body, format="json").json()["properties"]

    def test_five_reports_along_a_street_are_one_incident(self):
        from django.contrib.gis.geos import Point
        from django.core import mail

        from gis.spatial import offset_point
        from incidents.delivery.outbox import send_pending
        from incidents.hotspots import refresh_hotspots
        from incidents.incident_ops import set_incident_status
        from incidents.models import Incident, OutboxMessage

        start = Point(105.7782, 10.0340, srid=4326)  # Ninh Kiều
        along = [offset_point(start, 35 * i, 90) for i in range(5)]  # 35 m apart, eastwards
        props = [self.post(p.x, p.y, i) for i, p in enumerate(along)]
        self.assertEqual(len({p["incident"] for p in props}), 1)
        incident = Incident.objects.get(pk=props[0]["incident"])
        self.assertEqual(incident.report_count, 5)
        away = offset_point(along[2], 300, 0)
        other = self.post(away.x, away.y, 9)
        self.assertNotEqual(other["incident"], incident.pk)

        refresh_hotspots(full=True)
        hotspots = self.client.get("/api/v1/hotspots/", {"category": "flooding"}).json()["features"]
        self.assertEqual([h["properties"]["report_count"] for h in hotspots], [5])

        OutboxMessage.objects.all().delete()
        change = set_incident_status(incident.pk, "resolved", message="Đã khơi thông cống, nước đã rút")
        self.assertEqual(len(change.changed), 5)
        send_pending()
        told = sorted(m.to[0] for m in mail.outbox)
        self.assertEqual(told, [f"dan{i}@example.vn" for i in range(5)])
