"""GET requests, one request, and FixMyStreet's servicerequestupdates: the public projection
only, the spec's shapes in JSON and XML, every filter, the 90-day window, paging, extensions,
and a 400 naming the parameter for each malformed one."""

import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from PIL import Image

from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import ApiKey, ClientSubmission, Report
from incidents.photos import clean_photo
from incidents.triage import add_note, approve_photo, reply_to_report
from incidents.workflow import transition_report
from tests.open311.helpers import BASE, build_open311_world, children, xml_of

REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
MARKERS = ["MARKER-NAME-Q7", "marker-q7@example.org", "0912 777 123", "MARKER-NOTE-Q7", "MARKER-DEVICE-Q7",
           "MARKER-ACCOUNT-Q7", "203.0.113.77"]
W3C = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"


def photo() -> SimpleUploadedFile:
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(image, "JPEG")
    return SimpleUploadedFile("p.jpg", image.getvalue(), content_type="image/jpeg")


class GetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_open311_world(cls)
        cls.agent = get_user_model().objects.create(username="agent")
        cls.encroachment.public_location_precision_m = 100
        cls.encroachment.save()
        now = timezone.now()

        def report(category="pothole", days_ago=1, lon=105.72, lat=10.02, **extra):
            attributes = {"size": "small"} if category == "pothole" else {}
            return submit_report(ReportDraft(category_code=category, lon=lon, lat=lat, attributes=attributes,
                                             created_at=now - timedelta(days=days_ago), **extra), notify=False)

        cls.old = report(days_ago=120)
        cls.pothole_open = report(days_ago=3)
        cls.resolved = report(days_ago=2)
        transition_report(cls.resolved.pk, "resolved", actor=cls.agent, message="Đã vá xong.")
        reply_to_report(cls.resolved.pk, "Cảm ơn bạn đã báo.", actor=cls.agent)
        # Every private field holds a marker; the category publishes a 100 m grid point.
        cls.private = report(category="encroachment", days_ago=1, lon=105.7234567, lat=10.0123456,
                             description="Lấn chiếm vỉa hè", reporter_ip="203.0.113.77",
                             reporter=Reporter(name="MARKER-NAME-Q7", email="marker-q7@example.org",
                                               phone="0912 777 123"),
                             photos=[clean_photo(photo()), clean_photo(photo())])
        ClientSubmission.objects.create(report=cls.private, api_key=ApiKey.objects.first(), token="t-q7",
                                        device_id="MARKER-DEVICE-Q7", account_id="MARKER-ACCOUNT-Q7")
        add_note(cls.private.pk, "MARKER-NOTE-Q7", actor=cls.agent)
        first, second = cls.private.photos.order_by("id")
        approve_photo(second.pk, actor=cls.agent)
        cls.approved, cls.unapproved = second, first

    def get(self, query="", fmt="json", **headers):
        return self.client.get(f"{BASE}/requests.{fmt}{'?' + query if query else ''}", **headers)

    def ids(self, query=""):
        response = self.get(query)
        self.assertEqual(response.status_code, 200, response.content)
        return [r["service_request_id"] for r in response.json()]

    def request(self, report, query=""):
        return self.client.get(f"{BASE}/requests/{report.public_id}.json{'?' + query if query else ''}").json()[0]

    def test_the_default_is_the_last_90_days_newest_first(self):
        self.assertEqual(self.ids(), [self.private.public_id, self.resolved.public_id, self.pothole_open.public_id])

    def test_a_request_has_the_spec_fields_in_order_with_w3c_times(self):
        request = self.request(self.pothole_open)
        self.assertEqual(list(request), REQUEST_ELEMENTS)
        self.assertEqual(request["status"], "open")
        self.assertEqual(request["service_code"], "pothole")
        self.assertEqual(request["agency_responsible"], "Sở Xây dựng")
        self.assertRegex(request["requested_datetime"], W3C)
        self.assertRegex(request["expected_datetime"], W3C)
        self.assertEqual((request["lat"], request["long"]), (10.02, 105.72))

    def test_one_request_is_still_a_list(self):
        response = self.client.get(f"{BASE}/requests/{self.pothole_open.public_id}.json")
        self.assertIsInstance(response.json(), list)
        self.assertEqual(len(response.json()), 1)

    def test_an_unknown_request_is_404(self):
        response = self.client.get(f"{BASE}/requests/CT-1999-000001.json")
        self.assertEqual(response.status_code, 404)
        self.assertIn("service_request_id", response.json()[0]["description"])

    def test_the_xml_list_keeps_the_spec_order_and_escapes(self):
        root = xml_of(self.get(fmt="xml"))
        self.assertEqual(root.tag, "service_requests")
        self.assertEqual(children(root.find("request")), REQUEST_ELEMENTS)
        self.assertEqual(len(root.findall("request")), 3)

    def test_status_notes_is_the_last_public_message(self):
        request = self.request(self.resolved)
        self.assertEqual(request["status"], "closed")
        self.assertEqual(request["status_notes"], "Cảm ơn bạn đã báo.")

    def test_media_url_is_an_approved_photo_only(self):
        request = self.request(self.private)
        self.assertEqual(request["media_url"], f"http://testserver/photos/{self.approved.uuid}/")
        self.assertNotIn(str(self.unapproved.uuid), str(self.get().content))

    def test_the_location_is_the_public_point_snapped_to_the_grid(self):
        request = self.request(self.private)
        self.private.refresh_from_db()
        self.assertEqual((request["long"], request["lat"]),
                         (round(self.private.public_location.x, 6), round(self.private.public_location.y, 6)))
        self.assertNotEqual(round(self.private.location.x, 6), request["long"])

    def test_no_private_marker_appears_in_any_read(self):
        reads = [self.get(), self.get(fmt="xml"), self.get("extensions=true"), self.get("extensions=true", fmt="xml"),
                 self.client.get(f"{BASE}/requests/{self.private.public_id}.xml?extensions=true"),
                 self.client.get(f"{BASE}/servicerequestupdates.json"),
                 self.client.get(f"{BASE}/servicerequestupdates.xml")]
        for response in reads:
            body = response.content.decode()
            self.assertEqual(response.status_code, 200)
            for marker in MARKERS + [str(self.unapproved.uuid)]:
                self.assertNotIn(marker, body)

    def test_service_request_id_overrides_the_other_filters(self):
        ids = f"{self.old.public_id},{self.pothole_open.public_id}"
        self.assertEqual(set(self.ids(f"service_request_id={ids}&service_code=encroachment&status=closed")),
                         {self.old.public_id, self.pothole_open.public_id})

    def test_service_code_takes_a_comma_list(self):
        self.assertEqual(self.ids("service_code=encroachment"), [self.private.public_id])
        self.assertEqual(len(self.ids("service_code=encroachment,pothole")), 3)

    def test_status_open_closed_or_both(self):
        self.assertEqual(self.ids("status=closed"), [self.resolved.public_id])
        self.assertNotIn(self.resolved.public_id, self.ids("status=open"))
        self.assertEqual(len(self.ids("status=open,closed")), 3)

    def test_start_and_end_date_window_the_request_time(self):
        start = (timezone.now() - timedelta(days=150)).date().isoformat()
        end = (timezone.now() - timedelta(days=100)).date().isoformat()
        self.assertEqual(self.ids(f"start_date={start}&end_date={end}"), [self.old.public_id])
        self.assertEqual(self.ids(f"start_date={start}"), [self.old.public_id])  # and the 90 days after it

    def test_w3c_datetimes_with_offsets_are_read(self):
        start = (timezone.now() - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
        self.assertIn(self.pothole_open.public_id, self.ids(f"start_date={start.replace('+', '%2B')}"))

    def test_a_span_over_90_days_is_400(self):
        response = self.get("start_date=2026-01-01&end_date=2026-06-01", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 400)
        self.assertIn("90 days", response.json()[0]["description"])
        vietnamese = self.get("start_date=2026-01-01&end_date=2026-06-01&locale=vi").json()
        self.assertIn("90 ngày", vietnamese[0]["description"])

    def test_malformed_and_impossible_dates_are_400_naming_them(self):
        for query, name in (("start_date=yesterday", "start_date"), ("end_date=2026-02-30", "end_date"),
                            ("start_date=2026-13-01T00:00:00Z", "start_date"),
                            ("updated_after=2026-01-01T25:00:00Z", "updated_after"),
                            ("start_date=2026-01-01T00:00:00%2B18:00", "start_date")):
            with self.subTest(query=query):
                response = self.get(query)
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn(name, response.json()[0]["description"])

    def test_end_before_start_is_400(self):
        self.assertEqual(self.get("start_date=2026-05-02&end_date=2026-05-01").status_code, 400)

    def test_an_unknown_status_is_400_and_an_unknown_service_code_404(self):
        self.assertEqual(self.get("status=pending").status_code, 400)
        self.assertEqual(self.get("service_code=unicorn").status_code, 404)

    def test_several_problems_are_reported_at_once(self):
        errors = self.get("status=pending&page_size=0&extensions=maybe").json()
        self.assertEqual(len(errors), 3)
        self.assertTrue(all(e["code"] == 400 for e in errors))

    def test_page_and_page_size_page_through(self):
        self.assertEqual(self.ids("page_size=2") + self.ids("page_size=2&page=2"),
                         [self.private.public_id, self.resolved.public_id, self.pothole_open.public_id])
        self.assertEqual(self.get("page_size=1001").status_code, 400)

    def test_updated_after_finds_what_changed(self):
        after = (timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        Report.objects.filter(pk=self.pothole_open.pk).update(updated_at=timezone.now() - timedelta(days=3))
        self.assertNotIn(self.pothole_open.public_id, self.ids(f"updated_after={after}"))
        self.assertIn(self.resolved.public_id, self.ids(f"updated_after={after}"))

    def test_extensions_add_the_detailed_status_incident_photos_and_public_notes(self):
        extended = self.request(self.resolved, "extensions=true")["extended_attributes"]
        self.assertEqual(extended["detailed_status"], "resolved")
        self.assertEqual(extended["incident"], self.resolved.incident_id)
        self.assertEqual(extended["supporter_count"], 0)
        self.assertEqual([n["kind"] for n in extended["notes"]], ["created", "status_changed", "comment"])
        self.assertEqual(extended["notes"][1]["description"], "Đã vá xong.")
        photos = self.request(self.private, "extensions=true")["extended_attributes"]["photos"]
        self.assertEqual(photos, [f"http://testserver/photos/{self.approved.uuid}/"])
        self.assertNotIn("extended_attributes", self.request(self.resolved))

    def test_extensions_in_xml(self):
        root = xml_of(self.client.get(f"{BASE}/requests/{self.resolved.public_id}.xml?extensions=true"))
        extended = root.find("request/extended_attributes")
        self.assertEqual(children(extended), ["detailed_status", "incident", "supporter_count", "photos", "notes"])
        self.assertEqual([n.findtext("kind") for n in extended.findall("notes/note")],
                         ["created", "status_changed", "comment"])

    def test_servicerequestupdates_lists_public_changes_oldest_first(self):
        updates = self.client.get(f"{BASE}/servicerequestupdates.json").json()
        self.assertEqual([(u["service_request_id"], u["status"], u["description"]) for u in updates],
                         [(self.resolved.public_id, "FIXED", "Đã vá xong."),
                          (self.resolved.public_id, "FIXED", "Cảm ơn bạn đã báo.")])
        self.assertRegex(updates[0]["updated_datetime"], W3C)
        root = xml_of(self.client.get(f"{BASE}/servicerequestupdates.xml"))
        self.assertEqual(root.tag, "service_request_updates")
        self.assertEqual(children(root.find("request_update")),
                         ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"])

    def test_servicerequestupdates_windows_and_checks_its_dates(self):
        future = (timezone.localdate() + timedelta(days=1)).isoformat()  # a date alone is the city's day
        self.assertEqual(self.client.get(f"{BASE}/servicerequestupdates.json?start_date={future}").json(), [])
        self.assertEqual(self.client.get(f"{BASE}/servicerequestupdates.json?start_date=nope").status_code, 400)
