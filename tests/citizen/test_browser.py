"""The citizen's journey in a real browser (Debian's chromium, headless, no internet), against
a live server and a real PostGIS. Screenshots of every page go to test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from incidents.intake import ReportDraft, submit_report
from incidents.models import Report, Supporter
from tests.images import jpeg_bytes
from tests.world import World, build_world, project

CENTER = (105.7469, 10.03)  # CITYPIN_MAP_CENTER: a click in the middle of the map lands here


@pytest.fixture
def city(transactional_db):
    build_world(World)
    lon, lat = project(*CENTER, 20, 90)
    World.existing = submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                                               description="Ổ gà đã có người báo"))
    return World


def photo(lon, lat):
    return {"name": "o-ga.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(lon, lat, size=(320, 240))}


def open_form(page, live_server):
    page.goto(f"{live_server.url}/report/")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_function("() => window.citypinMap !== undefined")


def choose_pothole(page):
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "large")
    page.fill("input[name=attr__pothole__depth_cm]", "12")


def test_citizen_pins_a_pothole_sees_the_existing_report_and_supports_it(city, page, live_server, screenshot):
    open_form(page, live_server)
    page.click(".report .folium-map")  # the middle of the map
    expect(page.locator("input[name=lat]")).to_have_value(re.compile(r"^10\.03"))
    choose_pothole(page)
    page.set_input_files("input[name=photos]", files=[photo(105.7471, 10.0301)])
    card = page.locator(f".card[data-report='{city.existing.public_id}']")
    expect(card).to_be_visible()
    expect(card).to_contain_text("m")
    screenshot("report-form-duplicate-suggestion")
    card.locator("input[type=email]").fill("hang.xom@example.vn")
    card.locator("button.support").click()
    expect(card.locator("[role=status]")).to_contain_text(city.existing.public_id)
    expect(card.locator(".supporter-count")).to_have_text("1 người ủng hộ")  # the card counts the support
    assert Report.objects.count() == 1
    assert Supporter.objects.get().email == "hang.xom@example.vn"
    page.goto(f"{live_server.url}/r/{city.existing.public_id}/")
    expect(page.locator(".supporters")).to_have_text("1")


def test_citizen_takes_the_photo_location_and_submits_a_new_report(city, page, live_server, screenshot):
    open_form(page, live_server)
    choose_pothole(page)
    page.set_input_files("input[name=photos]", files=[photo(105.7301, 10.0402)])
    offer = page.locator("#photo-location button")
    expect(offer).to_be_visible()
    offer.click()
    expect(page.locator("input[name=lat]")).to_have_value("10.040200")
    expect(page.locator("input[name=lon]")).to_have_value("105.730100")
    page.fill("textarea[name=description]", "Ổ gà sâu, <b>nguy hiểm</b>")
    page.fill("input[name=email]", "dan@example.vn")
    screenshot("report-form-filled")
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-\d{4}-\d{6}/$"))
    expect(page.locator(".confirm")).to_be_visible()
    expect(page.locator(".department")).to_have_text("Sở Xây dựng")
    expect(page.locator(".description")).to_contain_text("<b>nguy hiểm</b>")  # shown as text, not markup
    screenshot("tracking-page-confirmation")
    report = Report.objects.latest("id")
    assert (report.source, report.photos.count(), report.ward.code) == ("web", 1, "A")


def test_form_works_without_javascript(city, browser, live_server, screenshot):
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/report/")
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "small")
    page.fill("input[name=lat]", "10.0450")
    page.fill("input[name=lon]", "105.7700")
    screenshot("report-form-without-javascript", of=page)
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-"))
    expect(page.locator(".department")).to_have_text("Sở Xây dựng")
    screenshot("tracking-page-without-javascript", of=page)
    context.close()


def test_language_switch(city, page, live_server, screenshot):
    page.goto(f"{live_server.url}/report/")
    if page.locator("button[name=language][value=vi]:enabled").count():
        page.click("button[name=language][value=vi]")
    expect(page.locator("h1")).to_have_text("Gửi phản ánh")
    page.click("button[name=language][value=en]")
    expect(page.locator("h1")).to_have_text("Report a problem")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot("report-form-english")


def test_public_map_shows_reports_with_escaped_popups(city, page, live_server, screenshot):
    lon, lat = project(*CENTER, 300, 0)
    hostile = submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                                        description='"><img src=x onerror="window.hacked=1">'))
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.citypinMap !== undefined")
    expect(page.locator(".cell-pin").first).to_be_visible()  # zoomed out: counts
    screenshot("public-map-counts", full_page=False)
    page.evaluate(f"window.citypinMap.setView([{lat}, {lon}], 18)")
    marker = page.locator(".status-pin").first
    expect(marker).to_be_visible()
    screenshot("public-map-points", full_page=False)
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text('"><img src=x onerror=')
    expect(popup).to_contain_text(hostile.public_id)
    assert popup.locator("img").count() == 0
    assert page.evaluate("window.hacked") is None and not dialogs


def test_public_map_outlines_a_hotspot(city, page, live_server, screenshot):
    """Eight potholes within about 100 m make a hotspot; the map outlines it (hotspots are shown
    by default) and its popup gives the counts."""
    from incidents.hotspots import helper_sessions, refresh_hotspots

    place = project(*CENTER, 1500, 45)
    for i in range(8):
        lon, lat = project(*place, 10 + 12 * i, 45 * i)
        submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"}), notify=False)
    refresh_hotspots(full=True)
    helper_sessions.close()
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.citypinMap !== undefined")
    page.evaluate(f"window.citypinMap.setView([{place[1]}, {place[0]}], 17, {{animate: false}})")
    page.wait_for_function("() => window.citypinMap.getZoom() === 17")
    page.wait_for_load_state("networkidle")
    outline = page.locator("path.leaflet-interactive[stroke='#e67e22']")
    expect(outline).to_have_count(1)
    screenshot("public-map-hotspot", full_page=False)
    outline.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("8")
    expect(popup).to_contain_text("Ổ gà")
