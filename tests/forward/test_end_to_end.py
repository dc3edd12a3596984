"""Open311 forwarding end to end, with Citypin itself as the construction department's back
office (live_server): a routed pothole is POSTed there as the mapped service, its id is kept,
the back office's "closed" comes back as a public event, and a retry after a crash between the
back office's answer and our record does not file it twice."""

import pytest
from django.utils import timezone

from incidents.delivery.open311_poll import poll_open311
from incidents.delivery.outbox import send_pending
from incidents.models import ApiKey, Open311Forward, OutboxMessage, Report, ReportEvent
from incidents.workflow import transition_report
from tests.forward.conftest import KEY_ENV, MARKER, configure, submit_pothole


@pytest.fixture
def citypin_back_office(world, live_server, monkeypatch, settings):
    settings.CITYPIN_OPEN311_TIMEOUT = 60  # the live server's first answer loads the site: seconds on a busy machine
    _key, raw = ApiKey.issue("Construction forwarding")
    monkeypatch.setenv(KEY_ENV, raw)
    return configure(world, f"{live_server.url}/open311/v2/")


def forwarded_copy(report: Report) -> Report:
    forward = Open311Forward.objects.get(report=report)
    assert forward.service_request_id, OutboxMessage.objects.get(channel="open311", report=report).last_error
    return Report.objects.get(public_id=forward.service_request_id)


def test_a_routed_report_is_filed_in_the_back_office_as_its_mapped_service(world, citypin_back_office):
    report = submit_pothole()
    send_pending()
    copy = forwarded_copy(report)
    assert copy.pk != report.pk
    assert (copy.category.code, copy.source, copy.department) == ("pavement", "open311", world.committee_a)
    assert (copy.location.x, copy.location.y) == pytest.approx((105.72, 10.02))
    assert (copy.address, copy.description) == ("12 Đường Thử", "Ổ gà sâu trước nhà số 12")


def test_the_back_office_id_and_token_are_kept(world, citypin_back_office):
    report = submit_pothole()
    send_pending()
    forward = Open311Forward.objects.get(report=report)
    copy = Report.objects.get(public_id=forward.service_request_id)
    assert forward.token == copy.client_submission.token
    assert forward.forwarded_at is not None
    assert OutboxMessage.objects.get(channel="open311").sent_at is not None


def test_only_attributes_the_back_office_service_has_are_sent(world, citypin_back_office):
    report = submit_pothole()
    send_pending()
    assert forwarded_copy(report).attributes == {"size": "large"}  # depth_cm is not a pavement attribute


def test_the_reporters_contact_details_stay_here(world, citypin_back_office):
    report = submit_pothole()
    send_pending()
    copy = forwarded_copy(report)
    assert (copy.reporter_name, copy.reporter_email, copy.reporter_phone) == ("", "", "")
    assert MARKER not in str(Report.objects.filter(pk=copy.pk).values().get())


def test_a_retry_after_a_crash_before_recording_files_it_once(world, citypin_back_office):
    report = submit_pothole()
    send_pending()
    first = Open311Forward.objects.get(report=report).service_request_id
    # The crash: the back office answered, but neither the id nor the delivery was recorded;
    # the worker's lease ran out, so the message is due again.
    Open311Forward.objects.filter(report=report).update(service_request_id="", token="", forwarded_at=None)
    OutboxMessage.objects.filter(channel="open311").update(sent_at=None, send_after=timezone.now())
    send_pending()
    assert Open311Forward.objects.get(report=report).service_request_id == first
    assert Report.objects.filter(source="open311").count() == 1


def test_the_back_office_closing_it_comes_back_as_a_public_event(world, citypin_back_office):
    report = submit_pothole()
    send_pending()
    transition_report(forwarded_copy(report).pk, "resolved", message="Đã vá xong ổ gà.")
    assert poll_open311(force=True).changed == 1
    report.refresh_from_db()
    assert report.status == "resolved"
    event = ReportEvent.objects.filter(report=report, kind="status_changed").get()
    assert (event.to_status, event.is_public, event.message) == ("resolved", True, "Đã vá xong ổ gà.")
    assert not OutboxMessage.objects.filter(channel="open311").exclude(report__in=[report]).exists()


def test_a_back_office_that_is_this_citypin_does_not_forward_its_copy_again(world, citypin_back_office):
    citypin_back_office.services.update(service_code="pothole")  # the copy comes back to construction
    report = submit_pothole()
    send_pending()
    copy = forwarded_copy(report)
    assert copy.department == world.construction
    assert OutboxMessage.objects.filter(channel="open311").count() == 1
    assert Report.objects.count() == 2
