"""Every citizen page, on a phone and on a desktop, passes axe-core with no violation of any
impact; screenshots of each go to test-artifacts/ for people to look at."""

import re

import pytest
from playwright.sync_api import expect

from incidents.intake import ReportDraft, submit_report
from tests.axe import violations
from tests.citizen.test_browser import CENTER, open_form, photo
from tests.world import World, build_world, project

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def city(transactional_db):
    build_world(World)
    lon, lat = project(*CENTER, 20, 90)
    World.existing = submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                                               description="Ổ gà đã có người báo"), notify=False)
    return World


def settle(page):
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("size", SIZES)
def test_the_public_map_has_no_accessibility_violation(city, page, live_server, screenshot, size):
    page.set_viewport_size(SIZES[size])
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.citypinMap !== undefined")
    expect(page.locator(".cell-pin").first).to_be_visible()
    settle(page)
    screenshot(f"a11y-public-map-{size}", full_page=False)
    assert violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_the_public_map_zoomed_in_has_no_accessibility_violation(city, page, live_server, size):
    page.set_viewport_size(SIZES[size])
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.citypinMap !== undefined")
    page.evaluate(f"window.citypinMap.setView([{CENTER[1]}, {CENTER[0]}], 18, {{animate: false}})")
    expect(page.locator(".status-pin").first).to_be_visible()
    settle(page)
    box = page.locator(".status-pin").first.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44  # a finger's touch target
    assert violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_the_report_form_has_no_accessibility_violation(city, page, live_server, screenshot, size):
    page.set_viewport_size(SIZES[size])
    open_form(page, live_server)
    page.click(".report .folium-map")
    page.select_option("select[name=category]", "pothole")
    expect(page.locator(f".card[data-report='{city.existing.public_id}']")).to_be_visible()
    settle(page)
    screenshot(f"a11y-report-form-{size}")
    assert violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_the_refused_report_form_has_no_accessibility_violation(city, page, live_server, screenshot, size):
    page.set_viewport_size(SIZES[size])
    open_form(page, live_server)
    page.set_input_files("input[name=photos]", files=[photo(105.7471, 10.0301)])
    page.click("form.report button[type=submit]")
    expect(page.locator("#error-summary")).to_be_focused()
    settle(page)
    screenshot(f"a11y-report-form-errors-{size}")
    assert violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_the_confirmation_and_tracking_page_have_no_accessibility_violation(city, page, live_server, screenshot,
                                                                            size):
    page.set_viewport_size(SIZES[size])
    open_form(page, live_server)
    page.click(".report .folium-map")
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "small")
    page.set_input_files("input[name=photos]", files=[photo(105.7471, 10.0301)])
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-"))
    settle(page)
    screenshot(f"a11y-confirmation-{size}")
    assert violations(page) == []
    page.reload()
    settle(page)
    screenshot(f"a11y-tracking-{size}")
    assert violations(page) == []
