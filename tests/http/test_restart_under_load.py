"""Nothing lost, nothing doubled, no error a client cannot handle while the database restarts
under load: clients post reports with an Idempotency-Key to a real server and retry what
answers 503 with Retry-After; mid-run the database goes away twice (its sessions killed and new
connections refused for a moment, as in a fast and then an immediate restart). Afterwards every
report answered 201 is there, none is there twice, and no answer was another 5xx.

This is the cheap form of bench/restart.py (which restarts a whole cluster under gunicorn): the
outage here is this test database's alone — ALLOW_CONNECTIONS off and its backends terminated —
so the cluster other tests use stays up."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import psycopg2
import pytest
import requests
from django.db import connection

from incidents.http.ratelimit import ReportSubmitThrottle
from incidents.models import Report
from tests.world import World, build_world

CLIENTS = 6
REPORTS_PER_CLIENT = 20
OUTAGES_S = (0.7, 1.5)  # a fast restart, then a slower immediate one (WAL replay)
MAX_TRIES = 20


@pytest.fixture
def world(transactional_db, monkeypatch):
    monkeypatch.setitem(ReportSubmitThrottle.THROTTLE_RATES, "report_submit", "100000/hour")
    w = World()
    build_world(w)
    return w


class Restarts:
    """Takes this test database away and brings it back, from the maintenance database."""

    def __init__(self) -> None:
        params = connection.get_connection_params()
        self.database = params["dbname"]
        self.admin = psycopg2.connect(**{**params, "dbname": "postgres"})
        self.admin.autocommit = True

    def outage(self, seconds: float) -> None:
        with self.admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
            try:
                cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                               [self.database])
                time.sleep(seconds)
            finally:
                cursor.execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')

    def close(self) -> None:
        self.admin.close()


class Client(threading.Thread):
    def __init__(self, url: str, number: int, done: Counter, answers: list) -> None:
        super().__init__()
        self.url, self.number, self.done, self.answers = url, number, done, answers

    def run(self) -> None:
        session = requests.Session()
        for index in range(REPORTS_PER_CLIENT):
            key = str(uuid.uuid4())
            body = {"category": "pothole", "attributes": {"size": "large"}, "description": f"load {key}",
                    "location": {"type": "Point", "coordinates": [105.70 + self.number / 100, 10.0 + index / 1000]}}
            self.answers.append((key, self.send(session, key, body)))
            self.done["reports"] += 1

    def send(self, session: requests.Session, key: str, body: dict) -> list[tuple[int, str | None]]:
        """Every answer this report got, the last one final."""
        tries = []
        for _ in range(MAX_TRIES):
            try:
                answer = session.post(f"{self.url}/api/v1/reports/", json=body, timeout=30,
                                      headers={"Idempotency-Key": key})
            except requests.ConnectionError:
                tries.append((0, None))
                time.sleep(0.2)
                continue
            tries.append((answer.status_code, answer.headers.get("Retry-After")))
            if answer.status_code != 503:
                return tries
            time.sleep(min(float(answer.headers.get("Retry-After") or 1), 1.0))
        return tries


def test_a_database_restarted_twice_under_load_loses_and_doubles_nothing(live_server, world):
    done, answers = Counter(), []
    clients = [Client(live_server.url, n, done, answers) for n in range(CLIENTS)]
    restarts = Restarts()
    try:
        for client in clients:
            client.start()
        total = CLIENTS * REPORTS_PER_CLIENT
        for share, seconds in zip((1 / 3, 2 / 3), OUTAGES_S, strict=True):
            while done["reports"] < total * share and any(c.is_alive() for c in clients):
                time.sleep(0.01)
            restarts.outage(seconds)
        for client in clients:
            client.join()
    finally:
        restarts.close()
        connection.close()  # this thread's session was terminated too

    final = {key: tries[-1][0] for key, tries in answers}
    every_answer = [status_retry for _, tries in answers for status_retry in tries]
    assert Counter(final.values()) == {201: total}, Counter(final.values())
    assert [a for a in every_answer if a[0] >= 500 and not (a[0] == 503 and a[1])] == []
    descriptions = Counter(Report.objects.filter(description__startswith="load ").values_list("description", flat=True))
    assert sum(descriptions.values()) == total  # answered 201 and missing: none
    assert [d for d, n in descriptions.items() if n > 1] == []  # doubled: none
    assert set(descriptions) == {f"load {key}" for key in final}
