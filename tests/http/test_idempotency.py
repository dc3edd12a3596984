"""Idempotent report intake: a retry with the same Idempotency-Key and body answers the first
answer and creates nothing; the same key with another body is refused naming the key; two
copies sent at once make one report (a real server, two threads)."""

import json
import threading
import uuid

import pytest
import requests
from django.test import TestCase

from incidents.models import ClientSubmission, IdempotencyRecord, Report
from tests.open311.helpers import BASE, build_open311_world
from tests.world import World

URL = "/api/v1/reports/"


def pothole(**overrides) -> dict:
    body = {"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]},
            "description": "Ổ gà", "attributes": {"size": "large"}}
    return body | overrides


class IdempotencyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_open311_world(cls)

    def post(self, body: dict, key: str | None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return self.client.post(URL, json.dumps(body), content_type="application/json", **headers)

    def test_a_retry_with_the_same_key_returns_the_first_answer_and_creates_nothing(self):
        key = str(uuid.uuid4())
        first, retry = self.post(pothole(), key), self.post(pothole(), key)
        self.assertEqual((first.status_code, retry.status_code), (201, 201))
        self.assertEqual(retry.content, first.content)
        self.assertEqual(retry["Location"], first["Location"])
        self.assertEqual(retry["Idempotent-Replayed"], "true")
        self.assertEqual(Report.objects.count(), 1)

    def test_without_a_key_each_post_is_a_new_report(self):
        self.post(pothole(), None)
        self.post(pothole(), None)
        self.assertEqual(Report.objects.count(), 2)

    def test_the_same_key_with_another_body_is_422_naming_the_key(self):
        key = str(uuid.uuid4())
        self.post(pothole(), key)
        response = self.post(pothole(description="Khác"), key)
        self.assertEqual(response.status_code, 422)
        self.assertIn("Idempotency-Key", response.json())
        self.assertEqual(Report.objects.count(), 1)

    def test_a_malformed_key_is_400(self):
        for bad in ("has space", "x" * 201, "ключ"):
            with self.subTest(key=bad):
                response = self.client.post(URL, json.dumps(pothole()), content_type="application/json",
                                            headers={"Idempotency-Key": bad})
                self.assertEqual(response.status_code, 400)
                self.assertIn("Idempotency-Key", response.json())
        self.assertEqual(Report.objects.count(), 0)

    def test_a_refusal_is_not_kept_so_the_corrected_request_goes_through(self):
        key = str(uuid.uuid4())
        refused = self.post(pothole(category="unicorn"), key)
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(IdempotencyRecord.objects.count(), 0)
        self.assertEqual(self.post(pothole(), key).status_code, 201)

    def test_an_open311_retry_with_the_same_key_creates_one_request(self):
        body = {"api_key": self.raw_key, "service_code": "encroachment", "lat": "10.02", "long": "105.72"}
        key = str(uuid.uuid4())
        first = self.client.post(f"{BASE}/requests.json", body, headers={"Idempotency-Key": key})
        retry = self.client.post(f"{BASE}/requests.json", body, headers={"Idempotency-Key": key})
        self.assertEqual((first.status_code, retry.status_code), (201, 201))
        self.assertEqual(retry.json(), first.json())
        self.assertEqual((Report.objects.count(), ClientSubmission.objects.count()), (1, 1))
        other = self.client.post(f"{BASE}/requests.json", {**body, "description": "khác"},
                                 headers={"Idempotency-Key": key})
        self.assertEqual(other.status_code, 422)
        self.assertIn("Idempotency-Key", other.json()[0]["description"])

    def test_keys_of_two_open311_clients_do_not_meet(self):
        from incidents.models import ApiKey
        _other, other_raw = ApiKey.issue("Another app")
        key = str(uuid.uuid4())
        for raw in (self.raw_key, other_raw):
            response = self.client.post(f"{BASE}/requests.json", {"api_key": raw, "service_code": "encroachment",
                                                                  "lat": "10.02", "long": "105.72"},
                                        headers={"Idempotency-Key": key})
            self.assertEqual(response.status_code, 201)
        self.assertEqual(Report.objects.count(), 2)


@pytest.fixture
def world(transactional_db):
    w = World()
    build_open311_world(w)
    return w


def test_two_copies_sent_at_once_make_one_report(live_server, world):
    key, answers = str(uuid.uuid4()), []
    start = threading.Barrier(2)

    def send():
        start.wait()
        answers.append(requests.post(f"{live_server.url}{URL}", json=pothole(), headers={"Idempotency-Key": key},
                                     timeout=30))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].content == answers[1].content
    assert Report.objects.count() == 1
