"""The OpenAPI schema at /api/schema/ tells the truth: schemathesis calls every operation with
generated input (a bounded, derandomized run) against a real PostGIS database holding the test
world, and every answer is no server error and is what the schema documents. Then the same
checks on answers about objects that exist, which random ids and codes rarely hit, and the
regressions the run found.

`make fuzz` runs the same test with more examples: CITYPIN_FUZZ_EXAMPLES=500.
"""

import os

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from incidents.hotspots import refresh_hotspots
from incidents.http.browser import COOKIE
from incidents.intake import ReportDraft, submit_report
from tests.world import World, build_world, project

CLUSTER = (105.73, 10.06)  # ward A, north of the road: eight potholes within ~100 m make a hotspot
EXAMPLES = int(os.environ.get("CITYPIN_FUZZ_EXAMPLES", "25"))

# The answers must be what the schema says. Not run: positive_data_acceptance (a string the
# schema allows, like bbox=abc or an unknown category code, is refused by the server, which is
# right) and negative_data_rejection (unknown or empty query parameters are ignored, by design).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

# Intake and "me too" are rate-limited per address (30 an hour by default); a fuzz run sends
# hundreds from one. The limits themselves are tested in test_api_reports.py.
UNTHROTTLED = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
    scope: "1000000/hour" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}}


@pytest.fixture(autouse=True)
def connection_kept_open():
    """The WSGI handler closes the database connection around each request, which would end the
    test's transaction; Django's own test client keeps it open the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def unthrottled():
    with override_settings(REST_FRAMEWORK=UNTHROTTLED):
        yield


@pytest.fixture(autouse=True)
def world(db):
    world = World()
    build_world(world)
    world.reports = []
    for i in range(8):
        lon, lat = project(*CLUSTER, 10 + 12 * i, 45 * i)
        world.reports.append(submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat,
                                                       attributes={"size": "small"}), notify=False))
    world.by_address = submit_report(ReportDraft(category_code="encroachment", address="123 Đường 30/4"), notify=False)
    refresh_hotspots(full=True)
    return world


schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# Schemathesis's WSGI transport asks for gzip like a browser but reads the body undecoded; the
# checks are about the documents, so the client says it takes them plain (and the server obeys).
PLAIN = {"Accept-Encoding": "identity"}


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case):
    case.call_and_validate(checks=CHECKS, headers=PLAIN)


def answers_as_documented(path: str, method: str = "GET", **case) -> None:
    response = schema[path][method].Case(**case).call_and_validate(checks=CHECKS, headers=PLAIN)
    assert response.status_code < 300, response.text[:500]


def test_a_report_with_a_point_and_one_by_address_only_are_documented(world):
    answers_as_documented("/api/v1/reports/{public_id}/", path_parameters={"public_id": world.reports[0].public_id})
    answers_as_documented("/api/v1/reports/{public_id}/", path_parameters={"public_id": world.by_address.public_id})


def test_a_page_with_a_next_link_is_documented():
    answers_as_documented("/api/v1/reports/", query={"limit": 2})
    answers_as_documented("/api/v1/incidents/", query={"limit": 1})


def test_an_incident_is_documented(world):
    answers_as_documented("/api/v1/incidents/{incident_id}/",
                          path_parameters={"incident_id": world.reports[0].incident_id})


def test_nearby_reports_and_grid_cells_are_documented():
    answers_as_documented("/api/v1/reports/nearby/", query={"category": "pothole", "lon": CLUSTER[0],
                                                            "lat": CLUSTER[1]})
    answers_as_documented("/api/v1/reports/aggregate/", query={"bbox": "105.7,10,105.8,10.1", "zoom": 16})


def test_a_support_is_documented(world):
    answers_as_documented("/api/v1/reports/{public_id}/supporters/", "POST",
                          path_parameters={"public_id": world.reports[0].public_id},
                          cookies={COOKIE: "b" * 24}, body={"email": "lan@example.vn"})


def test_reporter_errors_are_documented_nested_under_reporter():
    refusal = schema["/api/v1/reports/"]["POST"].Case(
        body={"category": "pothole", "address": "Chợ", "reporter": {"phone": "0" * 41}}, media_type="application/json")
    response = refusal.call_and_validate(checks=CHECKS, headers=PLAIN)
    assert response.status_code == 400
    assert list(response.json()["reporter"]) == ["phone"]


# Regressions found by the run ---------------------------------------------------------------

def test_an_unknown_format_answers_404_as_a_field_error():
    response = APIClient().get("/api/v1/categories/", {"format": "xml"})
    assert response.status_code == 404
    assert [type(m) for m in response.json()["detail"]] == [str]


def test_a_path_under_the_api_that_matches_nothing_answers_json():
    response = APIClient().get("/api/v1/reports/CT%202026/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["path"]


def test_a_path_outside_the_api_that_matches_nothing_keeps_the_sites_page():
    response = APIClient().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_too_many_submissions_answer_a_field_error(settings):
    settings.REST_FRAMEWORK = {**UNTHROTTLED, "DEFAULT_THROTTLE_RATES": {
        **UNTHROTTLED["DEFAULT_THROTTLE_RATES"], "report_submit": "1/hour"}}
    client = APIClient()
    client.post("/api/v1/reports/", {}, format="json")
    response = client.post("/api/v1/reports/", {}, format="json")
    assert response.status_code == 429
    assert [type(m) for m in response.json()["detail"]] == [str]


def test_the_intake_location_is_a_geojson_point_in_the_schema():
    location = APIClient().get("/api/schema/", {"format": "json"}).json()[
        "components"]["schemas"]["ReportIntake"]["properties"]["location"]
    assert location["properties"]["type"]["enum"] == ["Point"]
    assert location["properties"]["coordinates"]["type"] == "array"
    assert location["nullable"] is True


def test_limit_is_documented_with_the_bounds_the_server_enforces():
    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in ("/api/v1/reports/", "/api/v1/incidents/"):
        limit = next(p for p in paths[path]["get"]["parameters"] if p["name"] == "limit")
        assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 5000}


def test_an_empty_string_location_is_refused_as_not_a_point():
    """DRF-GIS's GeometryField calls "" a missing value; the intake keeps saying what it wants."""
    response = APIClient().post("/api/v1/reports/", {"category": "pothole", "location": "", "address": "Chợ",
                                                     "attributes": {"size": "small"}}, format="json")
    assert response.status_code == 400
    assert "GeoJSON Point" in response.json()["location"][0]


def test_the_upload_limit_and_outage_answers_are_documented():
    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "413" in paths["/api/v1/reports/"]["post"]["responses"]
    assert all("503" in operation["responses"] for path in paths.values() for operation in path.values())
