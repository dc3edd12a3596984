"""The dataset page in a real browser: it renders in Vietnamese and English with its embedded
DCAT-AP block and breaks no Content-Security-Policy rule. Screenshots go to test-artifacts/."""

import json

import pytest
from playwright.sync_api import expect

from incidents.intake import ReportDraft, submit_report
from incidents.read.snapshot import make_snapshot
from tests.world import World, build_world


@pytest.fixture
def city(transactional_db):
    build_world(World)
    submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "small"},
                              description="Ổ gà"))
    make_snapshot()
    return World


def test_the_dataset_page_shows_license_downloads_and_dictionary_in_vietnamese(city, page, live_server, screenshot):
    page.goto(f"{live_server.url}/open-data/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dữ liệu mở")
    expect(page.locator("a[rel=license]")).to_have_text("CC BY 4.0")
    expect(page.locator("table.downloads tbody tr")).to_have_count(5)
    expect(page.locator("table.dictionary tbody tr").first).to_contain_text("public_id")
    catalog = json.loads(page.locator("script[type='application/ld+json']").text_content())
    assert catalog["@type"] == "dcat:Catalog"
    screenshot("opendata-dataset-vi")


def test_the_dataset_page_switches_to_english(city, page, live_server, screenshot):
    page.goto(f"{live_server.url}/open-data/")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Data dictionary")).to_be_visible()
    screenshot("opendata-dataset-en")
