"""The admin and the API docs in a real browser with no internet: their maps and scripts come
from our own static files (npm packages), never from a CDN."""

import pytest
from django.contrib.auth import get_user_model

from gis.models import Area
from tests.world import box


@pytest.fixture
def admin_page(live_server, page, transactional_db):
    get_user_model().objects.create_superuser("admin", "admin@example.vn", "correct horse battery")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    return page


def test_area_admin_shows_an_openlayers_map_offline(admin_page, live_server, screenshot):
    area = Area.objects.create(kind="ward", code="A", name_vi="Phường A", boundary=box(105.70, 10.00, 105.75, 10.05))
    failed = []
    admin_page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED" and failed.append(r.url))
    admin_page.goto(f"{live_server.url}/admin/geo/area/{area.pk}/change/")
    admin_page.wait_for_selector(".ol-viewport canvas", timeout=10_000)
    screenshot("admin-area")
    assert not [u for u in failed if u.startswith(live_server.url)], failed


def test_api_docs_render_offline(live_server, page, transactional_db, screenshot):
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=10_000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/reports/").count() >= 1
    screenshot("api-docs", full_page=False)



@pytest.mark.breaks_csp_on_purpose
def test_an_inline_script_without_the_nonce_is_refused_and_seen(live_server, page, transactional_db, request):
    """What every browser test relies on: the policy is enforced, and a violation is caught."""
    page.goto(f"{live_server.url}/")
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "document.body.dataset.injected = 'yes'"; document.body.append(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("document.body.dataset.injected") is None
    assert any("inline script" in text for text in request.node.csp_violations)
