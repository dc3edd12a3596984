"""A real HTTP receiver on 127.0.0.1 for webhook tests: a department's system, started by the
test in a thread. It answers each POST with the next status of its script (then `then`), may
wait before answering, keeps every request it got, and drops a duplicate by its Idempotency-Key
as a careful receiver would (`unique` counts what it kept)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, script: list[int] | None = None, then: int = 200, delay: float = 0.0, port: int = 0):
        self.script, self.then, self.delay = list(script or []), then, delay
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    status = receiver.script.pop(0) if receiver.script else receiver.then
                try:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def unique(self) -> set[str]:
        return {r.headers["Idempotency-Key"] for r in self.requests}
