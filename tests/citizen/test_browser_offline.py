"""Offline and installable, in a real browser: the service worker installs; with no connection
the map and the form open from it; a report made offline waits on the phone with its photo and
is sent once when the connection returns, never twice. Screenshots go to test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Photo, Report
from tests.axe import violations
from tests.citizen.test_browser import open_form, photo
from tests.world import World, build_world

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def city(transactional_db):
    build_world(World)
    return World


def worker_in_control(page, live_server, path="/"):
    """Opens `path` and waits until the service worker has precached the shell and controls it."""
    page.goto(f"{live_server.url}{path}")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def go_offline(page):
    page.context.set_offline(True)
    page.wait_for_function("() => navigator.onLine === false")


def test_the_manifest_the_page_links_is_valid_json_with_what_installing_needs(city, page, live_server):
    page.goto(f"{live_server.url}/")
    manifest = page.evaluate("() => fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert (manifest["start_url"], manifest["display"], manifest["lang"]) == ("/", "standalone", "vi")
    assert manifest["name"] == "Citypin: phản ánh vấn đề đô thị"
    assert {i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"} == {"192x192", "512x512"}


def test_the_service_worker_installs_and_controls_the_citizen_pages(city, page, live_server):
    worker_in_control(page, live_server)
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    cached = page.evaluate("() => caches.keys().then(ks => caches.open(ks[0])).then(c => c.keys())"
                           ".then(rs => rs.map(r => new URL(r.url).pathname))")
    assert {"/", "/report/", "/offline/"} <= set(cached)


def test_the_service_worker_keeps_no_staff_page_and_no_api_answer(city, page, live_server):
    worker_in_control(page, live_server)
    page.evaluate("() => fetch('/api/v1/categories/').then(r => r.json())")
    page.goto(f"{live_server.url}/console/login/")
    page.goto(f"{live_server.url}/report/")
    page.wait_for_load_state("networkidle")
    cached = page.evaluate("() => caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
                           ".then(lists => lists.flat().map(r => new URL(r.url).pathname))")
    assert "/report/" in cached
    assert [path for path in cached if path.startswith(("/console", "/api", "/admin"))] == []


def test_the_map_and_the_form_open_with_no_connection(city, page, live_server, screenshot):
    worker_in_control(page, live_server)
    go_offline(page)
    page.goto(f"{live_server.url}/report/")
    expect(page.locator("h1")).to_have_text("Gửi phản ánh")
    page.wait_for_function("() => window.citypinMap !== undefined")  # Leaflet came from the cache too
    page.goto(f"{live_server.url}/")
    page.wait_for_function("() => window.citypinMap !== undefined")
    screenshot("offline-public-map", full_page=False)


def test_a_page_never_opened_shows_the_offline_page_with_no_connection(city, page, live_server, screenshot):
    worker_in_control(page, live_server)
    go_offline(page)
    page.goto(f"{live_server.url}/r/CT-2026-999999/")
    expect(page.locator("h1")).to_have_text("Không có kết nối")
    screenshot("offline-page", full_page=False)
    assert violations(page) == []


def fill_a_report_offline(page, live_server, description):
    page.set_viewport_size(PHONE)
    worker_in_control(page, live_server, "/report/")
    open_form(page, live_server)
    go_offline(page)
    page.click(".report .folium-map")
    expect(page.locator("input[name=lat]")).to_have_value(re.compile(r"^10\.03"))
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "small")
    page.fill("textarea[name=description]", description)
    page.set_input_files("input[name=photos]", files=[photo(105.7471, 10.0301)])
    page.click("form.report button[type=submit]")


def test_a_report_made_offline_waits_then_is_sent_once_with_its_photo(city, page, live_server, screenshot):
    fill_a_report_offline(page, live_server, "Ổ gà, gửi khi không có mạng")
    status = page.locator("#outbox")
    expect(status.locator(".waiting")).to_contain_text("Đang chờ gửi")
    expect(status).to_be_focused()
    expect(page.locator("textarea[name=description]")).to_have_value("")  # a fresh form for the next one
    screenshot("offline-report-waiting", full_page=False)
    assert violations(page) == []
    assert Report.objects.count() == 0

    page.context.set_offline(False)
    expect(status.locator(".sent a")).to_have_text(re.compile(r"^CT-\d{4}-\d{6}$"))
    screenshot("offline-report-sent", full_page=False)
    assert violations(page) == []
    report = Report.objects.get()
    assert (report.description, Photo.objects.filter(report=report).count()) == ("Ổ gà, gửi khi không có mạng", 1)
    expect(status.locator(".sent a")).to_have_text(report.public_id)
    expect(status.locator(".waiting")).to_have_count(0)

    link = status.locator(".sent a").get_attribute("href")

    go_offline(page)  # a second loss and return of the connection sends nothing again
    page.context.set_offline(False)
    page.wait_for_function("() => navigator.onLine === true")
    page.reload()
    page.wait_for_function("() => window.citypinMap !== undefined")
    page.wait_for_load_state("networkidle")
    assert Report.objects.count() == 1
    assert link == f"/r/{report.public_id}/"


def test_a_report_kept_offline_is_sent_when_the_next_page_opens(city, page, live_server):
    fill_a_report_offline(page, live_server, "Đèn đường hỏng, gửi sau")
    expect(page.locator("#outbox .waiting")).to_be_visible()
    page.goto("about:blank")  # the form's page is gone before the connection returns
    page.context.set_offline(False)
    page.goto(f"{live_server.url}/")
    expect(page.locator("#outbox .sent a")).to_be_visible()
    assert Report.objects.filter(description="Đèn đường hỏng, gửi sau").count() == 1


def test_a_send_whose_answer_is_lost_is_sent_again_and_makes_one_report(city, page, live_server):
    fill_a_report_offline(page, live_server, "Cây đổ, câu trả lời bị mất")
    expect(page.locator("#outbox .waiting")).to_be_visible()
    posts = []

    def lose_the_answer(route):
        posts.append(route.request.headers.get("idempotency-key"))
        route.fetch()  # the server creates the report…
        route.abort()  # …and its answer never reaches the phone

    # On the context, not the page: the send may come from the service worker (Background Sync),
    # whose requests a page's route and events never see.
    page.context.route("**/report/", lambda route: lose_the_answer(route)
                       if route.request.method == "POST" and not posts else route.fallback())
    with page.context.expect_event("requestfailed", lambda request: request.method == "POST"):
        page.context.set_offline(False)
    expect(page.locator("#outbox .waiting")).to_be_visible()  # still waiting: it does not know
    assert Report.objects.count() == 1
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # the next try
    expect(page.locator("#outbox .sent a")).to_have_text(Report.objects.get().public_id)
    assert Report.objects.count() == 1
    assert len(posts) == 1 and len(posts[0]) == 32


def test_a_report_made_offline_that_the_server_refuses_goes_back_to_the_form(city, page, live_server, screenshot):
    page.set_viewport_size(PHONE)
    worker_in_control(page, live_server, "/report/")
    open_form(page, live_server)
    go_offline(page)
    page.fill("textarea[name=description]", "Không chọn loại vấn đề")  # no category: the server refuses
    page.click("form.report button[type=submit]")
    expect(page.locator("#outbox .waiting")).to_be_visible()
    page.context.set_offline(False)
    refused = page.locator("#outbox .refused")
    expect(refused).to_contain_text("Chưa được chấp nhận")
    screenshot("offline-report-refused", full_page=False)
    assert Report.objects.count() == 0
    refused.locator("a").click()
    expect(page.locator("textarea[name=description]")).to_have_value("Không chọn loại vấn đề")  # the draft


def submission_token(page) -> str:
    return page.locator("input[name=submission]").input_value()


def test_a_form_opened_from_the_workers_cache_gets_a_token_of_its_own(city, page, live_server):
    worker_in_control(page, live_server, "/report/")
    page.reload()
    served = submission_token(page)
    kept = page.evaluate("() => caches.match('/report/', {ignoreVary: true}).then(r => r.text())")
    assert 'name="submission" value=""' in kept  # the kept copy holds no one-time token
    go_offline(page)
    tokens = set()
    for _ in range(2):
        page.goto(f"{live_server.url}/report/")
        page.wait_for_function("() => document.querySelector('input[name=submission]').value !== ''")
        tokens.add(submission_token(page))
    assert len(tokens) == 2 and served not in tokens
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)


def test_a_kept_form_sent_online_after_an_earlier_report_makes_a_new_report(city, page, live_server):
    worker_in_control(page, live_server, "/report/")
    open_form(page, live_server)
    page.click(".report .folium-map")
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "small")
    page.click("form.report button[type=submit]")
    page.wait_for_url(re.compile(r"/r/CT-\d{4}-\d{6}/$"))
    first = Report.objects.get()
    go_offline(page)
    page.goto(f"{live_server.url}/report/")  # the copy the worker kept
    page.wait_for_function("() => window.citypinMap !== undefined")
    page.context.set_offline(False)
    page.wait_for_function("() => navigator.onLine === true")
    page.click(".report .folium-map")
    page.select_option("select[name=category]", "pothole")
    page.select_option("select[name=attr__pothole__size]", "large")
    page.click("form.report button[type=submit]")  # online: the form posts as always
    page.wait_for_url(re.compile(r"/r/CT-\d{4}-\d{6}/$"))
    assert Report.objects.count() == 2
    assert not page.url.endswith(f"/r/{first.public_id}/")
