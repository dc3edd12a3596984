"""The staff console in a real browser (Debian's chromium, headless), against a live server and
a real PostGIS: an agent's morning, the operations center rerouting a contested report, scope
probed by URL, two people editing one report, the lasso. Screenshots go to test-artifacts/."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Report, ResponseTemplate, StaffMembership
from tests.world import World, build_world, project

User = get_user_model()
ORIGIN = (105.72, 10.02)  # ward A, far from the road: potholes go to Construction


def pothole(lon, lat, description, accuracy=None):
    return submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"},
                                     location_accuracy_m=accuracy, description=description,
                                     reporter=Reporter(name="Chị Lan", email="lan@example.vn")))


@pytest.fixture
def city(transactional_db):
    build_world(World)
    for username, department, role in (("agent", World.construction, "agent"), ("colleague", World.construction, "agent"),
                                       ("operator", World.ioc, "manager"), ("roads", World.road_authority, "agent")):
        user = User.objects.create_user(username, f"{username}@example.vn", f"pw-{username}-2026")
        StaffMembership.objects.create(user=user, department=department, role=role)
    World.overdue = pothole(*ORIGIN, "Ổ gà sâu trước trường học")
    Report.objects.filter(pk=World.overdue.pk).update(resolve_due_at=timezone.now() - timedelta(hours=2))
    World.fresh = pothole(*project(*ORIGIN, 300, 90), "Ổ gà nhỏ")
    # 35 m south of the national road with a 15 m GPS circle: the road authority's 30 m buffer
    # takes part of the circle, Construction the rest. Contested: the IOC decides.
    World.contested = pothole(*project(105.72, 10.05, 35, 180), "Ổ gà gần quốc lộ", accuracy=15)
    ResponseTemplate.objects.create(title="Đã tiếp nhận", status="acknowledged",
                                    body_vi="{department} đã tiếp nhận phản ánh {public_id}.", body_en="Received.")
    ResponseTemplate.objects.create(title="Đã khắc phục", status="resolved",
                                    body_vi="Đã vá ổ gà {public_id}. Cảm ơn bạn!", body_en="Fixed {public_id}.")
    return World


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}-2026")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/")


def test_agent_filters_overdue_acknowledges_replies_and_resolves(city, page, live_server, screenshot):
    sign_in(page, live_server, "agent")
    page.wait_for_selector(".leaflet-marker-icon")
    screenshot("console")
    page.check("input[name=overdue]")
    page.click(".f-go button")
    rows = page.locator("table.reports tbody tr[data-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", city.overdue.public_id)
    rows.first.locator("a.rid").click()
    page.click("button[name=acknowledge]")
    expect(page.locator(".current-status")).to_have_text("Đã tiếp nhận")
    page.select_option("#reply-template", label="Đã tiếp nhận")
    reply = page.locator("#reply-message")
    expect(reply).to_have_value(f"Sở Xây dựng đã tiếp nhận phản ánh {city.overdue.public_id}.")
    reply.fill(reply.input_value() + " Đội sửa chữa sẽ đến trong sáng mai.")  # the template, edited
    page.click("#reply-form button[type=submit]")
    expect(page.locator(".timeline")).to_contain_text("Đội sửa chữa sẽ đến trong sáng mai.")
    page.select_option("#status", "resolved")
    page.select_option("#status-template", label="Đã khắc phục")
    expect(page.locator("#status-message")).to_have_value(f"Đã vá ổ gà {city.overdue.public_id}. Cảm ơn bạn!")
    screenshot("console-detail")
    page.click("#status-form button[type=submit]")
    expect(page.locator(".current-status")).to_have_text("Đã xử lý")
    # The citizen's tracking page shows the reply and the resolution message.
    page.goto(f"{live_server.url}/r/{city.overdue.public_id}/")
    expect(page.locator(".timeline")).to_contain_text("Đội sửa chữa sẽ đến trong sáng mai.")
    expect(page.locator(".timeline")).to_contain_text(f"Đã vá ổ gà {city.overdue.public_id}")


def test_operator_reroutes_a_contested_report(city, page, live_server):
    assert city.contested.department == city.ioc and city.contested.routing["reason"] == "contested"
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/r/{city.contested.public_id}/")
    page.select_option("#reroute-department", "road-authority")
    page.fill("#reroute-reason", "Nằm trong hành lang quốc lộ")
    page.click("#reroute-form button[type=submit]")
    expect(page.locator(".department")).to_have_text("Khu QLĐB")
    expect(page.locator(".timeline")).to_contain_text("Nằm trong hành lang quốc lộ")
    assert Report.objects.get(pk=city.contested.pk).department == city.road_authority


def test_agent_of_another_department_cannot_reach_the_report(city, page, live_server):
    sign_in(page, live_server, "roads")
    expect(page.locator("table.reports")).not_to_contain_text(city.overdue.public_id)
    for url in (f"/console/r/{city.overdue.public_id}/", f"/console/api/reports/{city.overdue.public_id}/"):
        response = page.goto(live_server.url + url)
        assert response.status == 404, url


def test_two_people_edit_one_report_and_the_second_sees_the_conflict(city, browser, live_server, screenshot):
    pages = []
    for username in ("agent", "colleague"):
        context = browser.new_context(locale="vi-VN")
        page = context.new_page()
        sign_in(page, live_server, username)
        page.goto(f"{live_server.url}/console/r/{city.fresh.public_id}/")
        pages.append(page)
    first, second = pages
    first.click("button[name=acknowledge]")
    expect(first.locator(".current-status")).to_have_text("Đã tiếp nhận")
    second.select_option("#status", "rejected")
    second.fill("#status-message", "Không phải ổ gà")
    second.click("#status-form button[type=submit]")
    expect(second.locator(".conflict")).to_be_visible()
    expect(second.locator(".conflict")).to_contain_text("agent")
    expect(second.locator(".current-status")).to_have_text("Đã tiếp nhận")
    expect(second.locator("#status-message")).to_have_value("Không phải ổ gà")  # their text is not lost
    screenshot("console-conflict", of=second)
    assert Report.objects.get(pk=city.fresh.pk).status == "acknowledged"


def test_lasso_selects_the_reports_inside_the_drawn_rectangle(city, page, live_server):
    sign_in(page, live_server, "agent")
    page.wait_for_selector(".leaflet-marker-icon")
    page.evaluate(f"""() => {{
        window.citypinMap.setView([{ORIGIN[1]}, {ORIGIN[0] + 0.0015}], 16, {{animate: false}});
    }}""")
    page.wait_for_timeout(500)
    page.click(".leaflet-draw-draw-rectangle")
    box = page.locator(".console-map .folium-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - box["width"] * 0.45, cy - 40)
    page.mouse.down()
    page.mouse.move(cx + box["width"] * 0.45, cy + 40, steps=8)
    page.mouse.up()
    expect(page.locator("#selected-count")).to_have_text("2")
    ids = page.input_value("#bulk-ids").split(",")
    assert sorted(ids) == sorted([city.overdue.public_id, city.fresh.public_id])
    page.select_option("#bulk-action", "status")
    page.select_option("#bulk select[name=status]", "in_progress")
    page.click("#bulk button[type=submit]")
    expect(page.locator(".messages")).to_be_visible()
    assert set(Report.objects.filter(status="in_progress").values_list("public_id", flat=True)) == set(ids)


def test_dashboard_draws_its_charts(city, page, live_server, screenshot):
    sign_in(page, live_server, "operator")
    page.click("a[href='/console/dashboard/']")
    expect(page.locator(".chart svg")).to_have_count(4)
    expect(page.locator("table.figures")).to_contain_text("Sở Xây dựng")
    screenshot("console-dashboard")
