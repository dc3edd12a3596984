import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from incidents.intake import ReportDraft, submit_report
from incidents.models import ReportEvent
from tests.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]


GOOD_KEY = "k3y-for-tests-only-" + "0123456789abcdefghijklmnopqrstuvwxyz"


# What this test process sets for itself (DJANGO_ALLOW_ASYNC_UNSAFE is for Playwright) and must
# not leak into the Django processes started as an installation would run them.
PROCESS_SETTINGS = ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")


def start_django(env_overrides: dict, command: tuple[str, ...] = ("check",)) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_with_a_short_secret_key_refuses_to_start():
    result = start_django({"DEBUG": "0", "ALLOWED_HOSTS": "citypin.example.vn", "SECRET_KEY": "too-short-a-key"})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_production_with_a_long_key_of_one_repeated_character_refuses_to_start():
    result = start_django({"DEBUG": "0", "ALLOWED_HOSTS": "citypin.example.vn", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = start_django({"DEBUG": "0", "SECRET_KEY": GOOD_KEY})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_with_both_starts():
    result = start_django({"DEBUG": "0", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "citypin.example.vn"})
    assert result.returncode == 0, result.stderr


PRINT_KEY_AND_DEMO_PASSWORD = ("shell", "--no-imports", "-c", "from django.conf import settings; from incidents.demo import demo_secret; "
                               "print(settings.SECRET_KEY); print(demo_secret('password:ioc'))")


def test_without_secret_key_the_first_run_writes_a_private_random_key_that_later_runs_read(tmp_path):
    key_file = tmp_path / "data" / "secret_key"
    first = start_django({"CITYPIN_SECRET_KEY_FILE": str(key_file)}, PRINT_KEY_AND_DEMO_PASSWORD)
    assert first.returncode == 0, first.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 50
    again = start_django({"CITYPIN_SECRET_KEY_FILE": str(key_file)}, PRINT_KEY_AND_DEMO_PASSWORD)
    assert again.stdout == first.stdout
    assert first.stdout.splitlines()[0] == key


def test_two_installations_have_different_keys_and_demo_passwords(tmp_path):
    one = start_django({"CITYPIN_SECRET_KEY_FILE": str(tmp_path / "one")}, PRINT_KEY_AND_DEMO_PASSWORD)
    two = start_django({"CITYPIN_SECRET_KEY_FILE": str(tmp_path / "two")}, PRINT_KEY_AND_DEMO_PASSWORD)
    key_one, password_one = one.stdout.split()
    key_two, password_two = two.stdout.split()
    assert key_one != key_two
    assert password_one != password_two


def test_production_uses_the_installation_key_when_none_is_given(tmp_path):
    key_file = tmp_path / "secret_key"
    result = start_django({"DEBUG": "0", "ALLOWED_HOSTS": "citypin.example.vn",
                           "CITYPIN_SECRET_KEY_FILE": str(key_file)})
    assert result.returncode == 0, result.stderr
    assert len(key_file.read_text().strip()) >= 50


def test_the_repository_holds_no_usable_key():
    tracked = subprocess.run(["git", "grep", "-l", "-e", "dev-only-insecure-key", "-e", "django-insecure-", "--", ":!tests/"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""
    ignored = subprocess.run(["git", "check-ignore", ".data/secret_key"], cwd=ROOT, capture_output=True, text=True)
    assert ignored.returncode == 0


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


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="checks the embedded cluster of scripts/db.sh")
def test_the_embedded_cluster_is_durable_and_only_the_test_database_turns_synchronous_commit_off(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'full_page_writes')")
        assert dict(cursor.fetchall()) == {"fsync": "on", "full_page_writes": "on"}
        cursor.execute("SELECT name, setting FROM pg_file_settings WHERE applied AND name IN "
                       "('fsync', 'synchronous_commit', 'full_page_writes') AND setting <> 'on'")
        assert cursor.fetchall() == []  # neither postgresql.conf nor ALTER SYSTEM turns them off
        cursor.execute("SELECT d.datname FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                       "WHERE 'synchronous_commit=off' = ANY(s.setconfig)")
        names = {name for (name,) in cursor.fetchall()}
        assert connection.settings_dict["NAME"] in names
        assert all(name.startswith("test_") for name in names)  # never the database `make run` serves


@pytest.mark.django_db
def test_the_shared_cache_table_is_unlogged_so_counting_a_read_waits_for_no_disk():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'citypin_cache'")
        assert cursor.fetchone() == ("u",)
