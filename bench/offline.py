"""What the service worker costs and what it gives, on a cheap phone's connection, beside the
same page without it in the same run.

Citypin is served as bench/pages.py serves it (gunicorn, DEBUG off, WhiteNoise's hashed and
compressed static files) and chromium at 390×844 is throttled through the DevTools protocol to
400 ms of latency and 400 kbit/s. Figures:

- /report/ first load with service workers blocked (the baseline) and allowed: first
  contentful paint and the page's own bytes (the worker registers after the load event, so the
  two should match);
- the worker's precache: bytes it fetched over the network (the static files it finds in the
  HTTP cache cost none) and the time from the page's load to the worker in control;
- /report/ opened again online (warm caches) and offline (from the worker's cache): first
  contentful paint.

    CITYPIN_BENCH_DB=citypin_bench_offline .venv/bin/python bench/offline.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pages  # the bench database, collectstatic, gunicorn and the throttled Meter

os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")  # collectstatic runs with DEBUG off

FCP_JS = """() => { const e = performance.getEntriesByName('first-contentful-paint')[0];
                    return e ? e.startTime : null; }"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    pages.collect_static()
    port = pages.free_port()
    server = pages.serve_citypin(port)
    site = f"http://127.0.0.1:{port}"
    rows = []
    try:
        with sync_playwright() as p:
            chromium = Path("/usr/bin/chromium")
            browser = p.chromium.launch(
                **({"executable_path": str(chromium)} if chromium.exists() else {}),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--no-first-run", "--disable-quic"])

            context = browser.new_context(viewport=pages.PHONE, locale="vi-VN", service_workers="block")
            fcp, size, requests = pages.Meter(context).open(site + "/report/")
            rows.append(("/report/ first load, no worker (baseline)", fcp, size, requests))
            context.close()

            context = browser.new_context(viewport=pages.PHONE, locale="vi-VN")
            worker_bytes = []
            context.on("requestfinished", lambda r: r.service_worker and worker_bytes.append(
                r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
            meter = pages.Meter(context)
            fcp, size, requests = meter.open(site + "/report/")
            rows.append(("/report/ first load, worker allowed", fcp, size, requests))
            started = time.monotonic()
            meter.page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
            meter.page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=120_000)
            in_control_ms = (time.monotonic() - started) * 1000
            rows.append(("worker precache (network)", float("nan"), sum(worker_bytes), len(worker_bytes)))
            meter.page.goto(site + "/")
            meter.page.wait_for_load_state("networkidle")
            meter.page.goto(site + "/report/")
            rows.append(("/report/ again, online", meter.page.evaluate(FCP_JS), float("nan"), 0))
            context.set_offline(True)
            meter.page.goto(site + "/report/")
            meter.page.wait_for_function("() => window.citypinMap !== undefined", timeout=120_000)
            rows.append(("/report/ again, offline (worker cache)", meter.page.evaluate(FCP_JS), float("nan"), 0))
            context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"\nService worker at {pages.LATENCY_MS} ms latency, {pages.KBIT_S} kbit/s, 390×844 "
          f"(chromium {pages._chromium_version()}); {pages._db.BENCH_DB}")
    print(f"{'':<42}{'FCP ms':>9}{'× base':>8}{'KB':>9}{'requests':>10}")
    base_fcp = rows[0][1]
    for name, fcp, size, requests in rows:
        print(f"{name:<42}{fcp:>9.0f}{fcp / base_fcp:>8.2f}{size / 1000:>9.1f}{requests:>10}")
    print(f"worker in control {in_control_ms:.0f} ms after the page's load")


if __name__ == "__main__":
    main()
