"""Webhooks: a department's system gets a signed JSON POST when a report is routed, rerouted
to it or reopened; queued with the change, sent by the outbox to a real receiver on 127.0.0.1,
verifiable with the README's recipe, and refused where it would reach inside the network."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import tempfile
from unittest import mock

from django.test import TestCase, override_settings

from incidents.delivery import webhook
from incidents.delivery.outbox import send_pending
from incidents.delivery.webhook import UnsafeURL, check_url
from incidents.intake import ReportDraft, Reporter, submit_report
from incidents.models import OutboxMessage, WebhookEndpoint
from incidents.triage import reroute_report
from incidents.workflow import transition_report
from tests.delivery.receiver import Receiver
from tests.world import build_world

MARKER = "reporter-marker-7f3a"


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """The README's receiver recipe, in Python."""
    timestamp = headers["X-Citypin-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Citypin-Signature"], "sha256=" + expected)


class WebhookTests(TestCase):
    @classmethod
    def setUpClass(cls):
        cls.receiver = Receiver().__enter__()  # before setUpTestData: not test data (not copied)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls):
        build_world(cls)
        cls.hook = WebhookEndpoint.objects.create(department=cls.construction, url=cls.receiver.url, secret="s3cret")

    @classmethod
    def tearDownClass(cls):
        cls.receiver.__exit__()
        super().tearDownClass()

    def setUp(self):
        self.receiver.requests.clear()

    def submit(self, reporter=None):
        return submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={"size": "large"},
                                         description="Ổ gà sâu", reporter=reporter or Reporter()))

    def test_a_new_report_queues_one_webhook_for_its_department(self):
        report = self.submit()
        message = OutboxMessage.objects.get(channel="webhook")
        self.assertEqual((message.endpoint, message.report, message.subject), (self.hook, report, "report.routed"))
        self.assertEqual(self.receiver.requests, [])  # nothing is sent inside the transaction

    def test_the_worker_posts_it_signed_and_the_receiver_verifies_it(self):
        report = self.submit()
        self.assertEqual(send_pending(), (1, 0))
        [request] = self.receiver.requests
        self.assertTrue(verify("s3cret", request.headers, request.body))
        payload = json.loads(request.body)
        self.assertEqual(payload["event"], "report.routed")
        self.assertEqual(payload["report"]["public_id"], report.public_id)
        self.assertEqual(payload["report"]["location"]["coordinates"], [105.72, 10.02])
        self.assertEqual(request.headers["X-Citypin-Event"], "report.routed")
        self.assertEqual(request.headers["Content-Type"], "application/json")

    def test_the_readme_openssl_recipe_gives_the_signature(self):
        self.submit()
        send_pending()
        [request] = self.receiver.requests
        with tempfile.NamedTemporaryFile() as body:
            body.write(request.body)
            body.flush()
            recipe = (f"printf '%s.' \"$TIMESTAMP\" | cat - {body.name} | openssl dgst -sha256 -hmac \"$SECRET\""
                      " | sed 's/^.* /sha256=/'")
            out = subprocess.run(["sh", "-c", recipe], capture_output=True, text=True, check=True,
                                 env={"TIMESTAMP": request.headers["X-Citypin-Timestamp"], "SECRET": "s3cret",
                                      "PATH": os.environ["PATH"]}).stdout.strip()
        self.assertEqual(out, request.headers["X-Citypin-Signature"])

    def test_a_signature_under_another_secret_does_not_verify(self):
        self.submit()
        send_pending()
        [request] = self.receiver.requests
        self.assertFalse(verify("another", request.headers, request.body))

    def test_a_changed_timestamp_does_not_verify(self):
        self.submit()
        send_pending()
        [request] = self.receiver.requests
        headers = {**request.headers, "X-Citypin-Timestamp": str(int(request.headers["X-Citypin-Timestamp"]) + 1)}
        self.assertFalse(verify("s3cret", headers, request.body))

    def test_the_idempotency_key_and_delivery_id_name_the_message(self):
        self.submit()
        send_pending()
        [request] = self.receiver.requests
        message = OutboxMessage.objects.get(channel="webhook")
        self.assertEqual(request.headers["Idempotency-Key"], f"citypin-{message.pk}-{int(message.created_at.timestamp())}")
        self.assertEqual(request.headers["X-Citypin-Delivery"], request.headers["Idempotency-Key"])

    def test_the_payload_carries_no_reporter_contact(self):
        self.submit(Reporter(name=MARKER, email=f"{MARKER}@example.vn", phone="0909123456"))
        send_pending()
        [request] = self.receiver.requests
        body = request.body.decode()
        self.assertNotIn(MARKER, body)
        self.assertNotIn("0909123456", body)
        self.assertNotIn("reporter", body)

    def test_a_reroute_posts_to_the_new_department(self):
        report = self.submit()
        hook = WebhookEndpoint.objects.create(department=self.road_authority, url=self.receiver.url)
        reroute_report(report.pk, self.road_authority.pk, "đường quốc lộ", actor=None)
        message = OutboxMessage.objects.get(endpoint=hook)
        self.assertEqual(message.subject, "report.rerouted")

    def test_a_reopen_posts_to_the_department(self):
        report = self.submit()
        transition_report(report.pk, "resolved", message="Đã vá")
        transition_report(report.pk, "reopened", message="Vẫn còn")
        self.assertEqual(list(OutboxMessage.objects.filter(endpoint=self.hook).values_list("subject", flat=True)
                              .order_by("id")), ["report.routed", "report.reopened"])

    def test_an_endpoint_that_asked_for_other_events_gets_nothing(self):
        self.hook.events = ["report.reopened"]
        self.hook.save()
        self.submit()
        self.assertFalse(OutboxMessage.objects.filter(channel="webhook").exists())

    def test_an_inactive_endpoint_gets_nothing(self):
        self.hook.active = False
        self.hook.save()
        self.submit()
        self.assertFalse(OutboxMessage.objects.filter(channel="webhook").exists())

    def test_a_rejected_report_queues_no_webhook(self):
        with self.assertRaises(Exception):
            submit_report(ReportDraft(category_code="pothole", lon=105.72, lat=10.02, attributes={}))
        self.assertFalse(OutboxMessage.objects.exists())

    def test_a_non_2xx_answer_is_kept_and_retried(self):
        self.receiver.script = [404]
        self.submit()
        self.assertEqual(send_pending(), (0, 1))
        message = OutboxMessage.objects.get(channel="webhook")
        self.assertIn("HTTP 404", message.last_error)
        self.assertIsNone(message.sent_at)

    def test_a_redirect_is_not_followed_and_is_retried(self):
        self.receiver.script = [302]
        self.submit()
        self.assertEqual(send_pending(), (0, 1))
        self.assertEqual(len(self.receiver.requests), 1)

    @override_settings(CITYPIN_WEBHOOK_ALLOW_PRIVATE=False)
    def test_with_debug_off_a_loopback_url_is_refused_at_send_time(self):
        self.submit()
        self.assertEqual(send_pending(), (0, 1))
        self.assertIn("webhook URLs must be https", OutboxMessage.objects.get(channel="webhook").last_error)
        self.assertEqual(self.receiver.requests, [])


@override_settings(CITYPIN_WEBHOOK_ALLOW_PRIVATE=False)
class WebhookAddressTests(TestCase):
    """Server-side request forgery: what a webhook URL may point at with DEBUG off."""

    def test_http_is_refused(self):
        with self.assertRaisesMessage(UnsafeURL, "https"):
            check_url("http://example.com/hook")

    def test_a_loopback_address_is_refused(self):
        with self.assertRaisesMessage(UnsafeURL, "not a public address"):
            check_url("https://127.0.0.1/hook")

    def test_a_private_address_is_refused(self):
        with self.assertRaisesMessage(UnsafeURL, "not a public address"):
            check_url("https://10.1.2.3/hook")

    def test_a_link_local_address_is_refused(self):
        with self.assertRaisesMessage(UnsafeURL, "not a public address"):
            check_url("https://169.254.169.254/latest/meta-data")

    def test_an_ipv4_mapped_loopback_is_refused(self):
        with self.assertRaisesMessage(UnsafeURL, "not a public address"):
            check_url("https://[::ffff:127.0.0.1]/hook")

    def test_credentials_in_the_url_are_refused(self):
        with self.assertRaisesMessage(UnsafeURL, "credentials"):
            check_url("https://user:pw@example.com/hook")

    def test_a_public_https_name_is_accepted(self):
        check_url("https://hooks.example.com/citypin")

    def test_a_name_that_resolves_to_loopback_at_connect_time_is_refused(self):
        """DNS rebinding: the name was public when saved, it points at 127.0.0.1 now."""
        answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))]
        with mock.patch.object(socket, "getaddrinfo", return_value=answer):
            with self.assertRaisesMessage(UnsafeURL, "127.0.0.1 is not a public address"):
                webhook.resolve("hooks.example.com", 443)

    def test_one_private_answer_among_public_ones_refuses_the_name(self):
        answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
                  (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.1", 443))]
        with mock.patch.object(socket, "getaddrinfo", return_value=answer):
            with self.assertRaisesMessage(UnsafeURL, "192.168.1.1"):
                webhook.resolve("hooks.example.com", 443)

    def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(self):
        answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
        with mock.patch.object(socket, "getaddrinfo", return_value=answer):
            address = webhook.resolve("hooks.example.com", 443)
        connection = webhook._PinnedHTTPS("hooks.example.com", 443, address, 1.0)
        self.assertEqual((connection.addresses, connection.host), (["93.184.215.14"], "hooks.example.com"))

    @override_settings(CITYPIN_WEBHOOK_ALLOW_PRIVATE=True)
    def test_a_name_whose_first_address_refuses_is_reached_at_the_next(self):
        """localhost may resolve to ::1 first while the receiver listens on 127.0.0.1 only."""
        with socket.socket() as listening:
            listening.bind(("127.0.0.1", 0))
            listening.listen()
            port = listening.getsockname()[1]
            answer = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
                      (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            with mock.patch.object(socket, "getaddrinfo", return_value=answer):
                addresses = webhook.resolve("localhost", port)
            connection = webhook._PinnedHTTP("localhost", port, addresses, 1.0)
            connection.connect()
            self.assertEqual(connection.sock.getpeername()[:2], ("127.0.0.1", port))
            connection.close()
