"""The report form carries a one-time submission token: a double tap, or a resend after an
answer lost on a bad connection, creates one report, and the second send lands on the same
tracking page as the first."""

import re
import threading

import pytest
import requests
from django.test import TestCase

from incidents.models import OutboxMessage, Report
from tests.citizen.test_pages import form_data
from tests.world import World, build_world


def submission_of(html: str) -> str:
    return re.search(r'name="submission" value="([^"]*)"', html).group(1)


class OneTimeSubmissionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_world(cls)

    def fresh_token(self) -> str:
        return submission_of(self.client.get("/report/").content.decode())

    def test_each_rendering_of_the_form_carries_its_own_token(self):
        first, second = self.fresh_token(), self.fresh_token()
        self.assertRegex(first, r"^[A-Za-z0-9_-]{32}$")
        self.assertNotEqual(first, second)

    def test_sending_the_same_page_twice_makes_one_report_and_both_land_on_it(self):
        token = self.fresh_token()
        first = self.client.post("/report/", form_data(submission=token))
        again = self.client.post("/report/", form_data(submission=token))
        report = Report.objects.get()
        for response in (first, again):
            self.assertRedirects(response, f"/r/{report.public_id}/", fetch_redirect_response=False)
        self.assertEqual(OutboxMessage.objects.filter(recipient="b@example.vn").count(), 1)  # one receipt

    def test_a_refused_form_keeps_its_token_so_the_corrected_send_is_still_one_time(self):
        token = self.fresh_token()
        refused = self.client.post("/report/", form_data(submission=token, category=""))
        self.assertEqual(refused.status_code, 200)
        self.assertEqual(submission_of(refused.content.decode()), token)
        self.assertEqual(Report.objects.count(), 0)
        self.client.post("/report/", form_data(submission=token))
        self.client.post("/report/", form_data(submission=token))
        self.assertEqual(Report.objects.count(), 1)

    def test_a_refused_send_records_nothing_so_the_same_token_is_checked_again(self):
        token = self.fresh_token()
        self.client.post("/report/", form_data(submission=token, lat="91"))
        refused_again = self.client.post("/report/", form_data(submission=token, lat="91"))
        self.assertEqual(refused_again.status_code, 200)
        self.assertIn('id="id_lat-error"', refused_again.content.decode())

    def test_a_new_page_makes_a_new_report(self):
        self.client.post("/report/", form_data(submission=self.fresh_token()))
        self.client.post("/report/", form_data(submission=self.fresh_token()))
        self.assertEqual(Report.objects.count(), 2)

    def test_a_form_without_a_token_or_with_a_malformed_one_still_works_and_gets_a_fresh_one_back(self):
        self.client.post("/report/", form_data())
        self.assertEqual(Report.objects.count(), 1)
        refused = self.client.post("/report/", form_data(submission="x' OR 1=1 --", category=""))
        self.assertRegex(submission_of(refused.content.decode()), r"^[A-Za-z0-9_-]{32}$")
        self.client.post("/report/", form_data(submission="<script>" * 10))
        self.assertEqual(Report.objects.count(), 2)


@pytest.fixture
def world(transactional_db):
    w = World()
    build_world(w)
    return w


def test_two_sends_of_one_page_at_the_same_moment_make_one_report(live_server, world):
    browser = requests.Session()
    page = browser.get(f"{live_server.url}/report/", timeout=30)
    data = form_data(submission=submission_of(page.text), csrfmiddlewaretoken=browser.cookies["csrftoken"])
    start, answers = threading.Barrier(2), []

    def send():
        start.wait()
        answers.append(browser.post(f"{live_server.url}/report/", data=data, allow_redirects=False,
                                    headers={"Referer": f"{live_server.url}/report/"}, timeout=30))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = Report.objects.get()
    assert [a.status_code for a in answers] == [302, 302]
    assert {a.headers["Location"] for a in answers} == {f"/r/{report.public_id}/"}
