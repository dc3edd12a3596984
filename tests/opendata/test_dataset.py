"""The dataset page /open-data/ (vi and en), the daily snapshot files and the catalogue entries
data portals harvest (DCAT-AP JSON-LD, data.json)."""

import hashlib
import json
import re
import sqlite3

from django.core.management import call_command
from django.test import TestCase, override_settings

from incidents import worker
from incidents.intake import ReportDraft, submit_report
from incidents.read.exports import EXPORT_FIELDS
from incidents.read.snapshot import latest_snapshot, make_snapshot, snapshot_dir, snapshot_due
from tests.world import build_world


def jsonld_in(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json" nonce="[^"]+">(.*?)</script>', html, re.S)
    return json.loads(match[1])


class SnapshotTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02,
                                               attributes={"size": "small"}, description="Ổ gà"))

    def setUp(self):
        for path in snapshot_dir().glob("*") if snapshot_dir().exists() else []:
            path.unlink()

    def test_a_snapshot_is_a_geopackage_and_a_gzipped_csv_each_with_its_sha256(self):
        files = make_snapshot()
        self.assertEqual(sorted(f.format for f in files), ["csv.gz", "gpkg"])
        for f in files:
            self.assertEqual(hashlib.sha256(f.path.read_bytes()).hexdigest(), f.sha256)
            self.assertEqual((snapshot_dir() / (f.name + ".sha256")).read_text(), f"{f.sha256}  {f.name}\n")

    def test_the_snapshot_geopackage_holds_every_report(self):
        gpkg = next(f for f in make_snapshot() if f.format == "gpkg")
        db = sqlite3.connect(gpkg.path)
        self.assertEqual(db.execute("SELECT public_id FROM reports").fetchall(), [(self.report.public_id,)])
        db.close()

    def test_the_worker_makes_the_days_snapshot_once(self):
        worker._last_snapshot_try = None
        self.assertTrue(snapshot_due())
        self.assertIn("open-data snapshot: citypin-reports-", worker.run_once())
        self.assertFalse(snapshot_due())
        self.assertNotIn("open-data snapshot", worker.run_once())

    def test_the_command_makes_a_snapshot_now(self):
        call_command("make_open_data_snapshot", stdout=open("/dev/null", "w"))
        self.assertEqual(set(latest_snapshot()), {"gpkg", "csv.gz"})

    def test_a_snapshot_file_is_served_with_its_checksum_as_etag(self):
        gpkg = latest_snapshot().get("gpkg") or next(f for f in make_snapshot() if f.format == "gpkg")
        response = self.client.get(f"/open-data/snapshots/{gpkg.name}")
        self.assertEqual((response.status_code, response["ETag"]), (200, f'"{gpkg.sha256}"'))
        self.assertEqual(b"".join(response.streaming_content), gpkg.path.read_bytes())
        self.assertEqual(self.client.get(f"/open-data/snapshots/{gpkg.name}",
                                         HTTP_IF_NONE_MATCH=f'"{gpkg.sha256}"').status_code, 304)

    def test_the_checksum_file_is_served_for_sha256sum(self):
        gpkg = next(f for f in make_snapshot() if f.format == "gpkg")
        response = self.client.get(f"/open-data/snapshots/{gpkg.name}.sha256")
        self.assertEqual(response.content.decode(), f"{gpkg.sha256}  {gpkg.name}\n")

    def test_the_page_gives_the_number_of_reports(self):
        self.assertIn("<dd>about 1</dd>", self.client.get("/open-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode())

    def test_an_unknown_snapshot_is_404(self):
        self.assertEqual(self.client.get("/open-data/snapshots/citypin-reports-1999-01-01.gpkg").status_code, 404)

    def test_the_page_links_the_latest_snapshot_with_size_and_checksum(self):
        gpkg = next(f for f in make_snapshot() if f.format == "gpkg")
        html = self.client.get("/open-data/").content.decode()
        self.assertIn(f'href="/open-data/snapshots/{gpkg.name}"', html)
        self.assertIn(f'title="{gpkg.sha256}"', html)
        self.assertIn(f'href="/open-data/snapshots/{gpkg.name}.sha256"', html)

    def test_the_catalogue_gives_the_snapshots_byte_size_and_checksum(self):
        gpkg = next(f for f in make_snapshot() if f.format == "gpkg")
        catalog = self.client.get("/open-data/catalog.jsonld").json()
        snapshot = next(d for d in catalog["dcat:dataset"][0]["dcat:distribution"] if d["@id"].endswith(gpkg.name))
        self.assertEqual(snapshot["dcat:byteSize"]["@value"], str(gpkg.size))
        self.assertEqual(snapshot["spdx:checksum"]["spdx:checksumValue"], gpkg.sha256)


class DatasetPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def page(self, lang="vi") -> str:
        response = self.client.get("/open-data/", HTTP_ACCEPT_LANGUAGE=lang)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_the_page_states_the_license_cc_by_by_default(self):
        self.assertIn('<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0</a>', self.page())

    @override_settings(CITYPIN_DATA_LICENSE=("ODbL 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"))
    def test_the_license_is_a_setting(self):
        self.assertIn('rel="license">ODbL 1.0</a>', self.page())

    def test_the_data_dictionary_lists_every_exported_field_with_its_meaning(self):
        html = self.page("en")
        for field in EXPORT_FIELDS:
            self.assertIn(f"<td><code>{field.name}</code></td><td>{field.type}</td>", html)

    def test_the_page_is_in_vietnamese_and_in_english(self):
        self.assertIn("Từ điển dữ liệu", self.page("vi"))
        self.assertIn("Data dictionary", self.page("en"))

    def test_the_page_links_the_exports_and_every_live_service(self):
        html = self.page()
        for url in ("/open-data/reports.csv", "/open-data/reports.geojson", "/open-data/reports.gpkg", "/api/v1/",
                    "/api/docs/", "/open311/v2/discovery.json", "/ogc/", "/tiles/reports/{z}/{x}/{y}.mvt",
                    "/open-data/catalog.jsonld", "/data.json"):
            self.assertIn(url, html)

    def test_the_page_embeds_its_dcat_ap_description_as_json_ld_with_the_csp_nonce(self):
        self.assertEqual(jsonld_in(self.page())["@type"], "dcat:Catalog")

    def test_the_catalogue_describes_one_dataset_with_license_distributions_and_services(self):
        response = self.client.get("/open-data/catalog.jsonld")
        catalog = response.json()
        dataset = catalog["dcat:dataset"][0]
        self.assertEqual(response["Content-Type"], "application/ld+json; charset=utf-8")
        self.assertEqual(dataset["dct:license"]["@id"], "https://creativecommons.org/licenses/by/4.0/")
        self.assertEqual({d["dct:format"]["@id"].rsplit("/", 1)[1] for d in dataset["dcat:distribution"]},
                         {"CSV", "GEOJSON", "GPKG"})
        self.assertEqual(len(catalog["dcat:service"]), 4)
        self.assertEqual({t["@language"] for t in dataset["dct:title"]}, {"vi", "en"})
        self.assertEqual(dataset["dct:publisher"]["foaf:name"], "Trung tâm IOC")

    def test_data_json_is_a_project_open_data_catalogue(self):
        catalog = self.client.get("/data.json").json()
        dataset = catalog["dataset"][0]
        self.assertEqual(catalog["conformsTo"], "https://project-open-data.cio.gov/v1.1/schema")
        for key in ("title", "description", "keyword", "modified", "publisher", "contactPoint", "identifier",
                    "accessLevel", "license", "distribution"):
            self.assertIn(key, dataset)
        self.assertTrue(all(d["downloadURL"].startswith("http://testserver/") for d in dataset["distribution"]))

    def test_catalogues_are_open_to_any_origin(self):
        for url in ("/open-data/", "/open-data/catalog.jsonld", "/data.json"):
            self.assertEqual(self.client.get(url)["Access-Control-Allow-Origin"], "*")
