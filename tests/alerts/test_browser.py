"""Subscribing in a real browser: tapping the centre of a circle, drawing an area with the
polygon tool, and the page's accessibility (axe-core) in each state. Screenshots land in
test-artifacts/ for people to look at."""

import json

import pytest
from playwright.sync_api import expect

from incidents.models import AreaAlert
from tests.axe import violations
from tests.world import World, build_world


@pytest.fixture
def city(transactional_db):
    build_world(World)
    return World


def open_page(page, live_server):
    page.set_viewport_size({"width": 1000, "height": 1100})
    page.goto(f"{live_server.url}/alerts/")
    page.wait_for_function("() => window.citypinMap !== undefined")


def map_point(page, fx: float, fy: float) -> tuple[float, float]:
    box = page.locator("#alert-map .folium-map").bounding_box()
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def draw(page, corners: list[tuple[float, float]]) -> None:
    """Tap each corner with the polygon tool, then the first again to close the area. A finger
    moves to a corner before it taps, and taps are apart in time, as a person's are (Leaflet.draw
    drops a tap that lands before it has followed the pointer there)."""
    page.click(".leaflet-draw-draw-polygon")
    for fx, fy in [*corners, corners[0]]:
        x, y = map_point(page, fx, fy)
        page.mouse.move(x, y, steps=4)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_timeout(150)


def test_the_page_is_accessible_with_a_ward_chosen(city, page, live_server):
    open_page(page, live_server)
    assert violations(page) == []


def test_a_tap_on_the_map_sets_the_circle_and_subscribes(city, page, live_server, screenshot):
    open_page(page, live_server)
    page.check("input[name=kind][value=circle]")
    expect(page.locator("#alert-map")).to_be_visible()
    page.mouse.click(*map_point(page, 0.5, 0.5))
    expect(page.locator("#map-status")).to_have_text("Đã đặt vòng tròn quanh điểm bạn chạm.")
    assert page.input_value("input[name=lat]") != ""
    page.fill("input[name=radius_m]", "800")
    page.fill("input[name=email]", "lan@example.vn")
    assert violations(page) == []
    screenshot("alerts-circle", full_page=True)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(f"{live_server.url}/alerts/sent/")
    expect(page.locator("h1")).to_have_text("Kiểm tra hộp thư của bạn")
    alert = AreaAlert.objects.get()
    assert (alert.kind, alert.radius_m, alert.confirmed_at) == ("circle", 800, None)


def test_drawing_an_area_subscribes_to_it(city, page, live_server, screenshot):
    open_page(page, live_server)
    page.check("input[name=kind][value=drawn]")
    draw(page, [(0.35, 0.35), (0.65, 0.35), (0.65, 0.65), (0.35, 0.65)])
    expect(page.locator("#map-status")).to_have_text("Đã vẽ vùng.")
    area = json.loads(page.input_value("input[name=area]"))
    assert area["type"] == "Polygon" and len(area["coordinates"][0]) == 5
    page.check("input[name=frequency][value=daily]")
    page.fill("input[name=email]", "lan@example.vn")
    assert violations(page) == []
    screenshot("alerts-drawn-area", full_page=True)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(f"{live_server.url}/alerts/sent/")
    alert = AreaAlert.objects.select_related("drawn_area").get()
    assert (alert.kind, alert.frequency) == ("drawn", "daily")
    assert alert.drawn_area.geom.num_coords == 5


def test_a_refused_send_names_the_field_and_keeps_the_drawing(city, page, live_server, screenshot):
    open_page(page, live_server)
    page.check("input[name=kind][value=drawn]")
    draw(page, [(0.4, 0.4), (0.6, 0.4), (0.5, 0.6)])
    page.fill("input[name=email]", "not-an-address")
    page.click("button[type=submit].primary")
    expect(page.locator("#error-summary")).to_contain_text("Địa chỉ e-mail của bạn")
    expect(page.locator("input[name=kind][value=drawn]")).to_be_checked()
    assert page.input_value("input[name=area]") != ""
    assert violations(page) == []
    screenshot("alerts-refused", full_page=True)
    assert AreaAlert.objects.count() == 0


def test_confirming_and_unsubscribing_pages_are_accessible(city, page, live_server, screenshot):
    from tests.alerts.helpers import in_ward

    alert = in_ward(city.ward_a, confirm=False)
    page.goto(f"{live_server.url}/alerts/confirm/{alert.confirm_token}/")
    assert violations(page) == []
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_have_text("Đã xác nhận thông báo")
    assert violations(page) == []
    page.goto(f"{live_server.url}/alerts/unsubscribe/{alert.unsubscribe_token}/")
    assert violations(page) == []
    screenshot("alerts-unsubscribe", full_page=False)
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_have_text("Đã hủy đăng ký")
    assert violations(page) == []
    assert not AreaAlert.objects.filter(pk=alert.pk).exists()
