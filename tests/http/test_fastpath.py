"""The open-data fast path (incidents/http/fastpath.py) answers exactly as the full middleware
chain does: for each request below, the same status, the same headers in the same order and the
same body, through a client whose middleware is MIDDLEWARE and one without the fast path."""

from __future__ import annotations

import gzip
import re

from django.conf import settings
from django.test import Client, TestCase, override_settings

from tests.tiles.tileworld import build_tile_world, home_tile, url

FAST = "incidents.http.fastpath.OpenDataFastPathMiddleware"
ITEMS = "/ogc/collections/reports/items"


def client_with(middleware: list[str], address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    with override_settings(MIDDLEWARE=middleware):
        client.handler.load_middleware()
    return client


def limited(rate: str):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "open_data_read": rate}
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


def answer(response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body, but for what differs from one response to the next anyway: an
    items page's time stamp (to the second), a page's CSRF token and CSP nonce (random), and a
    gzip stream's length (random padding against BREACH)."""
    headers, body = list(response.items()), response.content
    if response.get("Content-Encoding") == "gzip":
        headers, body = [(k, v) for k, v in headers if k != "Content-Length"], gzip.decompress(body)
    body = re.sub(rb'"timeStamp": ?"[^"]+"', b'"timeStamp":"-"', body)
    body = re.sub(rb'(csrfmiddlewaretoken" value=|nonce=)"[^"]+"', rb'\1"-"', body)
    headers = [(k, re.sub(r"'nonce-[^']+'", "'nonce-'", v)) for k, v in headers]
    return response.status_code, headers, body


class FastPathTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_tile_world(cls)

    def setUp(self):
        self.clients()

    def clients(self):
        self.assertIn(FAST, settings.MIDDLEWARE)
        self.fast = client_with(list(settings.MIDDLEWARE), "198.51.100.1")
        self.full = client_with([m for m in settings.MIDDLEWARE if m != FAST], "198.51.100.2")

    def both(self, method: str, path: str, **extra):
        return getattr(self.fast, method)(path, **extra), getattr(self.full, method)(path, **extra)

    def assertSameAnswer(self, method: str, path: str, **extra):
        fast, full = self.both(method, path, **extra)
        self.assertEqual(answer(fast), answer(full))
        return fast

    def test_a_tile_and_an_items_page_take_the_fast_path(self):
        for path in (url("reports", home_tile(14)), ITEMS):
            with self.subTest(path):
                fast, full = self.both("get", path)
                self.assertFalse(hasattr(fast.wsgi_request, "session"))
                self.assertTrue(hasattr(full.wsgi_request, "session"))

    def test_tiles_answer_the_same(self):
        tile = url("reports", home_tile(14))
        etag = self.client.get(tile)["ETag"]
        cases = [
            ("get", tile, {}),  # 200
            ("get", tile, {"HTTP_ACCEPT_ENCODING": "gzip"}),
            ("get", "/tiles/reports/15/0/0.mvt", {}),  # 204
            ("get", tile, {"HTTP_IF_NONE_MATCH": etag}),  # 304
            ("get", "/tiles/reports/14/a/1.mvt", {}),  # 400
            ("get", "/tiles/reports/14/99999/1.mvt", {}),  # 404: no such tile
            ("get", "/tiles/nothing/14/1/1.mvt", {}),  # 404: no such layer
            ("get", tile + "?status=nothing", {}),  # 400: a bad filter
            ("get", tile + "?category=pothole", {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.8"}),
            ("get", tile, {"HTTP_COOKIE": f"{settings.LANGUAGE_COOKIE_NAME}=en"}),
            ("get", tile, {"HTTP_ACCEPT": "text/html"}),  # the full chain
            ("head", tile, {}),
            ("options", tile, {"HTTP_ORIGIN": "https://maps.example.org", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}),
            ("post", tile, {}),  # 405
            ("get", "/tiles/reports.json", {}),
            ("get", "/tiles/", {}),
        ]
        for method, path, extra in cases:
            with self.subTest(method=method, path=path, **extra):
                self.assertSameAnswer(method, path, **extra)

    def test_items_answer_the_same(self):
        cases = [
            ({}, {"HTTP_ACCEPT": "application/geo+json"}),  # 200
            ({"limit": "2"}, {"HTTP_ACCEPT_ENCODING": "gzip"}),
            ({"bbox": "105.7,10.0,105.8,10.1", "lang": "en"}, {}),
            ({"limit": "many"}, {}),  # 400
            ({"f": "html"}, {}),  # a page: the full chain
            ({}, {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}),
        ]
        for query, extra in cases:
            with self.subTest(query=query, **extra):
                self.assertSameAnswer("get", ITEMS, data=query, **extra)
        self.assertSameAnswer("get", "/ogc/collections/nothing/items")  # 404
        self.assertSameAnswer("get", "/ogc/conformance")

    @override_settings(SECURE_HSTS_SECONDS=3600)
    def test_over_tls_both_carry_hsts(self):
        self.clients()  # SecurityMiddleware reads its settings when made
        fast = self.assertSameAnswer("get", url("reports", home_tile(14)), secure=True)
        self.assertEqual(fast["Strict-Transport-Security"], "max-age=3600")

    def test_an_unknown_host_is_refused_alike(self):
        self.assertSameAnswer("get", ITEMS, HTTP_HOST="evil.example.org")

    def test_beyond_the_read_limit_both_answer_429(self):
        with limited("1/min"):
            self.both("get", ITEMS)
            fast = self.assertSameAnswer("get", url("reports", home_tile(14)))
        self.assertEqual(fast.status_code, 429)


class CachedPolicyTests(TestCase):
    """incidents/http/csp.py keeps the policy of the settings: the header is django-csp's."""

    def policy(self, path: str = ITEMS) -> str:
        return self.client.get(path, HTTP_ACCEPT="application/json")["Content-Security-Policy"]

    def test_an_answer_without_a_policy_of_its_own_carries_the_settings_policy(self):
        from csp.utils import build_policy

        self.assertEqual(self.policy(), build_policy())

    def test_a_changed_setting_changes_the_policy(self):
        self.policy()
        changed = {**settings.CONTENT_SECURITY_POLICY,
                   "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "img-src": ["'self'"]}}
        with override_settings(CONTENT_SECURITY_POLICY=changed):
            self.assertIn("img-src 'self';", self.policy() + ";")
        self.assertIn("tile.openstreetmap.org", self.policy())

    def test_a_page_with_a_nonce_gets_it_in_its_policy(self):
        response = self.client.get("/")  # the map page: its script
        self.assertRegex(response["Content-Security-Policy"], r"'nonce-[^']+'")
