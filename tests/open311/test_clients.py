"""Real Open311 clients from PyPI against a real server (pytest-django's live_server):
georeport reads everything in JSON and XML, civicbot writes a report (validating it against
the service definition first, as it offers) and reads it back, by id and by token."""

import pytest
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport

from incidents.models import Report
from tests.open311.helpers import build_open311_world
from tests.world import World


@pytest.fixture
def world(transactional_db):
    w = World()
    build_open311_world(w)
    return w


def civicbot_client(live_server) -> Open311Client:
    endpoint = Endpoint(id="citypin", name="Citypin", base_url=f"{live_server.url}/open311/v2", write=True)
    return Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(0)), jurisdiction_id="P")


def test_civicbot_posts_a_report_and_reads_it_back(live_server, world):
    client = civicbot_client(live_server)
    codes = [s["service_code"] for s in client.list_services()]
    assert "pothole" in codes and "retired" not in codes
    assert client.get_service_definition("pothole")["attributes"][1]["code"] == "size"
    sent = client.create_request("pothole", lat=10.02, lng=105.72, description="Ổ gà sâu",
                                 attributes={"size": "large", "hazards": ["water", "night"]},
                                 email="dan@example.vn", first_name="Dân", last_name="Nguyễn", device_id="d-1",
                                 api_key=world.raw_key, validate_remote=True, dry_run=False, confirm="SEND")
    (answer,) = sent.response
    report = Report.objects.get(public_id=answer["service_request_id"])
    assert report.source == "open311" and report.attributes["hazards"] == ["night", "water"]
    read = client.get_request(answer["service_request_id"])
    assert (read["service_code"], read["status"], read["description"]) == ("pothole", "open", "Ổ gà sâu")
    assert (read["lat"], read["long"]) == (10.02, 105.72)
    assert client.get_token(answer["token"])[0]["service_request_id"] == answer["service_request_id"]
    listed = client.list_requests(service_code="pothole", status="open", page_size=10)
    assert [r["service_request_id"] for r in listed] == [answer["service_request_id"]]
    assert "dan@example.vn" not in str(listed)


def test_civicbot_sees_a_revoked_key_refused(live_server, world):
    with pytest.raises(HttpError) as refused:
        civicbot_client(live_server).create_request("pothole", lat=10.02, lng=105.72, attributes={"size": "small"},
                                                    api_key=world.revoked_key, dry_run=False, confirm="SEND")
    assert refused.value.status == 403
    assert Report.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_definitions_and_requests(live_server, world, fmt):
    civicbot_client(live_server).create_request("encroachment", lat=10.02, lng=105.72, description="Lấn chiếm",
                                                api_key=world.raw_key, dry_run=False, confirm="SEND")
    client = GeoReport(f"{live_server.url}/open311/v2", jurisdiction="P", output_format=fmt)
    services = client.get_service_list()
    assert {"pothole", "encroachment"} <= {s["service_code"] for s in services}
    definition = client.get_service_definition("pothole")
    assert definition["service_code"] == "pothole"
    requests = client.get_service_requests(service_code="encroachment", status="open")
    request = requests[0] if isinstance(requests, list) else requests  # xmltodict: one element is no list
    assert request["service_code"] == "encroachment"
    assert client.get_service_request(request["service_request_id"])["description"] == "Lấn chiếm"
