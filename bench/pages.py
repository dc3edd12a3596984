"""How fast the citizen pages paint and how much they weigh on a cheap phone's connection,
beside a bare HTML page measured in the same run.

Citypin is served as a city runs it (gunicorn, DEBUG off, WhiteNoise's compressed static
files, `make serve`'s set-up) from the bench database with the demo city; Debian's chromium,
driven by Playwright at 390×844, is throttled through the DevTools protocol to 400 ms of latency
and 400 kbit/s each way. For each page, in a fresh browser context (an empty cache):

- first contentful paint (ms, the browser's own Paint Timing entry);
- bytes transferred until the network is idle (headers included, as the DevTools count them),
  and the number of requests.

Then a second page in the same context (the cache warm from the first). Map tiles are left out
(they come from the city's tile server, not from Citypin): the tile URL is a closed local port here.
Targets (issue 15): first paint ≤ 2.5 s on /, /report/ and /r/<id>/; first load of /report/
≤ 150 KB; a second page ≤ 30 KB.

    CITYPIN_BENCH_DB=citypin_bench_pages .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import _db

_db.use_bench_database()

from incidents.intake import ReportDraft, submit_report  # noqa: E402
from incidents.models import Report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LATENCY_MS = 400
KBIT_S = 400
PHONE = {"width": 390, "height": 844}
# A closed local port: tiles are refused at once. (A data: URL here carried a ';', which split
# the Content-Security-Policy header the tile origin is added to and blocked the map's script.)
BLANK_TILE = "http://127.0.0.1:9/{z}/{x}/{y}.png"
BARE_PAGE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Citypin</title></head>
<body><h1>Gửi phản ánh</h1><p>Chạm vào bản đồ để ghim vị trí, rồi kéo ghim đến đúng chỗ.</p></body></html>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collect_static() -> None:
    """As `make serve` does: collect (hash and compress) when a source is newer than the last run."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [ROOT / "incidents" / "static", ROOT / "gis" / "static", ROOT / "config",
               ROOT / "node_modules" / ".package-lock.json"]
    newest = max((p.stat().st_mtime for src in sources if src.exists()
                  for p in ([src] if src.is_file() else src.rglob("*"))), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        print("collecting static files (hashed, compressed)…", flush=True)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0", "--clear"],
                       cwd=ROOT, check=True, env={**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"})


def serve_citypin(port: int) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "0", "CITYPIN_TLS": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "DATABASE_URL": _db.database_url(), "CITYPIN_TILE_URL": BLANK_TILE, "DJANGO_SETTINGS_MODULE": "config.settings"}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "--bind",
                               f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def serve_bare_page(port: int) -> http.server.ThreadingHTTPServer:
    folder = Path(tempfile.mkdtemp())
    (folder / "index.html").write_text(BARE_PAGE, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Meter:
    """One throttled page in a browser context: bytes and requests counted through the DevTools
    protocol (Network.loadingFinished's encodedDataLength: body and headers as received)."""

    def __init__(self, context):
        self.page = context.new_page()
        self.cdp = context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": LATENCY_MS,
            "downloadThroughput": KBIT_S * 1000 / 8, "uploadThroughput": KBIT_S * 1000 / 8})
        self.bytes = 0
        self.requests = 0
        self.cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event) -> None:
        self.bytes += event.get("encodedDataLength", 0)
        self.requests += 1

    def open(self, url: str) -> tuple[float, int, int]:
        self.bytes = self.requests = 0
        self.page.goto(url, wait_until="load", timeout=120_000)
        self.page.wait_for_load_state("networkidle", timeout=120_000)
        self.page.wait_for_timeout(600)  # what the page asks for once idle (the ward layer)
        self.page.wait_for_load_state("networkidle", timeout=120_000)
        fcp = self.page.evaluate("""() => {
            const e = performance.getEntriesByName('first-contentful-paint')[0];
            return e ? e.startTime : null; }""")
        return fcp or float("nan"), self.bytes, self.requests


def main() -> None:
    from playwright.sync_api import sync_playwright

    report = Report.objects.filter(location__isnull=False).first() or submit_report(
        ReportDraft(category_code="pothole", lon=105.7469, lat=10.03, attributes={"size": "small"},
                    description="Ổ gà trước chợ"), notify=False)
    collect_static()
    port, bare_port = free_port(), free_port()
    server = serve_citypin(port)
    bare = serve_bare_page(bare_port)
    site = f"http://127.0.0.1:{port}"
    rows = []
    try:
        with sync_playwright() as p:
            chromium = Path("/usr/bin/chromium")
            browser = p.chromium.launch(
                **({"executable_path": str(chromium)} if chromium.exists() else {}),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--no-first-run", "--disable-quic"])

            def cold(url: str):
                context = browser.new_context(viewport=PHONE, locale="vi-VN")
                result = Meter(context).open(url)
                context.close()
                return result

            baseline = cold(f"http://127.0.0.1:{bare_port}/")
            rows.append(("bare HTML page (baseline)", *baseline, ""))
            for path, target in (("/", "FCP ≤ 2500 ms"), ("/report/", "FCP ≤ 2500 ms, ≤ 150 KB"),
                                 (f"/r/{report.public_id}/", "FCP ≤ 2500 ms")):
                rows.append((f"{path} first load", *cold(site + path), target))
            for first, second in (("/", "/report/"), ("/report/", f"/r/{report.public_id}/")):
                context = browser.new_context(viewport=PHONE, locale="vi-VN")
                meter = Meter(context)
                meter.open(site + first)
                rows.append((f"{second} after {first}", *meter.open(site + second), "≤ 30 KB"))
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        bare.shutdown()

    print(f"\nPages at {LATENCY_MS} ms latency, {KBIT_S} kbit/s, 390×844 (chromium {_chromium_version()}); "
          f"{_db.BENCH_DB}")
    print(f"{'page':<34}{'FCP ms':>9}{'× bare':>8}{'KB':>9}{'requests':>10}   target")
    bare_fcp = rows[0][1]
    for name, fcp, size, requests, target in rows:
        print(f"{name:<34}{fcp:>9.0f}{fcp / bare_fcp:>8.2f}{size / 1000:>9.1f}{requests:>10}   {target}")


def _chromium_version() -> str:
    try:
        return subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.split()[1]
    except (OSError, IndexError):
        return "?"


if __name__ == "__main__":
    main()
