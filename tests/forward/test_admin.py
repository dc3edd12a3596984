"""The back offices in the admin: bad configuration is refused with a message naming the
field, the key's variable is named (never the key), mappings are edited inline, and staff can
poll at once."""

import pytest
from django.contrib.auth import get_user_model

from incidents.models import Open311Endpoint
from tests.forward.backoffice import BackOffice
from tests.forward.conftest import KEY_ENV

ADD = "/admin/incidents/open311endpoint/add/"


@pytest.fixture
def staff_client(world, client):
    client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.vn", "pw"))
    return client


def form(world, **fields) -> dict:
    return {"department": world.construction.pk, "base_url": "https://backoffice.example.org/open311/v2",
            "jurisdiction_id": "", "api_key_env": KEY_ENV, "default_service_code": "",
            "status_map": '{"closed": "resolved"}', "updates_public": "on", "active": "on",
            "services-TOTAL_FORMS": "1", "services-INITIAL_FORMS": "0", "services-MIN_NUM_FORMS": "0",
            "services-MAX_NUM_FORMS": "1000", "services-0-category": world.pothole.pk,
            "services-0-service_code": "pavement", **fields}


def errors_of(response) -> dict:
    assert response.status_code == 200, "the form is shown again"
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def test_a_good_back_office_is_saved_with_its_mapping_and_a_closing_slash(world, staff_client):
    response = staff_client.post(ADD, form(world))
    assert response.status_code == 302
    endpoint = Open311Endpoint.objects.get()
    assert endpoint.base_url == "https://backoffice.example.org/open311/v2/"
    assert endpoint.service_code_for(world.pothole.pk) == "pavement"


def test_a_key_variable_outside_the_prefix_is_refused_naming_the_field(world, staff_client):
    errors = errors_of(staff_client.post(ADD, form(world, api_key_env="SECRET_KEY"), HTTP_ACCEPT_LANGUAGE="en"))
    assert "CITYPIN_OPEN311_KEY_" in errors["api_key_env"][0]
    assert not Open311Endpoint.objects.exists()


def test_an_unset_key_variable_is_refused_naming_it(world, staff_client):
    errors = errors_of(staff_client.post(ADD, form(world, api_key_env="CITYPIN_OPEN311_KEY_NOPE"),
                                         HTTP_ACCEPT_LANGUAGE="en"))
    assert "CITYPIN_OPEN311_KEY_NOPE" in errors["api_key_env"][0]


def test_a_status_mapping_to_an_unknown_status_is_refused_naming_it(world, staff_client):
    errors = errors_of(staff_client.post(ADD, form(world, status_map='{"closed": "done"}'), HTTP_ACCEPT_LANGUAGE="en"))
    assert '"done"' in errors["status_map"][0]


def test_a_status_mapping_that_is_not_an_object_is_refused(world, staff_client):
    errors = errors_of(staff_client.post(ADD, form(world, status_map='["closed"]'), HTTP_ACCEPT_LANGUAGE="en"))
    assert "status_map" in errors


def test_an_http_url_is_refused_when_debug_is_off(world, staff_client, settings):
    settings.CITYPIN_WEBHOOK_ALLOW_PRIVATE = False
    errors = errors_of(staff_client.post(ADD, form(world, base_url="http://backoffice.example.org/open311/v2/"),
                                         HTTP_ACCEPT_LANGUAGE="en"))
    assert "https" in errors["base_url"][0]


def test_a_loopback_address_is_refused_when_debug_is_off(world, staff_client, settings):
    settings.CITYPIN_WEBHOOK_ALLOW_PRIVATE = False
    errors = errors_of(staff_client.post(ADD, form(world, base_url="https://127.0.0.1/open311/v2/"),
                                         HTTP_ACCEPT_LANGUAGE="en"))
    assert "127.0.0.1" in errors["base_url"][0]


def test_the_page_names_the_variable_and_never_shows_the_key(world, staff_client):
    staff_client.post(ADD, form(world))
    page = staff_client.get(f"/admin/incidents/open311endpoint/{Open311Endpoint.objects.get().pk}/change/")
    assert KEY_ENV in page.content.decode()
    assert "back-office-key" not in page.content.decode()


def test_poll_now_polls_the_chosen_back_office_and_says_so(world, staff_client):
    with BackOffice() as office:
        endpoint = Open311Endpoint.objects.create(department=world.construction, base_url=office.base_url,
                                                  api_key_env=KEY_ENV)
        response = staff_client.post("/admin/incidents/open311endpoint/", {
            "action": "poll_now", "_selected_action": [endpoint.pk]}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert "0 reports changed; 0 back offices failed" in response.content.decode()
        endpoint.refresh_from_db()
        assert endpoint.last_polled_at is not None
