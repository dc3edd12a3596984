"""Bulk exports of the public projection: /open-data/reports.csv, .geojson and .gpkg — every
public field and nothing else, filtered like the API, formula cells defused, a BOM on request,
an ETag that answers 304, CORS open and a per-IP limit."""

import csv
import io
import json
import sqlite3
import tempfile
from pathlib import Path

from django.test import TestCase, override_settings
from django.utils import timezone

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.read.exports import COLUMNS, MAX_GPKG_REPORTS
from incidents.read.public import REPORT_FIELDS
from tests.world import build_world

CSV, GEOJSON, GPKG = "/open-data/reports.csv", "/open-data/reports.geojson", "/open-data/reports.gpkg"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))


class ExportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.pothole_report = submit_report(ReportDraft(
            category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"},
            description="=HYPERLINK(\"http://evil\") ổ gà, gọi 0909 123 456", reporter=Reporter(name="Nguyễn Văn A")))
        cls.encroachment_report = submit_report(ReportDraft(
            category_code="encroachment", lon=105.77, lat=10.03, attributes={}, description='Quán "Bà Tư" lấn vỉa hè'))

    def test_the_csv_has_a_column_for_every_public_field_then_lon_and_lat(self):
        header = body(self.client.get(CSV)).decode().splitlines()[0]
        self.assertEqual(header.split(","), [f.name for f in REPORT_FIELDS] + ["lon", "lat"])

    def test_the_csv_holds_every_report_with_its_public_values(self):
        by_id = {r["public_id"]: r for r in rows(self.client.get(CSV))}
        row = by_id[self.pothole_report.public_id]
        self.assertEqual(set(by_id), {self.pothole_report.public_id, self.encroachment_report.public_id})
        self.assertEqual((row["category"], row["department"], row["ward"], row["status"]),
                         ("pothole", "construction", "A", "new"))
        self.assertEqual((float(row["lon"]), float(row["lat"])), (105.72, 10.02))
        self.assertTrue(row["created_at"].startswith(self.pothole_report.created_at.date().isoformat() + "T"))

    def test_quotes_in_text_survive_the_csv(self):
        row = next(r for r in rows(self.client.get(CSV)) if r["category"] == "encroachment")
        self.assertEqual(row["description"], 'Quán "Bà Tư" lấn vỉa hè')

    def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused(self):
        row = next(r for r in rows(self.client.get(CSV)) if r["category"] == "pothole")
        self.assertTrue(row["description"].startswith("'=HYPERLINK"))

    def test_text_is_the_scrubbed_public_copy(self):
        self.assertNotIn(b"0909", body(self.client.get(CSV)))

    def test_the_csv_is_utf8_without_bom_unless_asked(self):
        self.assertFalse(body(self.client.get(CSV)).startswith(b"\xef\xbb\xbf"))
        self.assertTrue(body(self.client.get(CSV, {"bom": "1"})).startswith(b"\xef\xbb\xbfpublic_id,"))

    def test_a_bad_bom_value_is_refused_naming_it(self):
        response = self.client.get(CSV, {"bom": "maybe"})
        self.assertEqual((response.status_code, list(response.json())), (400, ["bom"]))

    def test_the_csv_is_an_attachment_with_a_dated_file_name(self):
        response = self.client.get(CSV)
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertRegex(response["Content-Disposition"], r'^attachment; filename="citypin-reports-\d{4}-\d\d-\d\d\.csv"$')

    def test_a_filtered_extract_is_named_as_one(self):
        response = self.client.get(CSV, {"category": "pothole"})
        self.assertIn("-extract.csv", response["Content-Disposition"])

    def test_filters_by_category(self):
        self.assertEqual([r["category"] for r in rows(self.client.get(CSV, {"category": "encroachment"}))],
                         ["encroachment"])

    def test_filters_by_area(self):
        self.assertEqual([r["ward"] for r in rows(self.client.get(CSV, {"area": "B"}))], ["B"])

    def test_filters_by_date_range(self):
        day = timezone.localtime(self.pothole_report.created_at).date()  # a date filter means the city's day
        self.assertEqual(len(rows(self.client.get(CSV, {"created_after": day.isoformat(),
                                                        "created_before": day.isoformat()}))), 2)
        self.assertEqual(rows(self.client.get(CSV, {"created_before": "2000-01-01"})), [])

    def test_a_bad_date_is_refused_naming_the_parameter(self):
        response = self.client.get(GEOJSON, {"created_after": "yesterday"})
        self.assertEqual((response.status_code, list(response.json())), (400, ["created_after"]))

    def test_names_follow_the_language_asked_for(self):
        row = next(r for r in rows(self.client.get(CSV, HTTP_ACCEPT_LANGUAGE="en")) if r["category"] == "pothole")
        self.assertEqual(row["category_name"], "Pothole")

    def test_the_geojson_is_a_feature_collection_of_public_fields_at_the_public_point(self):
        response = self.client.get(GEOJSON)
        collection = json.loads(body(response))
        self.assertEqual(response["Content-Type"], "application/geo+json")
        self.assertEqual(collection["type"], "FeatureCollection")
        feature = next(f for f in collection["features"] if f["id"] == self.pothole_report.public_id)
        self.assertEqual(feature["geometry"], {"type": "Point", "coordinates": [105.72, 10.02]})
        self.assertEqual(list(feature["properties"]), [f.name for f in REPORT_FIELDS])

    def test_backslashes_quotes_tabs_and_line_breaks_survive_the_geojson(self):
        text = 'Cống\\hở "to"\n\tgần chợ \\n'
        report = submit_report(ReportDraft(category_code="encroachment", lon=105.77, lat=10.04, attributes={},
                                           description=text))
        collection = json.loads(body(self.client.get(GEOJSON)))
        feature = next(f for f in collection["features"] if f["id"] == report.public_id)
        self.assertEqual(feature["properties"]["description"], text)

    def test_line_breaks_in_text_stay_inside_their_csv_cell(self):
        report = submit_report(ReportDraft(category_code="encroachment", lon=105.77, lat=10.04, attributes={},
                                           description="dòng một\ndòng hai, \"ba\""))
        row = next(r for r in rows(self.client.get(CSV)) if r["public_id"] == report.public_id)
        self.assertEqual(row["description"], 'dòng một\ndòng hai, "ba"')

    def test_an_empty_geojson_extract_is_still_valid(self):
        collection = json.loads(body(self.client.get(GEOJSON, {"category": "nothing-such"})))
        self.assertEqual(collection, {"type": "FeatureCollection", "features": []})

    def test_an_export_has_an_etag_and_answers_304_when_the_client_has_it(self):
        etag = self.client.get(CSV)["ETag"]
        self.assertEqual(self.client.get(CSV, HTTP_IF_NONE_MATCH=etag).status_code, 304)

    def test_the_etag_differs_by_format_filters_and_language(self):
        etags = {self.client.get(CSV)["ETag"], self.client.get(GEOJSON)["ETag"],
                 self.client.get(CSV, {"category": "pothole"})["ETag"],
                 self.client.get(CSV, HTTP_ACCEPT_LANGUAGE="en")["ETag"]}
        self.assertEqual(len(etags), 4)

    def test_the_etag_changes_when_a_report_changes(self):
        etag = self.client.get(CSV)["ETag"]
        self.encroachment_report.save()  # bumps updated_at
        self.assertEqual(self.client.get(CSV, HTTP_IF_NONE_MATCH=etag).status_code, 200)

    def test_the_etag_changes_when_a_category_is_renamed(self):
        etag = self.client.get(CSV)["ETag"]
        self.pothole.name_vi = "Ổ gà (đường)"
        self.pothole.save()
        self.assertEqual(self.client.get(CSV, HTTP_IF_NONE_MATCH=etag).status_code, 200)

    def test_exports_are_open_to_any_origin(self):
        for url in (CSV, GEOJSON, GPKG):
            self.assertEqual(self.client.get(url)["Access-Control-Allow-Origin"], "*", url)

    def test_exports_refuse_writes(self):
        self.assertEqual(self.client.post(CSV).status_code, 405)


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"open_data_read": "2/min"}})
class ExportLimitTests(TestCase):
    def test_too_many_reads_from_one_address_answer_429_with_retry_after(self):
        for url in (CSV, "/open-data/", GEOJSON):
            self.client.get(url, REMOTE_ADDR="203.0.113.9")
        response = self.client.get(CSV, REMOTE_ADDR="203.0.113.9")
        self.assertEqual(response.status_code, 429)
        self.assertGreaterEqual(int(response["Retry-After"]), 1)
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")

    def test_another_address_is_not_slowed_by_the_first(self):
        for _ in range(3):
            self.client.get("/open-data/catalog.jsonld", REMOTE_ADDR="203.0.113.9")
        self.assertEqual(self.client.get("/open-data/catalog.jsonld", REMOTE_ADDR="203.0.113.10").status_code, 200)


class GeoPackageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}, description="Ổ gà"))

    def layer(self, response) -> tuple[list[str], list[tuple]]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "r.gpkg"
            path.write_bytes(body(response))
            db = sqlite3.connect(path)
            try:
                names = [row[1] for row in db.execute("PRAGMA table_info(reports)")]
                srs = db.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'reports'").fetchall()
                return names, srs + db.execute("SELECT public_id, category FROM reports").fetchall()
            finally:
                db.close()

    def test_a_geopackage_holds_a_reports_layer_of_the_public_fields_in_wgs84(self):
        response = self.client.get(GPKG)
        names, found = self.layer(response)
        self.assertEqual(response["Content-Type"], "application/geopackage+sqlite3")
        self.assertTrue(set(f.name for f in REPORT_FIELDS) <= set(names), names)
        self.assertEqual(found, [(4326,), (self.report.public_id, "pothole")])

    def test_a_geopackage_extract_is_filtered(self):
        _, found = self.layer(self.client.get(GPKG, {"category": "encroachment"}))
        self.assertEqual(found, [(4326,)])

    def test_a_geopackage_too_large_to_build_per_request_is_refused_pointing_to_the_snapshot(self):
        from unittest import mock

        with mock.patch("incidents.opendata.views.MAX_GPKG_REPORTS", 0):
            response = self.client.get(GPKG)
        self.assertEqual(response.status_code, 400)
        self.assertIn("snapshot", response.json())

    def test_columns_are_those_of_the_projection(self):
        self.assertEqual(COLUMNS[-2:], ("lon", "lat"))
        self.assertGreater(MAX_GPKG_REPORTS, 0)
