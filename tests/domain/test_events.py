"""incidents.events, the one writer of report events and versions: an event carries the
department the report is with, recording changes no version, and a version moves by one."""

from django.test import TestCase

from incidents.events import bump_incident_versions, event, record, record_many, touch
from incidents.intake import ReportDraft, submit_report
from incidents.models import Incident, Report, ReportEvent
from tests.world import build_world, project

ORIGIN = (105.72, 10.02)  # in ward A, away from the road: potholes go to construction


def pothole(metres_east: float = 0.0) -> Report:
    lon, lat = project(*ORIGIN, metres_east, 90)
    return submit_report(ReportDraft(category_code="pothole", lon=lon, lat=lat, attributes={"size": "small"}))


class EventTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_a_recorded_event_carries_the_department_the_report_is_with(self):
        report = pothole()
        written = record(report, ReportEvent.Kind.NOTE, message="Đã kiểm tra")
        self.assertEqual(ReportEvent.objects.get(pk=written.pk).department, self.construction)

    def test_recording_an_event_changes_neither_the_report_nor_its_incident(self):
        report = pothole()
        incident_version = Incident.objects.get(pk=report.incident_id).version
        record(report, ReportEvent.Kind.NOTE, message="Đã kiểm tra")
        stored = Report.objects.get(pk=report.pk)
        self.assertEqual((stored.version, stored.updated_at), (report.version, report.updated_at))
        self.assertEqual(Incident.objects.get(pk=report.incident_id).version, incident_version)

    def test_an_event_may_name_no_department(self):
        report = pothole()
        written = record(report, ReportEvent.Kind.NOTE, department_id=None)
        self.assertIsNone(ReportEvent.objects.get(pk=written.pk).department_id)

    def test_record_many_appends_every_event_in_order(self):
        report = pothole()
        record_many([event(report, ReportEvent.Kind.NOTE, message=m) for m in ("một", "hai")])
        self.assertEqual(list(report.events.filter(kind="note").values_list("message", flat=True)), ["một", "hai"])

    def test_touch_raises_the_version_once(self):
        report = pothole()
        report.priority = Report.Priority.HIGH
        touch(report, ["priority"])
        self.assertEqual(Report.objects.get(pk=report.pk).version, 2)

    def test_touch_saves_only_the_fields_it_is_given(self):
        report = pothole()
        report.priority, report.description = Report.Priority.HIGH, "đổi mà không lưu"
        touch(report, ["priority"])
        stored = Report.objects.get(pk=report.pk)
        self.assertEqual((stored.priority, stored.description), (Report.Priority.HIGH, ""))

    def test_bump_incident_versions_raises_each_one_by_one(self):
        first, second = pothole(0), pothole(500)
        before = dict(Incident.objects.filter(pk__in=[first.incident_id, second.incident_id])
                      .values_list("pk", "version"))
        bump_incident_versions([first.incident_id, second.incident_id])
        after = dict(Incident.objects.filter(pk__in=before).values_list("pk", "version"))
        self.assertEqual(after, {pk: version + 1 for pk, version in before.items()})


class InsertWithoutTheOrmTests(TestCase):
    """incidents.prepared.Insert writes the hot rows without save(): what save() would add must
    not exist for them, and what it writes must read back as the ORM wrote it."""

    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def test_the_models_written_without_save_have_no_signal_receivers(self):
        from django.db.models import signals

        from incidents.models import OutboxMessage

        for model in (Report, ReportEvent, OutboxMessage):
            for signal in (signals.pre_save, signals.post_save):
                with self.subTest(model=model.__name__, signal=signal):
                    self.assertFalse(signal.has_listeners(model))

    def test_events_written_together_read_back_with_their_keys_values_and_order(self):
        report = pothole(10)
        written = record_many([event(report, ReportEvent.Kind.NOTE, message="một", data={"a": [1, 2]}),
                               event(report, ReportEvent.Kind.NOTE, message="hai", public=True, department_id=None)])
        read = {e.pk: e for e in ReportEvent.objects.filter(pk__in=[e.pk for e in written])}
        self.assertEqual([read[e.pk].message for e in written], ["một", "hai"])
        self.assertEqual(read[written[0].pk].data, {"a": [1, 2]})
        self.assertEqual((read[written[1].pk].is_public, read[written[1].pk].department_id), (True, None))
        self.assertEqual(read[written[0].pk].department_id, report.department_id)
        self.assertFalse(written[0]._state.adding)

    def test_a_report_written_without_save_reads_back_as_it_was_given(self):
        report = pothole(20)
        stored = Report.objects.get(pk=report.pk)
        for field in Report._meta.concrete_fields:
            with self.subTest(field.name):
                self.assertEqual(getattr(stored, field.attname), getattr(report, field.attname))
