"""Forwarding when the back office misbehaves (a scripted GeoReport v2 server on 127.0.0.1):
errors then recovery deliver once, a timeout and an Open311 error document are retried, a
missing key or an inside address is refused, and nothing private leaves unless configured."""

import json
import socket
from datetime import timedelta

from django.utils import timezone

from incidents.delivery.outbox import send_pending
from incidents.models import Open311Forward, OutboxMessage
from incidents.triage import reroute_report
from tests.forward.backoffice import BackOffice
from tests.forward.conftest import KEY_ENV, MARKER, configure, submit_pothole


def message() -> OutboxMessage:
    return OutboxMessage.objects.get(channel="open311")


def send_until_sent(tries: int) -> None:
    """The worker's passes, each when the message is next due."""
    for _ in range(tries):
        due = message().send_after
        send_pending(now=max(due, timezone.now()) + timedelta(seconds=1))


def test_a_back_office_that_fails_three_times_then_recovers_gets_the_report_once(world):
    error = (500, [{"code": 500, "description": "database down"}])
    with BackOffice(script=[error, error, error]) as office:
        configure(world, office.base_url)
        report = submit_pothole()
        send_until_sent(4)
        assert message().sent_at is not None and message().attempts == 4
        assert len(office.posts) == 4
        assert len({p.headers["Idempotency-Key"] for p in office.posts}) == 1  # one delivery id, every attempt
        assert Open311Forward.objects.get(report=report).service_request_id == "BO-1"
        assert len(office.statuses) == 1


def test_a_failed_attempt_keeps_the_back_offices_error(world):
    with BackOffice(script=[(500, [{"code": 500, "description": "database down"}])]) as office:
        configure(world, office.base_url)
        submit_pothole()
        send_pending()
        assert "HTTP 500" in message().last_error and "database down" in message().last_error
        assert message().sent_at is None


def test_an_open311_error_document_with_200_is_a_failure(world):
    with BackOffice(script=[(200, [{"code": 400, "description": "service_code pavement not found"}])]) as office:
        configure(world, office.base_url)
        report = submit_pothole()
        send_pending()
        assert message().sent_at is None
        assert "service_code pavement not found" in message().last_error
        assert Open311Forward.objects.get(report=report).service_request_id == ""


def test_a_back_office_that_does_not_answer_in_time_is_retried(world, settings):
    settings.CITYPIN_OPEN311_TIMEOUT = 0.3
    with BackOffice(delay=1.0) as office:
        configure(world, office.base_url)
        submit_pothole()
        send_pending()
        assert message().sent_at is None
        assert "timed out" in message().last_error


def test_a_back_office_that_is_down_then_comes_back_gets_it_once(world):
    with socket.socket() as probe:  # a free port, nobody listening on it yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(world, f"http://127.0.0.1:{port}/open311/v2/")
    report = submit_pothole()
    send_pending()
    assert "Connection refused" in message().last_error or "ConnectionRefused" in message().last_error
    with BackOffice(port=port) as office:
        send_until_sent(1)
        assert len(office.posts) == 1
    assert Open311Forward.objects.get(report=report).service_request_id == "BO-1"


def test_the_form_carries_the_mapped_service_the_point_and_the_key(world):
    with BackOffice() as office:
        configure(world, office.base_url, jurisdiction_id="cantho.gov.vn")
        submit_pothole()
        send_pending()
        form = dict(office.posts[0].form)
        assert form == {"service_code": "pavement", "lat": "10.0200000", "long": "105.7200000",
                        "address_string": "12 Đường Thử", "description": "Ổ gà sâu trước nhà số 12",
                        "attribute[size]": "large", "api_key": "back-office-key", "jurisdiction_id": "cantho.gov.vn"}


def test_no_contact_details_are_sent_by_default(world):
    with BackOffice() as office:
        configure(world, office.base_url)
        submit_pothole()
        send_pending()
        assert MARKER not in json.dumps(office.posts[0].form)
        assert "0901" not in json.dumps(office.posts[0].form)


def test_contact_details_are_sent_when_the_back_office_is_configured_for_them(world):
    with BackOffice() as office:
        configure(world, office.base_url, send_contact=True)
        submit_pothole()
        send_pending()
        form = dict(office.posts[0].form)
        assert (form["first_name"], form["last_name"]) == ("Nguyễn", MARKER)
        assert (form["email"], form["phone"]) == (f"{MARKER}@example.vn", "0901 555 123")


def test_the_key_is_not_in_the_database(world):
    with BackOffice() as office:
        configure(world, office.base_url)
        submit_pothole()
        assert "back-office-key" not in message().body
        send_pending()
        assert office.posts[0].form[-1] == ("api_key", "back-office-key")


def test_an_unset_key_variable_fails_naming_it(world, monkeypatch):
    with BackOffice() as office:
        configure(world, office.base_url)
        monkeypatch.delenv(KEY_ENV)
        submit_pothole()
        send_pending()
        assert KEY_ENV in message().last_error
        assert office.posts == []


def test_an_inside_address_is_refused_when_debug_is_off(world, settings):
    with BackOffice() as office:
        configure(world, office.base_url)
        settings.CITYPIN_WEBHOOK_ALLOW_PRIVATE = False
        submit_pothole()
        send_pending()
        assert "https" in message().last_error
        assert office.got == []


def test_a_report_without_a_mapped_service_is_not_forwarded(world):
    with BackOffice() as office:
        configure(world, office.base_url).services.all().delete()
        submit_pothole()
        assert not OutboxMessage.objects.filter(channel="open311").exists()


def test_a_default_service_code_takes_unmapped_categories(world):
    with BackOffice() as office:
        endpoint = configure(world, office.base_url, default_service_code="other")
        endpoint.services.all().delete()
        submit_pothole()
        send_pending()
        assert dict(office.posts[0].form)["service_code"] == "other"


def test_a_report_rerouted_there_and_back_is_posted_once(world):
    with BackOffice() as office:
        configure(world, office.base_url)
        report = submit_pothole()
        send_pending()
        reroute_report(report.pk, world.road_authority.pk, "national road", actor=None)
        reroute_report(report.pk, world.construction.pk, "no, a city street", actor=None)
        send_pending()
        assert len(office.posts) == 1
        assert OutboxMessage.objects.filter(channel="open311").count() == 1


def test_a_report_rerouted_to_the_department_is_forwarded(world):
    with BackOffice() as office:
        configure(world, office.base_url)
        report = submit_pothole()
        OutboxMessage.objects.all().delete()
        Open311Forward.objects.all().delete()
        reroute_report(report.pk, world.road_authority.pk, "national road", actor=None)
        reroute_report(report.pk, world.construction.pk, "no, a city street", actor=None)
        send_pending()
        assert len(office.posts) == 1


def test_several_reports_sent_at_once_by_the_outbox_threads_each_keep_their_id(world, settings):
    settings.CITYPIN_OUTBOX_CONCURRENCY = 4
    with BackOffice(delay=0.1) as office:
        configure(world, office.base_url)
        reports = [submit_pothole() for _ in range(6)]
        send_pending()
        assert OutboxMessage.objects.filter(channel="open311", sent_at__isnull=False).count() == 6
        ids = {Open311Forward.objects.get(report=r).service_request_id for r in reports}
        assert ids == {f"BO-{n}" for n in range(1, 7)}
        assert len(office.posts) == 6
