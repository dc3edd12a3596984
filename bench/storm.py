"""A storm and a restart under load, against Citypin served as a city runs it (`make serve`'s
gunicorn, DEBUG off, the database-backed cache, the worker draining the outbox), on a cluster of
this benchmark's own (bench/_cluster.py) so that restarting it disturbs nobody else.

1. The storm: reports POSTed to /api/v1/reports/ at rising offered rates (open loop: each
   request leaves at its scheduled time, whatever the earlier ones are doing) for STEP_S seconds
   each. The sustained rate is the highest one served in full with p95 ≤ 250 ms. Baseline, in
   the same run on the same cluster: the raw single-statement SQL insert of a report row (a copy
   of a real one), CLIENTS connections in parallel. Target: ≥ 150 reports/s on 2 cores, and the
   outbox keeping up (what the storm queued is sent within a few seconds of its end). The
   department's mails of new reports are gathered, one per window (CITYPIN_STAFF_NOTICE_GATHER_S):
   each step prints how many reports wait for the window's end, and for how many mails.
2. Restart under load: CLIENTS clients post RESTART_REPORTS reports, each with an
   Idempotency-Key, retrying 503s after Retry-After; the cluster is restarted fast at a third
   and immediate at two thirds. Counted: reports answered 201 and missing (must be 0),
   duplicates (must be 0), 5xx other than 503 with Retry-After (must be 0), 503s (target 0).

Run: .venv/bin/python bench/storm.py   (about 4 minutes; loopback only)"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
import requests  # noqa: E402

from bench._cluster import PrivateCluster, child_pids, cpu_seconds, free_port  # noqa: E402

DB = "citypin_storm"
CLIENTS = 8
RATES = (50, 100, 150, 200, 250, 300)
STEP_S = 8
P95_LIMIT_MS = 250
RESTART_REPORTS = 2000
WARM_UP = 400  # reports sent before measuring: every gunicorn worker has loaded what it loads lazily
BASELINE_S = 5
PY = str(ROOT / ".venv" / "bin" / "python")


def report(i: int, key: str = "") -> dict:
    """A pothole somewhere in central Cần Thơ (spread, so duplicates stay rare)."""
    return {"category": "pothole", "attributes": {"size": "large"}, "description": f"storm {key or i}",
            "location": {"type": "Point", "coordinates": [105.70 + (i * 37 % 500) / 10000,
                                                          10.00 + (i * 53 % 500) / 10000]}}


class City:
    """The served city: migrated, the demo loaded, gunicorn and the worker running."""

    def __init__(self, cluster: PrivateCluster) -> None:
        self.cluster, self.port = cluster, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": cluster.url(DB), "CITYPIN_BENCH_DB": DB, "DEBUG": "0",
                    "CITYPIN_TLS": "0", "ALLOWED_HOSTS": "127.0.0.1", "REPORT_SUBMIT_RATE": "100000000/hour",
                    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "CITYPIN_DB_WAIT_S": "5"}

    def __enter__(self) -> City:
        self.cluster.create_database(DB)
        self.manage("-c", "from bench._db import use_bench_database; use_bench_database()")
        self.manage(str(ROOT / "manage.py"), "createcachetable")
        workers = os.environ.get("WEB_CONCURRENCY") or str(2 * os.cpu_count() + 1)  # as scripts/serve.sh
        self.web = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "--bind",
                                     f"127.0.0.1:{self.port}", "--workers", workers, "--timeout", "60"],
                                    cwd=ROOT, env=self.env, stderr=subprocess.DEVNULL)
        self.worker = subprocess.Popen([PY, "manage.py", "run_worker"], cwd=ROOT, env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if requests.get(f"{self.url}/healthz", timeout=10).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or its workers still starting
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer /healthz")

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each part: the web (gunicorn's processes), the database (the
        cluster's), the worker, and this benchmark's own client."""
        return {"web": cpu_seconds([self.web.pid, *child_pids(self.web.pid)]), "database": cpu_seconds(self.cluster.pids()),
                "worker": cpu_seconds([self.worker.pid]), "client": time.process_time()}

    def manage(self, *args: str) -> None:
        subprocess.run([PY, *args], cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg2.connect(self.cluster.url(DB).replace("postgis://", "postgresql://")) as conn, \
                conn.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def __exit__(self, *exc) -> None:
        for process in (self.web, self.worker):
            process.terminate()
        for process in (self.web, self.worker):
            process.wait(timeout=30)


# The raw baseline: one INSERT … SELECT per report, a copy of a real report under a new public id.
def raw_insert_sql(city: City) -> str:
    columns = [c for (c,) in city.sql("SELECT column_name FROM information_schema.columns WHERE table_name = "
                                      "'incidents_report' AND column_name NOT IN ('id', 'public_id') "
                                      "ORDER BY ordinal_position")]
    listed = ", ".join(columns)
    return (f"INSERT INTO incidents_report ({listed}, public_id) SELECT {listed}, %s FROM incidents_report "
            f"WHERE id = (SELECT min(id) FROM incidents_report)")


def raw_baseline(city: City) -> float:
    query, done = raw_insert_sql(city), Counter()
    deadline = time.perf_counter() + BASELINE_S

    def insert(n: int) -> None:
        conn = psycopg2.connect(city.cluster.url(DB).replace("postgis://", "postgresql://"))
        conn.autocommit = True
        with conn.cursor() as cursor:
            i = 0
            while time.perf_counter() < deadline:
                cursor.execute(query, (f"RAW{n:02d}{i:07d}",))
                i += 1
        done[n] = i
        conn.close()

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    city.sql("DELETE FROM incidents_report WHERE public_id LIKE 'RAW%%'")
    return sum(done.values()) / BASELINE_S


def post(city: City, body: dict, headers: dict | None = None, timeout: float = 30) -> int:
    """POST one report; its status (0: no answer). http.client, not requests: the load generator
    shares the machine's two cores with what it measures, so it should cost as little as it can
    (gunicorn's sync workers close every connection anyway)."""
    conn = http.client.HTTPConnection("127.0.0.1", city.port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/reports/", json.dumps(body),
                     {"Content-Type": "application/json", **(headers or {})})
        answer = conn.getresponse()
        answer.read()
        return answer.status
    except OSError:
        return 0
    finally:
        conn.close()


def warm_up(city: City) -> None:
    """WARM_UP reports from CLIENTS clients in turn, not counted, then the outbox drained."""
    def client(n: int) -> None:
        for i in range(n, WARM_UP, CLIENTS):
            post(city, report(-1 - i))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outbox_drain_s(city)


def offered(city: City, rate: int, first: int) -> tuple[float, float, int]:
    """(served per second, p95 ms, errors) at `rate` offered reports per second."""
    count, latencies, errors, lock = rate * STEP_S, [], Counter(), threading.Lock()

    def send(i: int, at: float) -> None:
        time.sleep(max(0.0, at - time.perf_counter()))
        start = time.perf_counter()
        status = post(city, report(first + i))
        with lock:
            latencies.append(time.perf_counter() - start)
            errors[status != 201] += 1

    begin = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(count):
            pool.submit(send, i, begin + i / rate)
    elapsed = time.perf_counter() - begin
    latencies.sort()
    return errors[False] / elapsed, latencies[int(0.95 * (len(latencies) - 1))] * 1000, errors[True]


def outbox_drain_s(city: City, limit_s: float = 60) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        [(pending,)] = city.sql("SELECT count(*) FROM incidents_outboxmessage WHERE sent_at IS NULL AND failed_at IS NULL")
        if pending == 0:
            return time.perf_counter() - start
        time.sleep(0.2)
    return float("inf")


def storm(city: City, rates: list[int]) -> None:
    print("A storm: reports/s offered to POST /api/v1/reports/ (gunicorn, DEBUG off), "
          f"{STEP_S} s a step; sustained = the highest served in full with p95 <= {P95_LIMIT_MS} ms")
    warm_up(city)
    raw = raw_baseline(city)
    print(f"  baseline: raw single-statement INSERT, {CLIENTS} connections: {raw:,.0f} rows/s")
    sustained, first = 0, 0
    for rate in rates:
        before = city.cpu()
        served, p95, errors = offered(city, rate, first)
        first += rate * STEP_S
        drained = outbox_drain_s(city)
        spent = {part: (seconds - before[part]) * 1000 / (rate * STEP_S) for part, seconds in city.cpu().items()}
        full = served >= 0.95 * rate and errors == 0
        [(gathered, addresses)] = city.sql("SELECT count(*), count(DISTINCT recipient) FROM incidents_gatherednotice")
        print(f"  offered {rate:>4}/s: served {served:6.1f}/s, p95 {p95:6.0f} ms, errors {errors}, "
              f"outbox drained {drained:.1f} s after the step; {gathered} new reports gathered for "
              f"{addresses} staff mail(s) at their window's end")
        print("      CPU per report, outbox included: " + ", ".join(f"{part} {ms:.1f} ms" for part, ms in spent.items())
              + f"; {sum(spent.values()):.1f} ms in all ({os.cpu_count()} cores: at most "
              f"{os.cpu_count() * 1000 / sum(spent.values()):.0f}/s)")
        if full and p95 <= P95_LIMIT_MS:
            sustained = rate
        elif served < 0.8 * rate:
            break
    print(f"  sustained: {sustained} reports/s at p95 <= {P95_LIMIT_MS} ms (target >= 150; "
          f"{sustained / raw:.2f}x the raw insert)")


def restart_under_load(city: City) -> None:
    print(f"Restart under load: {CLIENTS} clients post {RESTART_REPORTS} reports with Idempotency-Key, "
          "retrying 503s; the cluster restarted fast at 1/3 and immediate at 2/3")
    done, answers, lock = Counter(), {}, threading.Lock()
    keys = [str(uuid.uuid4()) for _ in range(RESTART_REPORTS)]

    def client(n: int) -> None:
        session = requests.Session()
        for index in range(n, RESTART_REPORTS, CLIENTS):
            key, tries = keys[index], []
            for _ in range(60):
                try:
                    answer = session.post(f"{city.url}/api/v1/reports/", json=report(index, key), timeout=60,
                                          headers={"Idempotency-Key": key})
                    tries.append((answer.status_code, answer.headers.get("Retry-After")))
                except requests.RequestException:
                    tries.append((0, None))
                    time.sleep(0.2)
                    continue
                if answer.status_code != 503:
                    break
                time.sleep(min(float(answer.headers.get("Retry-After") or 1), 2.0))
            with lock:
                answers[key] = tries
                done["reports"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    downtime = {}
    for share, mode in ((1 / 3, "fast"), (2 / 3, "immediate")):
        while done["reports"] < RESTART_REPORTS * share:
            time.sleep(0.01)
        began = time.perf_counter()
        city.cluster.restart(mode)
        downtime[mode] = time.perf_counter() - began
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    final = Counter(tries[-1][0] for tries in answers.values())
    every = [t for tries in answers.values() for t in tries]
    stored = Counter(d for (d,) in city.sql("SELECT description FROM incidents_report WHERE description LIKE "
                                            "'storm %%-%%'"))
    answered = {k for k, tries in answers.items() if tries[-1][0] == 201}
    missing = sum(1 for k in answered if stored[f"storm {k}"] == 0)
    doubled = sum(1 for n in stored.values() if n > 1)
    other_5xx = sum(1 for status, retry in every if status >= 500 and not (status == 503 and retry))
    print(f"  restarts took fast {downtime['fast']:.2f} s, immediate {downtime['immediate']:.2f} s; "
          f"run {elapsed:.0f} s; final answers {dict(final)}")
    print(f"  answered 201 and missing: {missing} (must be 0)")
    print(f"  duplicate reports:        {doubled} (must be 0)")
    print(f"  5xx other than 503+Retry-After: {other_5xx} (must be 0)")
    print(f"  503s met during the restarts: {sum(1 for s, _ in every if s == 503)} (target 0); "
          f"connection errors: {sum(1 for s, _ in every if s == 0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["storm", "restart"], help="run one of the two parts")
    parser.add_argument("--rates", type=lambda text: [int(r) for r in text.split(",")], default=RATES,
                        help="offered rates of the storm's steps, comma-separated (default %(default)s)")
    args = parser.parse_args()
    with PrivateCluster() as cluster, City(cluster) as city:
        if args.only != "restart":
            storm(city, args.rates)
        if args.only != "storm":
            restart_under_load(city)


if __name__ == "__main__":
    main()
