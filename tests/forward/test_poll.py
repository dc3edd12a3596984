"""Statuses coming back from the back office (a scripted GeoReport v2 server): a change becomes
an event through the workflow, public or internal as configured, and only a change that is
the back office's to make and that the workflow allows; errors are kept on the back office."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from incidents.delivery.open311_poll import poll_open311
from incidents.delivery.outbox import send_pending
from incidents.models import Open311Endpoint, Open311Forward, OutboxMessage, ReportEvent
from incidents.triage import reroute_report
from incidents.workflow import transition_report
from tests.forward.backoffice import BackOffice
from tests.forward.conftest import configure, submit_pothole


def forwarded(world, office: BackOffice, **options):
    endpoint = configure(world, office.base_url, **options)
    report = submit_pothole()
    send_pending()
    return endpoint, report


def status_events(report):
    return list(ReportEvent.objects.filter(report=report, kind="status_changed"))


def test_a_closed_request_resolves_the_report_with_the_back_offices_notes_in_public(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": "Đã vá xong."}
        assert poll_open311(force=True).changed == 1
        [event] = status_events(report)
        assert (event.from_status, event.to_status, event.is_public, event.message) == (
            "new", "resolved", True, "Đã vá xong.")


def test_a_closed_request_without_notes_gets_a_message_naming_the_department(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": None}
        poll_open311(force=True)
        [event] = status_events(report)
        assert "Sở Xây dựng" in event.message and "closed" in event.message


def test_polling_asks_for_the_forwarded_ids_in_one_batch(world):
    with BackOffice() as office:
        configure(world, office.base_url)
        submit_pothole(), submit_pothole()
        send_pending()
        poll_open311(force=True)
        [get] = [g for g in office.got if g.method == "GET" and "requests.json" in g.path]
        asked = parse_qs(urlsplit(get.path).query)["service_request_id"]
        assert sorted(asked[0].split(",")) == ["BO-1", "BO-2"]


def test_a_status_change_coming_back_is_not_forwarded_again(world):
    with BackOffice() as office:
        forwarded(world, office)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": "Xong."}
        poll_open311(force=True)
        send_pending()
        assert OutboxMessage.objects.filter(channel="open311").count() == 1
        assert len(office.posts) == 1


def test_the_same_status_twice_changes_nothing_more(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": "Xong."}
        poll_open311(force=True)
        assert poll_open311(force=True).changed == 0
        assert len(status_events(report)) == 1


def test_a_back_office_still_open_never_undoes_what_staff_did_here(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office, status_map={"open": "reopened", "closed": "resolved"})
        transition_report(report.pk, "resolved", message="Đội chúng tôi đã vá.")
        poll_open311(force=True)
        report.refresh_from_db()
        assert report.status == "resolved"


def test_a_status_the_workflow_does_not_allow_from_here_is_not_applied(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office, status_map={"acknowledged": "acknowledged"})
        transition_report(report.pk, "in_progress")
        office.statuses["BO-1"] = {"status": "acknowledged", "status_notes": None}
        assert poll_open311(force=True).changed == 0
        report.refresh_from_db()
        assert report.status == "in_progress"


def test_a_report_rerouted_elsewhere_is_not_closed_by_its_old_back_office(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office)
        reroute_report(report.pk, world.road_authority.pk, "national road", actor=None)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": "Not ours."}
        poll_open311(force=True)
        report.refresh_from_db()
        assert report.status == "new"


def test_an_internal_back_office_moves_the_status_without_telling_the_public(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office, updates_public=False,
                                      status_map={"in_progress": "in_progress", "closed": "resolved"})
        office.statuses["BO-1"] = {"status": "in_progress", "status_notes": "Crew 4 sent."}
        poll_open311(force=True)
        [event] = status_events(report)
        assert (event.to_status, event.is_public, event.message) == ("in_progress", False, "Crew 4 sent.")


def test_an_internal_back_office_closing_leaves_staff_a_note_to_decide(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office, updates_public=False)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": "Done."}
        assert poll_open311(force=True).changed == 0
        report.refresh_from_db()
        assert report.status == "new"
        note = ReportEvent.objects.get(report=report, kind="note")
        assert not note.is_public and "Done." in note.message


def test_contact_details_in_the_back_offices_notes_are_not_published(world):
    with BackOffice() as office:
        _endpoint, report = forwarded(world, office)
        office.statuses["BO-1"] = {"status": "closed", "status_notes": "Fixed; call me on 0901 234 567."}
        poll_open311(force=True)
        [event] = status_events(report)
        assert "0901 234 567" not in event.message


def test_a_failing_back_office_keeps_its_error_and_the_others_are_still_polled(world):
    with BackOffice() as office, BackOffice() as other:
        endpoint, report = forwarded(world, office)
        second = Open311Endpoint.objects.create(department=world.road_authority, base_url=other.base_url,
                                                api_key_env=endpoint.api_key_env)
        office.poll_status = 500
        result = poll_open311(force=True)
        assert (result.polled, result.failed) == (2, 1)
        endpoint.refresh_from_db()
        second.refresh_from_db()
        assert "HTTP 500" in endpoint.last_poll_error and endpoint.last_polled_at is not None
        assert second.last_poll_error == "" and second.last_polled_at is not None


def test_a_back_office_is_polled_again_only_after_the_interval(world, settings):
    settings.CITYPIN_OPEN311_POLL_INTERVAL = 300
    with BackOffice() as office:
        forwarded(world, office)
        now = timezone.now()
        assert poll_open311(now).polled == 1
        assert poll_open311(now + timedelta(seconds=60)).polled == 0
        assert poll_open311(now + timedelta(seconds=301)).polled == 1


def test_a_forward_known_by_its_token_only_gets_its_id_first(world):
    with BackOffice(script=[(201, [{"token": "tok-1"}])]) as office:
        _endpoint, report = forwarded(world, office)
        assert Open311Forward.objects.get(report=report).token == "tok-1"
        assert poll_open311(force=True).failed == 0  # the back office does not know the token: next time
        assert Open311Forward.objects.get(report=report).service_request_id == ""


def test_a_token_given_its_id_in_the_back_office_is_polled_by_that_id(world):
    with BackOffice(script=[(201, [{"token": "tok-1"}])]) as office:
        _endpoint, report = forwarded(world, office)
        office.tokens["tok-1"] = "BO-9"
        office.statuses["BO-9"] = {"status": "closed", "status_notes": "Xong."}
        assert poll_open311(force=True).changed == 1
        assert Open311Forward.objects.get(report=report).service_request_id == "BO-9"
        report.refresh_from_db()
        assert report.status == "resolved"
