"""tipg (developmentseed's OGC API Features and Tiles server over PostGIS) as a baseline for the
benchmarks, run in its own environment so that none of its dependencies reach the project's:
.venv-tipg (git-ignored), made on first use with `python3.11 -m venv` and pip, then served with
uvicorn on a loopback port against the bench database.

    with serve(database_url, tables=["public.ogc_bench_reports"]) as base_url:
        ...  # base_url + "/collections/public.ogc_bench_reports/items?limit=100"
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-tipg"
PYTHON = VENV / "bin" / "python"
PACKAGES = ["tipg>=1,<2", "uvicorn>=0.30,<1"]


def ensure_venv() -> Path:
    """The tipg environment's python, made (about a minute) if it is not there yet."""
    if not (VENV / "bin" / "uvicorn").exists():
        print("  (making .venv-tipg: python3.11 -m venv, pip install tipg uvicorn)", flush=True)
        subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    return PYTHON


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def version() -> str:
    done = subprocess.run([str(PYTHON), "-c", "import tipg; print(tipg.__version__)"], capture_output=True, text=True)
    return done.stdout.strip()


@contextlib.contextmanager
def serve(database_url: str, tables: list[str], schemas: tuple[str, ...] = ("public",),
          workers: int = 1) -> Iterator[str]:
    """Run tipg (uvicorn, `workers` processes) serving `tables` ("schema.name") of the database;
    yield its base URL; stop it (the process group this started, nothing else) on exit."""
    ensure_venv()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "TIPG_DB_SCHEMAS": str(list(schemas)).replace("'", '"'),
           "TIPG_DB_TABLES": str(tables).replace("'", '"'), "TIPG_DB_FUNCTIONS": "[]",
           "TIPG_CATALOG_TTL": "3600", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    log = open(ROOT / ".venv-tipg" / "uvicorn.log", "w")
    process = subprocess.Popen([str(VENV / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/collections", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                sys.stderr.write((ROOT / ".venv-tipg" / "uvicorn.log").read_text()[-3000:])
                raise RuntimeError("tipg did not start")
            time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=20)
        log.close()
