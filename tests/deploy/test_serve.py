"""`make serve` as a city runs it: gunicorn with DEBUG off behind a TLS proxy, static files
compressed and cached, the security headers, and a clean stop on SIGTERM. The server runs as a
separate process on the test database, spoken to over real HTTP."""

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.deploy.test_settings import GOOD_KEY, PROCESS_SETTINGS, start_django
from tests.processes import die_with_parent

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db  # the served process uses the test database: it must exist
PRODUCTION = {"DEBUG": "0", "ALLOWED_HOSTS": "citypin.example.vn", "SECRET_KEY": GOOD_KEY}


def test_deployment_check_has_no_warnings():
    result = start_django(PRODUCTION, ("check", "--deploy", "--fail-level", "WARNING"))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deployment_check_warns_when_served_without_tls():
    result = start_django({**PRODUCTION, "CITYPIN_TLS": "0"}, ("check", "--deploy", "--fail-level", "WARNING"))
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port: int, path: str, headers: dict | None = None, method: str = "GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, headers={"Host": "citypin.example.vn", **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker):
    """scripts/serve.sh on a free port against the test database; stopped with SIGTERM."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}, **PRODUCTION, "PORT": str(port), "WEB_CONCURRENCY": "2",
           "CITYPIN_DB_NAME": connection.settings_dict["NAME"], "CITYPIN_WORKER_INTERVAL": "1"}
    process = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent)
    deadline = time.monotonic() + 300  # the first start collects and compresses the static files
    while time.monotonic() < deadline:
        try:
            if fetch(port, "/healthz")[0].status == 200:
                break
        except OSError:
            pass
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("make serve did not answer /healthz")
    yield port, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def test_pages_are_served_with_debug_off_and_the_security_headers(served):
    port, _ = served
    response, body = fetch(port, "/", HTTPS)
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains; preload"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("X-Frame-Options") == "DENY"
    policy = response.getheader("Content-Security-Policy")
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "unsafe-inline" not in re.search(r"script-src[^;]*", policy).group(0)
    inline_scripts = re.findall(rb"<script( [^>]*)?>(?!</script>)", body)
    executable = [attrs for attrs in inline_scripts if b"src=" not in (attrs or b"") and b"json" not in (attrs or b"")]
    assert executable and all(f'nonce="{nonce}"'.encode() in attrs for attrs in executable)
    missing, _ = fetch(port, "/no-such-page/", HTTPS)
    assert missing.status == 404  # DEBUG off: no technical page


def test_cookies_are_secure_httponly_and_samesite(served):
    port, _ = served
    response, _ = fetch(port, "/console/login/", HTTPS)
    cookies = response.headers.get_all("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_plain_http_is_redirected_to_https_but_the_health_check_answers(served):
    port, _ = served
    response, _ = fetch(port, "/")
    assert response.status == 301
    assert response.getheader("Location") == "https://citypin.example.vn/"
    assert fetch(port, "/healthz")[0].status == 200


def test_static_files_are_compressed_and_cached_for_a_year(served):
    port, _ = served
    _, body = fetch(port, "/", HTTPS)
    css = re.search(rb'href="(/static/citypin/site\.[0-9a-f]{12}\.css)"', body).group(1).decode()
    leaflet = re.search(rb'src="(/static/vendor/leaflet/dist/leaflet\.[0-9a-f]{12}\.js)"', body).group(1).decode()
    for path in (css, leaflet):
        for encoding in ("br", "gzip"):
            response, content = fetch(port, path, {**HTTPS, "Accept-Encoding": encoding})
            assert response.status == 200
            assert response.getheader("Content-Encoding") == encoding
            assert "max-age=315360000" in response.getheader("Cache-Control")
            assert "immutable" in response.getheader("Cache-Control")
            assert len(content) < int(fetch(port, path, HTTPS)[0].getheader("Content-Length"))


def test_only_the_front_end_files_the_pages_use_are_served(served):
    port, _ = served
    for path in ("/static/vendor/leaflet/package.json", "/static/vendor/leaflet/src/Leaflet.js",
                 "/static/vendor/.package-lock.json"):
        assert fetch(port, path, HTTPS)[0].status == 404, path


def test_sign_in_lockout_counts_failures_across_all_server_processes(served):
    """Each attempt on a new connection may reach another gunicorn process: the counters are shared."""
    port, _ = served
    page, body = fetch(port, "/console/login/", HTTPS)
    cookie = page.getheader("Set-Cookie").split(";")[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = f"csrfmiddlewaretoken={token}&username=nobody-{port}&password=wrong"
    headers = {**HTTPS, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
               "Referer": "https://citypin.example.vn/console/login/", "Accept-Language": "en"}
    answers = []
    for _ in range(6):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/console/login/", body=form, headers={"Host": "citypin.example.vn", **headers})
        answers.append(conn.getresponse().read())
        conn.close()
    assert all(b"Too many failed sign-ins" not in answer for answer in answers[:5])
    assert b"Too many failed sign-ins" in answers[5]


def test_sigterm_stops_the_server_and_the_worker_cleanly(served):
    port, process = served
    children = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) >= 3  # the script, gunicorn (master and workers) and the worker
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say what was still running, and what the worker last did
        still = subprocess.run(["ps", "-o", "pid,etime,args", "-s", str(process.pid)], capture_output=True,
                               text=True).stdout
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"make serve did not stop within 60 s of SIGTERM; still running:\n{still}\n"
                    f"its output's end:\n{output[-4000:]}")
    assert process.returncode == 0, output
    assert "serve: stopped" in output
    assert subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True).stdout == b""
    with pytest.raises(OSError):
        fetch(port, "/healthz")
