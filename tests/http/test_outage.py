"""During a database outage the API answers JSON 503 with Retry-After and pages a short 503 page,
never a 500; a short outage (a restart) is ridden through: a read waits and is served, a write
answers 503 with Retry-After: 1 once the database is back, a dropped connection is replaced.
The outage is real but our own: this test's connection is pointed at a port nothing listens
on, or its server session is terminated; the cluster others use stays up."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory, SimpleTestCase, override_settings

from incidents.http.outage import server_error

# pytest-django creates the test database for a SimpleTestCase only when it is marked so.
pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once the socket closes: connections are refused


@contextmanager
def database_unreachable() -> Iterator[None]:
    """New connections of this thread are refused until the block ends."""
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


@contextmanager
def database_unreachable_for(seconds: float) -> Iterator[None]:
    """New connections of this thread are refused for `seconds`, as during a restart."""
    settings_dict, port = connection.settings_dict, connection.settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = closed_port()
    timer = threading.Timer(seconds, settings_dict.__setitem__, ("PORT", port))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        connection.close()


@contextmanager
def database_session_terminated() -> Iterator[None]:
    """The server ends this thread's open session, as a restart would."""
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other, other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        yield
    finally:
        other.close()
        connection.close()


@override_settings(CITYPIN_DB_WAIT_S=0.3)  # an outage longer than the wait
class DatabaseOutageTests(SimpleTestCase):
    databases = {"default"}  # real connections, outside a test transaction they would break

    def assert_api_outage(self, response):
        self.assertEqual(response.status_code, 503)
        self.assertEqual(list(response.json()), ["database"])
        self.assertEqual(response["Retry-After"], "30")

    def test_the_api_answers_json_503_with_retry_after_when_the_database_refuses_connections(self):
        with database_unreachable():
            response = self.client.get("/api/v1/reports/")
        self.assert_api_outage(response)

    def test_a_report_sent_to_the_api_answers_503_when_the_database_refuses_connections(self):
        body = {"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]}}
        with database_unreachable():
            response = self.client.post("/api/v1/reports/", body, content_type="application/json")
        self.assert_api_outage(response)

    def test_a_connection_the_server_closed_is_replaced_and_the_read_served(self):
        with database_session_terminated():
            response = self.client.get("/api/v1/categories/")
        self.assertEqual(response.status_code, 200)

    def test_the_report_form_answers_a_short_503_page_in_vietnamese(self):
        with database_unreachable():
            response = self.client.get("/report/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "30")
        self.assertIn("text/html", response["Content-Type"])
        self.assertIn('lang="vi"', response.content.decode())
        self.assertIn("Citypin tạm thời không truy cập được", response.content.decode())

    def test_the_503_page_is_in_english_for_english_browsers(self):
        with database_unreachable():
            response = self.client.get("/", headers={"accept-language": "en"})
        self.assertEqual(response.status_code, 503)
        self.assertIn("Citypin is briefly unavailable", response.content.decode())

    def test_a_tracking_page_is_served_after_the_server_closed_the_connection(self):
        with database_session_terminated():
            response = self.client.get("/r/CT-2026-000001/")
        self.assertEqual(response.status_code, 404)  # no such report: the page was looked up, not a 503

    def test_healthz_answers_503(self):
        with database_unreachable():
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["status"], "error")

    def test_the_next_request_after_the_outage_is_served(self):
        with database_unreachable():
            self.client.get("/api/v1/categories/")
        self.assertEqual(self.client.get("/api/v1/categories/").status_code, 200)


@override_settings(CITYPIN_DB_WAIT_S=5)
class DatabaseRestartTests(SimpleTestCase):
    """The database is away for half a second, as during a restart, and comes back."""

    databases = {"default"}

    def test_a_read_waits_for_the_database_and_is_served(self):
        with database_unreachable_for(0.5):
            response = self.client.get("/api/v1/categories/")
        self.assertEqual(response.status_code, 200)

    def test_a_write_answers_503_with_retry_after_1_once_the_database_is_back(self):
        body = {"category": "pothole", "location": {"type": "Point", "coordinates": [105.72, 10.02]}}
        with database_unreachable_for(0.5):
            response = self.client.post("/api/v1/reports/", body, content_type="application/json")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "1")
        self.assertEqual(list(response.json()), ["database"])


class OutageOutsideTheViewsTests(SimpleTestCase):
    """An outage met after the view (the session saved on the way out) reaches handler500."""

    def test_it_answers_503_with_retry_after_not_500(self):
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            response = server_error(RequestFactory().post("/report/"))
        self.assertEqual((response.status_code, response["Retry-After"]), (503, "30"))

    def test_any_other_error_is_still_a_500(self):
        try:
            raise ValueError("a bug")
        except ValueError:
            response = server_error(RequestFactory().get("/"))
        self.assertEqual(response.status_code, 500)
