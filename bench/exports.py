"""Full open-data exports at 1,000,000 reports, through the real views, beside COPY.

1. Baseline: `COPY (SELECT <the same public columns>) TO STDOUT WITH (FORMAT csv)` through
   psycopg2's copy_expert into a sink that counts bytes and lines: what PostgreSQL can hand out
   with no Python in the way.
2. /open-data/reports.csv and /open-data/reports.geojson, served by a real server process
   (Django under wsgiref, DEBUG off, in a subprocess on the bench database) and read over HTTP
   to the end by this process, counting rows. The server's peak resident memory (VmHWM in
   /proc/<pid>/status) is read after a warm-up request and again after each full export: its
   growth is what one export costs the server.

Targets: each export ≥ 0.5× COPY's rows/s, and the server's peak memory growth under 100 MB.

    CITYPIN_BENCH_DB=citypin_bench .venv/bin/python bench/exports.py [--reports 1000000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import _db

TARGET_RATIO = 0.5
TARGET_GROWTH_MB = 100


def serve(port: int) -> None:
    """The server process: Django's WSGI application on the bench database."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    _db.use_bench_database()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("createcachetable")  # the rate limit's counters, with DEBUG off

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    make_server("127.0.0.1", port, get_wsgi_application(), handler_class=Quiet).serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def fetch(port: int, path: str) -> tuple[int, int, float]:
    """GET path to the end: (lines, bytes, seconds)."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path, headers={"Accept-Language": "vi"})
    response = conn.getresponse()
    assert response.status == 200, (path, response.status, response.read()[:300])
    lines = size = 0
    while block := response.read(1 << 20):
        lines += block.count(b"\n")
        size += len(block)
    conn.close()
    return lines, size, time.perf_counter() - start


class Sink:
    def __init__(self) -> None:
        self.lines = self.size = 0

    def write(self, data) -> None:
        self.lines += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")
        self.size += len(data)


def copy_baseline(sql: str, params: dict) -> tuple[int, int, float]:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        sink = Sink()
        start = time.perf_counter()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", sink)
        return sink.lines, sink.size, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    args = parser.parse_args()
    _db.use_bench_database()
    _db.grow_to(args.reports)

    from incidents.read.exports import COLUMNS_SQL, EXPORT_SQL, FEATURE_SQL
    from incidents.read.query import ReportQuery

    params = {"lang": "vi"}
    where = ReportQuery().where(params)
    print(f"Full open-data exports of {args.reports:,} reports (COPY baseline in the same run)")
    copy_rows, copy_bytes, copy_s = copy_baseline(COLUMNS_SQL.format(where=where), params)
    copy_rate = copy_rows / copy_s
    print(f"  COPY (same columns) TO STDOUT csv: {copy_rows:,} rows, {copy_bytes / 1e6:.0f} MB in {copy_s:.1f} s "
          f"= {copy_rate:,.0f} rows/s")
    feat_rows, feat_bytes, feat_s = copy_baseline(EXPORT_SQL.format(row=FEATURE_SQL, where=where), params)
    print(f"  COPY (feature text) TO STDOUT:     {feat_rows:,} rows, {feat_bytes / 1e6:.0f} MB in {feat_s:.1f} s "
          f"= {feat_rows / feat_s:,.0f} rows/s (for reference)")

    port = free_port()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "CITYPIN_TLS": "0",
           "SECRET_KEY": "bench-exports-" + "x" * 50, "OPEN_DATA_READ_RATE": "1000000/min"}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        fetch(port, "/open-data/reports.csv?category=nothing-such")  # warm-up: imports, connection, templates
        fetch(port, "/open-data/reports.geojson?category=nothing-such")
        base = peak_mb(server.pid)
        print(f"  server peak memory after warm-up: {base:.0f} MB")
        for label, path, header_lines, footer_lines in (("reports.csv", "/open-data/reports.csv", 1, 0),
                                                        ("reports.geojson", "/open-data/reports.geojson", 1, 1)):
            lines, size, seconds = fetch(port, path)
            rows = lines - header_lines - footer_lines
            rate = rows / seconds
            growth = peak_mb(server.pid) - base
            print(f"  {label:16} {rows:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s = {rate:,.0f} rows/s "
                  f"= {rate / copy_rate:.2f}x COPY (target >= {TARGET_RATIO}x) "
                  f"{'OK' if rate / copy_rate >= TARGET_RATIO else 'BELOW TARGET'}; "
                  f"server peak memory +{growth:.0f} MB (target < {TARGET_GROWTH_MB} MB) "
                  f"{'OK' if growth < TARGET_GROWTH_MB else 'ABOVE TARGET'}")
            assert rows == copy_rows, (label, rows, copy_rows)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
    else:
        main()
