"""The public map's zoomed-out counts come from the aggregate API, which reads the grid counts
the database keeps for the vector tiles (one request per view: fewer bytes and less server time
than the view's tiles, bench/tiles.py part 3); zoomed in, the points from the GeoJSON API. In a
real browser (Debian's chromium), against a live server and a real PostGIS; screenshots go to
test-artifacts/."""

import pytest
from playwright.sync_api import expect

from incidents.intake import ReportDraft, submit_report
from tests.citizen.test_browser import CENTER
from tests.world import World, build_world, project

EAST = (CENTER[0] + 0.0365, CENTER[1])  # 4 km east, in ward B: its own count at the opening zoom (12)


@pytest.fixture
def city(transactional_db):
    build_world(World)
    for i in range(5):
        lon, lat = project(*CENTER, 15 + 20 * i, 70 * i)
        submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"}), notify=False)
    for i in range(3):
        lon, lat = project(*EAST, 15 + 20 * i, 120 * i)
        submit_report(ReportDraft(category_code="encroachment", lon=lon, lat=lat), notify=False)
    return World


@pytest.fixture
def requests_seen(page):
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def open_map(page, live_server):
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.citypinMap !== undefined")


def counts_shown(page) -> list[int]:
    return sorted(int(t) for t in page.locator(".cell-pin span").all_text_contents())


def test_zoomed_out_the_map_shows_the_counts_in_one_request_per_view(city, page, live_server, requests_seen,
                                                                     screenshot):
    open_map(page, live_server)
    expect(page.locator(".cell-pin")).to_have_count(2)
    assert counts_shown(page) == [3, 5]
    expect(page.locator("#map-status")).to_contain_text("8 phản ánh")
    assert len([url for url in requests_seen if "/api/v1/reports/aggregate/?" in url]) == 1
    assert not any("/tiles/" in url or "/api/v1/reports/?" in url for url in requests_seen)
    screenshot("public-map-counts-zoomed-out", full_page=False)


def test_a_count_tells_its_reports_and_zooms_in_when_clicked(city, page, live_server):
    open_map(page, live_server)
    five = page.locator(".cell-pin", has_text="5")
    expect(five).to_have_attribute("title", "5 phản ánh, 5 đang mở")
    five.click()
    page.wait_for_function("() => window.citypinMap.getZoom() === 14")
    expect(page.locator("#map-status")).to_have_text("8 phản ánh")  # points (markers or their clusters), both places
    expect(page.locator(".cell-pin")).to_have_count(0)


def test_zoomed_in_the_map_shows_points_from_the_api(city, page, live_server, requests_seen, screenshot):
    open_map(page, live_server)
    expect(page.locator(".cell-pin")).to_have_count(2)
    requests_seen.clear()
    page.evaluate(f"window.citypinMap.setView([{CENTER[1]}, {CENTER[0]}], 19, {{animate: false}})")
    expect(page.locator("#map-status")).to_have_text("5 phản ánh")
    expect(page.locator(".status-pin").first).to_be_visible()
    expect(page.locator(".cell-pin")).to_have_count(0)
    assert any("/api/v1/reports/?" in url for url in requests_seen)
    assert not any("/aggregate/" in url for url in requests_seen)
    screenshot("public-map-points-zoomed-in", full_page=False)


@pytest.mark.parametrize(("select", "value", "shown"), [("#f-category", "encroachment", [3]),
                                                       ("#f-status", "resolved", [])])
def test_a_filter_changes_the_counts(city, page, live_server, requests_seen, screenshot, select, value, shown):
    open_map(page, live_server)
    expect(page.locator(".cell-pin")).to_have_count(2)
    page.select_option(select, value)
    expect(page.locator(".cell-pin")).to_have_count(len(shown))
    assert counts_shown(page) == shown
    expect(page.locator("#map-status")).to_contain_text(f"{sum(shown)} phản ánh")
    assert any("/api/v1/reports/aggregate/?" in url and f"={value}" in url for url in requests_seen)
    screenshot(f"public-map-counts-filtered-{value}", full_page=False)
    page.select_option(select, "")
    expect(page.locator(".cell-pin")).to_have_count(2)
    assert counts_shown(page) == [3, 5]


def test_panning_recounts_the_view(city, page, live_server):
    open_map(page, live_server)
    expect(page.locator(".cell-pin")).to_have_count(2)
    # The view's east edge between the two places: the status line counts what is in the view.
    page.evaluate(f"""() => {{
      const m = window.citypinMap, b = m.getBounds(), half = (b.getEast() - b.getWest()) / 2;
      m.setView([{CENTER[1]}, {CENTER[0] + 0.018} - half], 12, {{animate: false}});
    }}""")
    expect(page.locator(".cell-pin")).to_have_count(1)
    expect(page.locator("#map-status")).to_contain_text("5 phản ánh")


def test_zooming_in_a_level_redraws_the_counts(city, page, live_server):
    open_map(page, live_server)
    expect(page.locator(".cell-pin")).to_have_count(2)
    page.evaluate("window.citypinMap.zoomIn(1)")  # animated, as a tap on + does
    page.wait_for_function("() => window.citypinMap.getZoom() === 13")
    expect(page.locator("#map-status")).to_contain_text("8 phản ánh")
    assert counts_shown(page) == [3, 5]


def test_counts_that_cannot_be_loaded_say_so(city, page, live_server):
    page.route("**/api/v1/reports/aggregate/**", lambda route: route.fulfill(status=429, body="{}",
                                                                             headers={"Retry-After": "60"}))
    open_map(page, live_server)
    expect(page.locator("#map-status")).to_have_text("Không tải được các phản ánh.")
