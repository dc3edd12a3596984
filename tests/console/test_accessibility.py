"""Every console page passes axe-core with no violation of any impact, for an agent and for a
read-only viewer; screenshots go to test-artifacts/."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from incidents.models import StaffMembership
from tests.axe import violations
from tests.console.test_browser import city, sign_in  # noqa: F401 (city is a fixture)

User = get_user_model()


def check(page, screenshot, name):
    page.wait_for_load_state("networkidle")
    screenshot(name, full_page=False)
    assert violations(page) == []


def test_the_login_page_has_no_accessibility_violation(city, page, live_server, screenshot):  # noqa: F811
    page.goto(f"{live_server.url}/console/login/")
    check(page, screenshot, "a11y-console-login")


@pytest.mark.parametrize("who", ["agent", "operator"])
def test_the_list_and_map_have_no_accessibility_violation(city, page, live_server, screenshot, who):  # noqa: F811
    sign_in(page, live_server, who)
    expect(page.locator(".leaflet-marker-icon, .cell-pin").first).to_be_visible()
    check(page, screenshot, f"a11y-console-list-{who}")


def test_a_report_has_no_accessibility_violation(city, page, live_server, screenshot):  # noqa: F811
    sign_in(page, live_server, "agent")
    page.goto(f"{live_server.url}/console/r/{city.fresh.public_id}/")
    check(page, screenshot, "a11y-console-report")


def test_the_dashboard_and_templates_have_no_accessibility_violation(city, page, live_server, screenshot):  # noqa: F811
    sign_in(page, live_server, "operator")
    for path, name in (("/console/dashboard/", "dashboard"), ("/console/templates/", "templates"),
                       ("/console/password/", "password")):
        page.goto(f"{live_server.url}{path}")
        check(page, screenshot, f"a11y-console-{name}")


def test_the_read_only_viewer_sees_no_action_and_no_violation(city, page, live_server, screenshot):  # noqa: F811
    viewer = User.objects.create_user("viewer", "viewer@example.vn", "pw-viewer-2026")
    StaffMembership.objects.create(user=viewer, department=city.construction, role="viewer")
    sign_in(page, live_server, "viewer")
    expect(page.locator("#bulk")).to_have_count(0)
    expect(page.locator(".leaflet-draw")).to_have_count(0)
    check(page, screenshot, "a11y-console-list-viewer")
    page.goto(f"{live_server.url}/console/r/{city.fresh.public_id}/")
    expect(page.locator(".detail-actions form.action")).to_have_count(0)
    check(page, screenshot, "a11y-console-report-viewer")
