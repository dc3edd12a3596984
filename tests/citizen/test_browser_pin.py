"""A precise pin, in a real browser: a tap zooms to street level and the pin says where it is
in words; the search box finds roads and wards by name without their diacritics."""

import re

import pytest
from playwright.sync_api import expect

from tests.citizen.test_browser import open_form
from tests.world import World, build_world


@pytest.fixture
def city(transactional_db):
    build_world(World)
    return World


def test_a_tap_zooms_to_street_level_and_names_the_ward(city, page, live_server, screenshot):
    open_form(page, live_server)
    page.click(".report .folium-map")
    page.wait_for_function("() => window.citypinMap.getZoom() === 17")
    expect(page.locator("#pin-status")).to_have_text("Ghim tại Phường A")
    screenshot("report-form-pin-at-street-level", full_page=False)


def test_a_pin_by_the_road_names_the_road_and_the_ward(city, page, live_server):
    open_form(page, live_server)
    page.fill("input[name=lat]", "10.0502")
    page.fill("input[name=lon]", "105.73")
    page.locator("input[name=lon]").dispatch_event("change")
    expect(page.locator("#pin-status")).to_have_text("Ghim tại Quốc lộ Thử, Phường A")


def test_the_search_box_finds_a_road_without_its_diacritics(city, page, live_server, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    open_form(page, live_server)
    page.fill("#place-q", "quoc lo thu")
    result = page.locator(".place-results button", has_text="Quốc lộ Thử")
    expect(result).to_be_visible()
    screenshot("report-form-place-search-phone", full_page=False)
    result.click()
    page.wait_for_function("() => window.citypinMap.getZoom() === 16")
    lat = page.evaluate("window.citypinMap.getCenter().lat")
    assert abs(lat - 10.05) < 0.001
    expect(page.locator("#place-search [role=status]")).to_contain_text("chạm")


def test_enter_in_the_search_box_never_sends_the_report(city, page, live_server):
    open_form(page, live_server)
    page.fill("#place-q", "phuong b")
    expect(page.locator(".place-results button").first).to_be_visible()
    page.press("#place-q", "Enter")
    expect(page).to_have_url(re.compile(r"/report/$"))
    expect(page.locator("#error-summary")).to_have_count(0)
