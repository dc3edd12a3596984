"""Real OGC API – Features clients against a live server: GDAL's OGR OAPIF driver (what QGIS
builds on) and OWSLib read every report, page after page, and agree with the raw HTTP count;
the landing and items pages open in a browser."""

import json
import os
import subprocess
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

import pytest
from owslib.ogcapi.features import Features
from playwright.sync_api import expect

from tests.ogc.world import plant_reports
from tests.world import World, build_world

REPORTS = 45  # with pages of 10: five pages, the last one short
PAGE = 10
LOCAL = {**os.environ, "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1"}


@pytest.fixture
def city(transactional_db):
    build_world(World)
    World.reports = plant_reports(REPORTS)
    return World


@pytest.fixture
def no_proxy(monkeypatch):
    for name, value in LOCAL.items():
        if name.lower() == "no_proxy":
            monkeypatch.setenv(name, value)


def raw_count(base: str) -> int:
    """Features of the reports collection, following `next` over plain HTTP."""
    url, seen = f"{base}/ogc/collections/reports/items?limit={PAGE}", []
    while url:
        with urlopen(Request(url, headers={"Accept": "application/geo+json"})) as response:  # noqa: S310 (loopback)
            body = json.load(response)
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen))
    return len(seen)


def gdal(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=LOCAL, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_the_collections_and_reads_every_report_page_by_page(city, live_server, no_proxy):
    landing = f"OAPIF:{live_server.url}/ogc/"
    summary = gdal("ogrinfo", "-ro", "-al", "-so", landing)
    for layer in ("reports", "incidents", "hotspots", "areas"):
        assert f"Layer name: {layer}" in summary
    features = gdal("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", landing, "reports", "-oo", f"PAGE_SIZE={PAGE}")
    collection = json.loads(features)
    ids = [f["properties"]["public_id"] for f in collection["features"]]
    assert len(ids) == len(set(ids)) == raw_count(live_server.url) == REPORTS
    assert {r.public_id for r in city.reports} == set(ids)


def test_owslib_reads_every_report_following_the_cursor(city, live_server, no_proxy):
    api = Features(f"{live_server.url}/ogc/")
    assert {c["id"] for c in api.collections()["collections"]} == {"reports", "incidents", "hotspots", "areas"}
    assert api.collection("reports")["itemType"] == "feature"
    seen, params = [], {"limit": PAGE}
    while True:
        page = api.collection_items("reports", **params)
        seen += [f["id"] for f in page["features"]]
        nxt = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        if nxt is None:
            break
        params = {"limit": PAGE, "cursor": parse_qs(urlsplit(nxt).query)["cursor"][0]}
    assert len(seen) == len(set(seen)) == raw_count(live_server.url) == REPORTS
    assert "conf/core" in " ".join(api.conformance()["conformsTo"])


def test_the_landing_and_items_pages_open_in_a_browser(city, page, live_server, screenshot):
    page.goto(f"{live_server.url}/ogc/")
    expect(page.locator("h1")).to_have_text("Dữ liệu mở Citypin")
    screenshot("ogc-landing")
    page.click("a.ogc-card >> nth=0")
    expect(page.locator("h1")).to_have_text("Tập dữ liệu")
    page.click("form.lang button[value=en]")
    expect(page.locator("h1")).to_have_text("Collections")
    screenshot("ogc-collections-en")
    page.click("form.lang button[value=vi]")
    expect(page.locator("h1")).to_have_text("Tập dữ liệu")
    page.goto(f"{live_server.url}/ogc/collections/reports/items?limit=20")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_function("() => window.ogcMap !== undefined")
    expect(page.locator(".ogc-table tbody tr")).to_have_count(20)
    expect(page.locator(".leaflet-interactive")).to_have_count(20)
    screenshot("ogc-items")
    page.click("a[rel=next]")
    expect(page.locator(".ogc-table tbody tr")).to_have_count(20)
    page.click(f".ogc-table a >> text={city.reports[10].public_id}")
    page.wait_for_function("() => window.ogcMap !== undefined")
    expect(page.locator(".ogc-properties")).to_contain_text(city.reports[10].public_id)
    screenshot("ogc-feature")


def test_the_api_documentation_page_renders_the_openapi_document(city, page, live_server, screenshot):
    page.goto(f"{live_server.url}/ogc/api.html")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OGC API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    screenshot("ogc-api-docs")
