"""The developers' page in a browser, as a developer finds it: the endpoint, the resources and
curl examples that work as written."""

import pytest

from tests.open311.helpers import build_open311_world
from tests.world import World


@pytest.fixture
def world(transactional_db):
    w = World()
    build_open311_world(w)
    return w


def test_the_developers_page_reads_well_in_vietnamese_and_english(live_server, page, world, screenshot):
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"{live_server.url}/open311/")
    assert page.locator("h1").inner_text() == "Open311 GeoReport v2 cho nhà phát triển"
    assert page.locator("table.docs-table tbody tr").count() == 8
    assert f"{live_server.url}/open311/v2/requests.json" in page.locator("pre").first.inner_text()
    screenshot("open311-developers-vi")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/open311/", )
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/open311/")
    assert page.locator("h1").inner_text() == "Open311 GeoReport v2 for developers"
    screenshot("open311-developers-en-phone")
