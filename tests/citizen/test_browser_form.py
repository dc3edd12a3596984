"""The report form never loses work, in a real browser: the draft survives a language switch
and a reload, a refused submission keeps its photo and moves focus to the error summary."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Report
from tests.citizen.test_browser import open_form, photo
from tests.world import World, build_world


@pytest.fixture
def city(transactional_db):
    build_world(World)
    return World


def start_a_report(page):
    page.click(".report .folium-map")
    expect(page.locator("input[name=lat]")).to_have_value(re.compile(r"^10\.03"))
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "large")
    page.fill("textarea[name=description]", "Ổ gà sâu trước chợ")
    page.fill("input[name=name]", "Trần Thị B")


def test_the_draft_survives_a_language_switch(city, page, live_server, screenshot):
    open_form(page, live_server)
    start_a_report(page)
    page.click("button[name=language][value=en]")
    expect(page.locator("h1")).to_have_text("Report a problem")
    expect(page.locator("textarea[name=description]")).to_have_value("Ổ gà sâu trước chợ")
    expect(page.locator("select[name=category]")).to_have_value("pothole")
    expect(page.locator("select[name=attr__pothole__size]")).to_have_value("large")
    expect(page.locator("input[name=lat]")).to_have_value(re.compile(r"^10\.03"))
    expect(page.locator("input[name=name]")).to_have_value("Trần Thị B")
    expect(page.locator(".draft-restored")).to_be_visible()
    page.wait_for_function("window.citypinMap !== undefined")
    expect(page.locator(".report .leaflet-marker-icon")).to_have_count(1)  # the pin is back
    screenshot("report-form-draft-restored-english")


def test_the_draft_survives_a_reload_and_start_over_clears_it(city, page, live_server):
    open_form(page, live_server)
    start_a_report(page)
    page.reload()
    expect(page.locator("textarea[name=description]")).to_have_value("Ổ gà sâu trước chợ")
    page.click(".draft-restored button")
    page.wait_for_load_state("load")
    expect(page.locator("textarea[name=description]")).to_have_value("")
    expect(page.locator("select[name=category]")).to_have_value("")


def test_the_draft_is_cleared_once_the_report_is_sent(city, page, live_server):
    open_form(page, live_server)
    start_a_report(page)
    page.fill("input[name=attr__pothole__depth_cm]", "12")
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-"))
    expect(page.locator(".confirm")).to_be_visible()
    page.goto(f"{live_server.url}/report/")
    expect(page.locator("textarea[name=description]")).to_have_value("")
    expect(page.locator(".draft-restored")).to_have_count(0)


def test_a_refused_report_keeps_its_photo_and_focuses_the_summary(city, page, live_server, screenshot):
    open_form(page, live_server)
    page.click(".report .folium-map")
    page.fill("textarea[name=description]", "Không chọn loại")
    page.set_input_files("input[name=photos]", files=[photo(105.7471, 10.0301)])
    page.click("form.report button[type=submit]")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.locator(".kept-photos")).to_contain_text("o-ga.jpg")
    screenshot("report-form-error-summary")
    summary.locator("a[href='#id_category']").click()
    expect(page.locator("select[name=category]")).to_be_focused()
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "small")
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-"))
    assert Report.objects.get().photos.count() == 1


def test_without_javascript_a_refused_report_keeps_its_photo(city, browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/report/")
    page.fill("input[name=lat]", "10.0450")
    page.fill("input[name=lon]", "105.7700")
    page.set_input_files("input[name=photos]", files=[photo(105.77, 10.045)])
    page.click("form.report button[type=submit]")
    expect(page.locator("#error-summary")).to_be_focused()
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "small")
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-"))
    assert Report.objects.get().photos.count() == 1
    context.close()
