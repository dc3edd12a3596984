"""A department's back office speaking GeoReport v2, on 127.0.0.1, started by the test: it
answers POST requests.json with the next (status, document) of its script (then a created
request), GET services/<code>.json with a definition, and GET requests.json with the statuses
the test set. Like a careful server, it answers a repeated Idempotency-Key with the first id,
and keeps every request it got."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit


@dataclass
class Got:
    method: str
    path: str
    headers: dict[str, str]
    form: list[tuple[str, str]]


class BackOffice:
    def __init__(self, script: list[tuple[int, object]] | None = None, delay: float = 0.0, port: int = 0,
                 attributes: tuple[str, ...] = ("size",)):
        self.script, self.delay, self.attributes = list(script or []), delay, attributes
        self.got: list[Got] = []
        self.statuses: dict[str, dict] = {}  # service_request_id -> {"status", "status_notes"}
        self.poll_status: int = 200
        self.tokens: dict[str, str] = {}  # token -> the id it was given
        self.ids: dict[str, str] = {}  # Idempotency-Key -> id
        self.lock = threading.Lock()
        office = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, status: int, document: object) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with office.lock:
                    office.got.append(Got("POST", self.path, dict(self.headers), parse_qsl(raw)))
                    scripted = office.script.pop(0) if office.script else None
                if office.delay:
                    time.sleep(office.delay)
                if scripted is not None:
                    return self.answer(*scripted)
                key = self.headers.get("Idempotency-Key", "")
                with office.lock:
                    new = office.ids.setdefault(key, f"BO-{len(office.ids) + 1}")
                    office.statuses.setdefault(new, {"status": "open", "status_notes": None})
                self.answer(201, [{"service_request_id": new, "service_notice": "received"}])

            def do_GET(self):
                parts = urlsplit(self.path)
                with office.lock:
                    office.got.append(Got("GET", self.path, dict(self.headers), []))
                if parts.path.endswith("/requests.json"):
                    if office.poll_status != 200:
                        return self.answer(office.poll_status, [{"code": office.poll_status, "description": "down"}])
                    ids = parse_qs(parts.query).get("service_request_id", [""])[0].split(",")
                    return self.answer(200, [{"service_request_id": i, **office.statuses[i]}
                                             for i in ids if i in office.statuses])
                if "/tokens/" in parts.path:
                    token = parts.path.rsplit("/", 1)[1].removesuffix(".json")
                    if token in office.tokens:
                        return self.answer(200, [{"service_request_id": office.tokens[token], "token": token}])
                if "/services/" in parts.path:
                    code = parts.path.rsplit("/", 1)[1].removesuffix(".json")
                    return self.answer(200, {"service_code": code, "attributes": [
                        {"code": a, "datatype": "string", "variable": True, "required": False, "order": n}
                        for n, a in enumerate(office.attributes, 1)]})
                self.answer(404, [{"code": 404, "description": "not found"}])

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/open311/v2/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> BackOffice:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def posts(self) -> list[Got]:
        return [g for g in self.got if g.method == "POST"]
