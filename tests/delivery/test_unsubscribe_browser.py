"""The unsubscribe pages in a real browser: the confirmation and the result, on a phone and a
desktop, with no accessibility violation and no Content-Security-Policy violation (the
conftest fails any); screenshots go to test-artifacts/. And the admin's preview of a template."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import Unsubscription
from incidents.notices import unsubscribe_token
from tests.axe import violations
from tests.world import World, build_world

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def report(transactional_db):
    build_world(World)
    return submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"},
                                     reporter=Reporter(email="chi-lan@example.vn")))


@pytest.mark.parametrize("size", SIZES)
def test_the_unsubscribe_pages_have_no_accessibility_violation(report, page, live_server, screenshot, size):
    page.set_viewport_size(SIZES[size])
    page.goto(f"{live_server.url}/unsubscribe/{unsubscribe_token('chi-lan@example.vn', report)}/")
    expect(page.get_by_role("button", name="Ngừng e-mail về phản ánh này")).to_be_visible()
    screenshot(f"unsubscribe-confirm-{size}")
    assert violations(page) == []
    page.get_by_role("button", name="Ngừng e-mail về phản ánh này").click()
    expect(page.get_by_role("heading", name="Bạn đã hủy nhận thư")).to_be_visible()
    screenshot(f"unsubscribe-done-{size}")
    assert violations(page) == []
    assert Unsubscription.objects.filter(report=report).exists()


def test_the_admin_previews_a_template(report, page, live_server, screenshot):
    get_user_model().objects.create_superuser("root", "root@example.vn", "pw")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "pw")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/incidents/messagetemplate/add/")
    page.select_option("select[name=event]", "status")
    page.select_option("select[name=language]", "en")
    page.fill("input[name=subject]", "Update on {{ report.public_id }}")
    page.fill("textarea[name=body]", "Now {{ report.status }}.\n{{ message }}\n{{ unsubscribe_url }}")
    with page.context.expect_page() as opened:
        page.click("input[name=_preview]")
    preview = opened.value
    expect(preview.locator("#preview-subject")).to_have_text("Update on HN-2026-000123")
    screenshot("admin-mail-template-preview", of=preview)
    expect(preview.frame_locator("#preview-html").locator("h1")).to_have_text("Update on HN-2026-000123")
