"""POST requests: an Open311 client's report goes through the one intake (routed, placed in an
incident, due times, its department's notice queued); every kind of bad input answers 400
naming the parameter, a bad key 403, and nothing is saved."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from incidents.models import ClientSubmission, OutboxMessage, Report, ReportEvent
from tests.open311.helpers import BASE, build_open311_world, xml_of

URL = f"{BASE}/requests.json"


class PostTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_open311_world(cls)

    def body(self, **overrides) -> dict:
        body = {"api_key": self.raw_key, "service_code": "pothole", "lat": "10.02", "long": "105.72",
                "description": "Ổ gà lớn trước chợ", "attribute[size]": "large", "attribute[depth_cm]": "12",
                "attribute[hazards][]": ["water", "night"], "first_name": "Văn A", "last_name": "Nguyễn",
                "email": "a@example.vn", "phone": "0909 123 456", "device_id": "device-42", "account_id": "acct-7",
                "media_url": "https://img.example/p.jpg"}
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    def assert_refused(self, response, status: int, *words: str):
        self.assertEqual(response.status_code, status, response.content)
        descriptions = " ".join(e["description"] for e in response.json())
        self.assertTrue(all(e["code"] == status for e in response.json()))
        for word in words:
            self.assertIn(word, descriptions)
        self.assertEqual(Report.objects.count(), 0)
        self.assertEqual(ReportEvent.objects.count(), 0)
        self.assertEqual(ClientSubmission.objects.count(), 0)
        self.assertEqual(OutboxMessage.objects.count(), 0)

    def test_a_pothole_is_routed_and_answered_with_its_id_token_and_notice(self):
        response = self.client.post(URL, self.body(), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 201, response.content)
        (answer,) = response.json()
        report = Report.objects.get()
        self.assertEqual(answer["service_request_id"], report.public_id)
        self.assertEqual(answer["account_id"], "acct-7")
        self.assertIn("Construction", answer["service_notice"])
        self.assertIn("target to resolve", answer["service_notice"])
        self.assertEqual(report.source, Report.Source.OPEN311)
        self.assertEqual(report.department, self.construction)
        self.assertEqual(report.attributes, {"size": "large", "depth_cm": 12, "hazards": ["night", "water"]})
        self.assertEqual(report.reporter_name, "Văn A Nguyễn")
        self.assertIsNotNone(report.resolve_due_at)
        self.assertIsNotNone(report.incident_id)
        self.assertEqual(sorted(OutboxMessage.objects.filter(report=report).values_list("recipient", flat=True)),
                         ["a@example.vn", "xay-dung@example.vn"])  # the reporter's receipt, the department's notice

    def test_what_the_client_said_is_kept_privately_with_the_report(self):
        self.client.post(URL, self.body())
        submission = ClientSubmission.objects.get()
        self.assertEqual((submission.api_key, submission.device_id, submission.account_id, submission.media_url),
                         (self.key, "device-42", "acct-7", "https://img.example/p.jpg"))

    def test_the_token_finds_the_request(self):
        (answer,) = self.client.post(URL, self.body()).json()
        lookup = self.client.get(f"{BASE}/tokens/{answer['token']}.json").json()
        self.assertEqual(lookup, [{"service_request_id": answer["service_request_id"], "token": answer["token"]}])
        root = xml_of(self.client.get(f"{BASE}/tokens/{answer['token']}.xml"))
        self.assertEqual(root.findtext("request/service_request_id"), answer["service_request_id"])
        self.assertEqual(self.client.get(f"{BASE}/tokens/nope.json").status_code, 404)

    def test_the_xml_answer_has_the_spec_elements(self):
        root = xml_of(self.client.post(f"{BASE}/requests.xml", self.body()))
        self.assertEqual(root.tag, "service_requests")
        self.assertEqual([c.tag for c in root.find("request")],
                         ["service_request_id", "token", "service_notice", "account_id"])

    def test_an_address_without_coordinates_goes_to_operations_center_triage(self):
        response = self.client.post(URL, self.body(lat=None, long=None, address_string="12 Đường Thử, Phường A"))
        self.assertEqual(response.status_code, 201, response.content)
        report = Report.objects.get()
        self.assertIsNone(report.location)
        self.assertEqual(report.department, self.ioc)
        self.assertEqual(report.address, "12 Đường Thử, Phường A")

    def test_an_address_id_alone_is_a_location_too(self):
        response = self.client.post(URL, self.body(lat=None, long=None, address_id="A-000123"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertIn("A-000123", Report.objects.get().address)

    def test_a_photo_upload_is_kept_for_staff_approval(self):
        image = io.BytesIO()
        Image.new("RGB", (40, 30), "red").save(image, "JPEG")
        upload = SimpleUploadedFile("p.jpg", image.getvalue(), content_type="image/jpeg")
        response = self.client.post(URL, {**self.body(), "media": upload})
        self.assertEqual(response.status_code, 201, response.content)
        photo = Report.objects.get().photos.get()
        self.assertFalse(photo.is_public)

    def test_a_missing_key_is_403(self):
        self.assert_refused(self.client.post(URL, self.body(api_key=None)), 403, "api_key")

    def test_an_unknown_key_is_403(self):
        self.assert_refused(self.client.post(URL, self.body(api_key="not-a-key")), 403, "api_key")

    def test_a_revoked_key_is_403(self):
        self.assert_refused(self.client.post(URL, self.body(api_key=self.revoked_key)), 403, "api_key")

    def test_no_service_code_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(service_code=None)), 400, "service_code")

    def test_an_unknown_service_code_is_400_naming_it(self):
        self.assert_refused(self.client.post(URL, self.body(service_code="unicorn")), 400, "service_code", "unicorn")

    def test_no_location_at_all_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(lat=None, long=None)), 400, "lat/long")

    def test_lat_without_long_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(long=None), HTTP_ACCEPT_LANGUAGE="en"), 400, "lat and long")

    def test_non_numeric_coordinates_are_400(self):
        for bad in ("abc", "nan", "inf", "1e999", "10,02"):
            with self.subTest(bad=bad):
                self.assert_refused(self.client.post(URL, self.body(lat=bad)), 400, "lat:")

    def test_out_of_range_coordinates_are_400(self):
        self.assert_refused(self.client.post(URL, self.body(lat="91")), 400, "lat:")
        self.assert_refused(self.client.post(URL, self.body(long="-180.5")), 400, "long:")

    def test_a_place_outside_the_jurisdiction_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(lat="21.0", long="105.8")), 400, "lat/long")

    def test_a_missing_required_attribute_is_400_naming_it(self):
        self.assert_refused(self.client.post(URL, self.body(**{"attribute[size]": None})), 400, "attribute[size]")

    def test_a_value_not_in_the_list_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(**{"attribute[size]": "huge"})), 400,
                            "attribute[size]", "small")
        self.assert_refused(self.client.post(URL, self.body(**{"attribute[hazards][]": ["water", "lava"]})), 400,
                            "attribute[hazards]")

    def test_an_unknown_attribute_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(**{"attribute[colour]": "red"})), 400, "attribute:")

    def test_an_out_of_range_number_attribute_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(**{"attribute[depth_cm]": "900"})), 400,
                            "attribute[depth_cm]")

    def test_a_description_over_4000_characters_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(description="x" * 4001)), 400, "description")

    def test_a_bad_email_or_media_url_is_400(self):
        self.assert_refused(self.client.post(URL, self.body(email="not-an-email")), 400, "email")
        self.assert_refused(self.client.post(URL, self.body(media_url="javascript:alert(1)")), 400, "media_url")

    def test_every_problem_is_named_at_once(self):
        response = self.client.post(URL, self.body(lat="abc", long="999", description="x" * 4001))
        self.assert_refused(response, 400, "lat:", "long:", "description")
        self.assertEqual(len(response.json()), 3)

    def test_errors_come_in_xml_for_xml(self):
        response = self.client.post(f"{BASE}/requests.xml", self.body(service_code=None, lat=None))
        root = xml_of(response)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(root.tag, "errors")
        self.assertEqual([e.findtext("code") for e in root.findall("error")], ["400", "400"])

    def test_an_unknown_jurisdiction_is_404_and_saves_nothing(self):
        self.assert_refused(self.client.post(URL, self.body(jurisdiction_id="elsewhere")), 404, "jurisdiction_id")

    def test_a_hostile_description_is_stored_as_text_and_escaped_in_xml(self):
        self.client.post(URL, self.body(description="<script>alert(1)</script> & ]]>"))
        root = xml_of(self.client.get(f"{BASE}/requests.xml"))
        self.assertEqual(root.findtext("request/description"), "<script>alert(1)</script> & ]]>")
