"""Privacy by construction: one report whose every private field holds a unique marker, in a
sensitive category published at 500 m (and again in one published to its ward only), read back
through every public output that exists.
No marker may appear anywhere, and every published point is the snapped one.

Outputs covered: the open-data CSV, GeoJSON and GeoPackage exports and the daily snapshot
(GeoPackage and gzipped CSV); the public API (list and detail); the public map and tracking
pages; OGC API Features items (JSON and HTML, list and one item); a decoded vector tile of the
reports layer; Open311 requests (JSON and XML, list and one request); the Atom feeds of its
ward, its category and the report itself. A face that is not there
(its URL does not resolve) is skipped with its name, so the test grows with the faces.
"""

import gzip
import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.test import TestCase
from django.urls import Resolver404, resolve

from gis.spatial import area_point, snap_point
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import ApiKey, Category, ClientSubmission, Photo, Report
from incidents.read.snapshot import make_snapshot
from incidents.workflow import transition_report
from tests.world import build_world

LON, LAT = 105.723456, 10.023456  # exact point, SRID 4326; the category publishes it at 500 m
PRECISION_M = 500
MARKERS = {
    "reporter name": "Zyxnamemarker",
    "reporter e-mail": "zyx.email.marker@example.vn",
    "reporter phone": "0977 135 246",
    "reporter phone digits": "0977135246",
    "reporter IP": "198.51.100.77",
    "phone in the description": "0912 864 213",
    "e-mail in the description": "zyx.desc.marker@example.vn",
    "ID number in the description": "079203001234",
    "licence plate in the description": "51F-864.21",
    "internal note": "Zyxinternalnotemarker",
    "assigned user": "zyxassigneemarker",
    "unapproved photo": "",  # its uuid, set below
    "Open311 device id": "zyx-device-marker",
    "Open311 account id": "zyx-account-marker",
    "Open311 media URL": "https://zyx-media-marker.example/p.jpg",
    "exact longitude": f"{LON}",
    "exact latitude": f"{LAT}",
}
PRIVATE_KEYS = ("reporter", "reporter_name", "reporter_email", "reporter_phone", "reporter_ip", "priority",
                "assigned_to", "device_id", "account_id")  # Open311's media_url is a public field: its value is checked


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


class OnePrivateReportTests(TestCase):
    ward_only = False  # published on a 500 m grid

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.sensitive = Category.objects.create(code="harassment", group=cls.order_group, name_vi="Quấy rối",
                                                name_en="Harassment", public_location_precision_m=PRECISION_M,
                                                public_location_ward_only=cls.ward_only)
        markers = MARKERS
        cls.report = submit_report(ReportDraft(
            category_code="harassment", lon=LON, lat=LAT, location_accuracy_m=5,
            address=f"gần nhà, gọi {markers['reporter phone']}",
            description=(f"Bị quấy rối, gọi {markers['phone in the description']}, mail "
                         f"{markers['e-mail in the description']}, CCCD {markers['ID number in the description']}, "
                         f"xe {markers['licence plate in the description']}"),
            reporter=Reporter(name=markers["reporter name"], email=markers["reporter e-mail"],
                              phone=markers["reporter phone"]),
            reporter_ip=markers["reporter IP"], source=Report.Source.WEB))
        assignee = get_user_model().objects.create_user(markers["assigned user"], password="x")
        Report.objects.filter(pk=cls.report.pk).update(assigned_to=assignee, priority=Report.Priority.values[-1])
        transition_report(cls.report.pk, "acknowledged", actor=assignee, message=markers["internal note"],
                          is_public=False)
        photo = Photo.objects.create(report=cls.report, uuid="7f0c1b9e-0000-4000-8000-00000000abcd",
                                     image="x.jpg", thumbnail="x-thumb.jpg", content_type="image/jpeg")
        cls.photo_uuid = str(photo.uuid)
        key = ApiKey.objects.create(name="client", prefix="zz", key_hash="0" * 64)
        ClientSubmission.objects.create(report=cls.report, api_key=key, token="tok-privacy",
                                        device_id=markers["Open311 device id"],
                                        account_id=markers["Open311 account id"],
                                        media_url=markers["Open311 media URL"])
        cls.report.refresh_from_db()
        snapped = (area_point(cls.ward_a.pk) if cls.ward_only  # the point is in ward A
                   else snap_point(Point(LON, LAT, srid=4326), PRECISION_M))
        cls.snapped = (round(snapped.x, 6), round(snapped.y, 6))

    def markers(self) -> dict[str, str]:
        return {**MARKERS, "unapproved photo": self.photo_uuid}

    def assert_no_marker(self, body: bytes | str, output: str) -> None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        leaked = [name for name, marker in self.markers().items() if marker in text]
        self.assertEqual(leaked, [], f"{output} publishes private data")

    def assert_no_private_key(self, value, output: str) -> None:
        if isinstance(value, dict):
            self.assertEqual([k for k in value if k in PRIVATE_KEYS], [], f"{output} has private fields")
            for v in value.values():
                self.assert_no_private_key(v, output)
        elif isinstance(value, list):
            for v in value:
                self.assert_no_private_key(v, output)

    def assert_snapped(self, lon: float, lat: float, output: str) -> None:
        self.assertEqual((round(lon, 6), round(lat, 6)), self.snapped, f"{output} publishes an unsnapped point")

    def get(self, url: str, face: str, **headers) -> bytes:
        try:
            resolve(url.split("?")[0])
        except Resolver404:
            pytest.skip(f"the {face} face is not there yet ({url} does not resolve)")
        response = self.client.get(url, **headers)
        self.assertEqual(response.status_code, 200, url)
        return content(response)

    def test_the_private_data_is_really_there_to_leak(self):
        self.assertNotEqual(self.snapped, (LON, LAT))
        self.assertEqual(self.report.reporter_email, MARKERS["reporter e-mail"])
        self.assertIn(MARKERS["licence plate in the description"], self.report.description)

    def test_the_csv_export_publishes_no_private_data_and_the_snapped_point(self):
        body = self.get("/open-data/reports.csv", "open-data")
        self.assert_no_marker(body, "reports.csv")
        self.assertNotIn(b"priority", body)
        lon, lat = body.decode().splitlines()[1].split(",")[-2:]
        self.assert_snapped(float(lon), float(lat), "reports.csv")

    def test_the_geojson_export_publishes_no_private_data_and_the_snapped_point(self):
        collection = json.loads(self.get("/open-data/reports.geojson", "open-data"))
        self.assert_no_marker(json.dumps(collection, ensure_ascii=False), "reports.geojson")
        self.assert_no_private_key(collection, "reports.geojson")
        self.assert_snapped(*collection["features"][0]["geometry"]["coordinates"], "reports.geojson")

    def check_gpkg(self, data: bytes, output: str) -> None:
        self.assert_no_marker(data, output)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "r.gpkg"
            path.write_bytes(data)
            db = sqlite3.connect(path)
            try:
                columns = [row[1] for row in db.execute("PRAGMA table_info(reports)")]
                (row,) = db.execute("SELECT * FROM reports").fetchall()
                (box,) = db.execute("SELECT min_x, min_y FROM gpkg_contents WHERE table_name = 'reports'").fetchall()
            finally:
                db.close()
        self.assertEqual([c for c in columns if c in PRIVATE_KEYS], [], output)
        self.assert_no_marker(repr(row), output)
        self.assert_snapped(*box, output)

    def test_the_geopackage_export_publishes_no_private_data_and_the_snapped_point(self):
        self.check_gpkg(self.get("/open-data/reports.gpkg", "open-data"), "reports.gpkg")

    def test_the_daily_snapshot_publishes_no_private_data(self):
        files = {f.format: f for f in make_snapshot()}
        self.check_gpkg(files["gpkg"].path.read_bytes(), "the snapshot GeoPackage")
        csv_text = gzip.decompress(files["csv.gz"].path.read_bytes()).decode("utf-8-sig")
        self.assert_no_marker(csv_text, "the snapshot CSV")
        self.assert_snapped(*map(float, csv_text.splitlines()[1].split(",")[-2:]), "the snapshot CSV")

    def test_the_public_api_list_and_detail_publish_no_private_data(self):
        for url in ("/api/v1/reports/", f"/api/v1/reports/{self.report.public_id}/"):
            body = json.loads(self.get(url, "api"))
            self.assert_no_marker(json.dumps(body, ensure_ascii=False), url)
            self.assert_no_private_key(body, url)
            feature = body["features"][0] if "features" in body else body
            self.assert_snapped(*feature["geometry"]["coordinates"], url)

    def test_the_public_map_and_tracking_page_publish_no_private_data(self):
        for url in ("/", f"/r/{self.report.public_id}/"):
            self.assert_no_marker(self.get(url, "citizen"), url)

    def test_ogc_items_json_and_html_publish_no_private_data(self):
        base = "/ogc/collections/reports/items"
        items = json.loads(self.get(f"{base}?f=json", "OGC"))
        self.assert_no_marker(json.dumps(items, ensure_ascii=False), "OGC items")
        self.assert_no_private_key(items, "OGC items")
        self.assert_snapped(*items["features"][0]["geometry"]["coordinates"], "OGC items")
        feature_id = items["features"][0]["id"]
        for url in (f"{base}?f=html", f"{base}/{feature_id}?f=json", f"{base}/{feature_id}?f=html"):
            self.assert_no_marker(self.get(url, "OGC"), url)

    def test_a_decoded_vector_tile_publishes_no_private_data(self):
        import mapbox_vector_tile

        from gis.tiles import tile_at

        tile = tile_at(*self.snapped, 16)  # the tile of the published point
        z, x, y = (getattr(tile, name) for name in ("z", "x", "y"))
        layers = mapbox_vector_tile.decode(self.get(f"/tiles/reports/{z}/{x}/{y}.mvt", "tiles"))
        features = [f for layer in layers.values() for f in layer["features"]]
        self.assertTrue(features, "the report's tile holds it")
        self.assert_no_marker(json.dumps(layers, ensure_ascii=False, default=str), "the vector tile")
        self.assert_no_private_key([f["properties"] for f in features], "the vector tile")

    def test_open311_requests_json_and_xml_publish_no_private_data(self):
        for url in ("/open311/v2/requests.json", "/open311/v2/requests.xml",
                    f"/open311/v2/requests/{self.report.public_id}.json",
                    f"/open311/v2/requests/{self.report.public_id}.xml"):
            body = self.get(url, "Open311")
            self.assert_no_marker(body, url)
            if url.endswith(".json"):
                request = json.loads(body)[0]
                self.assert_no_private_key(request, url)
                self.assert_snapped(float(request["long"]), float(request["lat"]), url)

    def test_atom_feeds_of_the_ward_category_and_report_publish_no_private_data(self):
        from xml.etree import ElementTree

        for url in ("/feeds/wards/A.atom", "/feeds/categories/harassment.atom",
                    f"/feeds/reports/{self.report.public_id}.atom"):
            body = self.get(url, "feeds")
            self.assert_no_marker(body, url)
            points = [p.text for p in ElementTree.fromstring(body).iter("{http://www.georss.org/georss}point")]
            self.assertTrue(points, url)
            for point in points:
                lat, lon = map(float, point.split())
                self.assert_snapped(lon, lat, url)


class WardOnlyPrivateReportTests(OnePrivateReportTests):
    """The same report in a category published to its ward only: every output shows the ward's
    point."""

    ward_only = True
