import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from incidents.models import ReportEvent
from incidents.services import ReportDraft, submit_report
from tests.world import World, build_world

ROOT = Path(__file__).resolve().parent.parent


def start_django(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_without_secret_key_refuses_to_start():
    result = start_django({"DEBUG": "0", "ALLOWED_HOSTS": "citypin.example.vn"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = start_django({"DEBUG": "0", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_with_both_starts():
    result = start_django({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "citypin.example.vn"})
    assert result.returncode == 0, result.stderr


@pytest.fixture
def world(db):
    build_world(World)
    return World


def test_report_events_are_append_only(world):
    report = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "small"}))
    event = report.events.first()
    event.message = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert ReportEvent.objects.get(pk=event.pk).message != "rewritten"


def test_public_ids_are_sequential_with_the_year(world):
    first = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "small"}))
    second = submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "small"}))
    prefix, year, number = first.public_id.split("-")
    assert (prefix, len(year), len(number)) == ("CT", 4, 6)
    assert int(second.public_id.split("-")[2]) == int(number) + 1


@pytest.mark.django_db(transaction=True)
def test_report_posted_over_real_http(live_server):
    build_world(World)
    body = json.dumps({"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
                       "attributes": {"size": "small"}}).encode()
    request = urllib.request.Request(f"{live_server.url}/api/v1/reports/", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
        feature = json.load(response)
    with urllib.request.urlopen(f"{live_server.url}/api/v1/reports/{feature['id']}/") as response:
        assert json.load(response)["properties"]["department"]["code"] == "construction"
