"""The webhook channel: one outbox row is one JSON POST to a department's endpoint
(WebhookEndpoint), signed so the receiver knows it came from us and was not replayed.

Wire format (the README's "Webhooks" section shows a receiver checking it):
- body: the row's JSON, as queued (`{"event": ..., "occurred_at": ..., "report": {...}}`);
- `X-Citypin-Timestamp`: Unix seconds at this attempt;
- `X-Citypin-Signature`: `sha256=` + hex HMAC-SHA256 under the endpoint's secret of
  `timestamp + "." + body` (bytes);
- `X-Citypin-Event`, and `Idempotency-Key` = `X-Citypin-Delivery`: the message's stable id,
  the same at every attempt, so a receiver drops a duplicate.
Any answer but 2xx (redirects included: never followed) is a failure and is retried.

Server-side request forgery: unless CITYPIN_WEBHOOK_ALLOW_PRIVATE (development's default),
a URL must be https and its host must resolve to public addresses only. The check runs again
at every connection, on the addresses the name resolves to then, and the socket connects to
the address just checked (TLS still verifies the certificate against the name, sent as SNI and
Host), so a name that re-binds to 127.0.0.1 after the admin saved it is refused too."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings

from incidents.delivery.channels import Channel, Send, delivery_id
from incidents.models import OutboxMessage

USER_AGENT = "Citypin-Webhook/1"


class UnsafeURL(ValueError):
    """A webhook URL this installation must not call (scheme, or a non-public address)."""


class WebhookFailed(RuntimeError):
    """The receiver answered something else than 2xx."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_url(url: str) -> None:
    """Refuse what may never be called (the admin form's check); the address check is repeated
    at connect time by resolve()."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(f"not an http(s) URL: {url!r}")
    if parts.username or parts.password:
        raise UnsafeURL("credentials in a webhook URL are refused; use the signing secret")
    if settings.CITYPIN_WEBHOOK_ALLOW_PRIVATE:
        return
    if parts.scheme != "https":
        raise UnsafeURL("webhook URLs must be https")
    try:
        _check_address(ipaddress.ip_address(parts.hostname))
    except ValueError as error:
        if isinstance(error, UnsafeURL):
            raise  # a literal non-public address; a name is resolved at connect time


def _check_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:  # loopback, private, link-local, shared, reserved...
        raise UnsafeURL(f"{ip} is not a public address")


def resolve(host: str, port: int) -> list[str]:
    """The addresses to connect to, in the resolver's order: all the name resolves to now, every
    one of them checked (a name may resolve to ::1 first while its server listens on 127.0.0.1)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise WebhookFailed(f"cannot resolve {host}: {error}") from None
    addresses = [info[4][0] for info in infos]
    if not settings.CITYPIN_WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:  # one bad answer refuses the name: it is not a public service
            _check_address(ipaddress.ip_address(address.split("%", 1)[0]))
    return list(dict.fromkeys(addresses))


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to addresses already checked, each tried in turn until one connects, with the name
    in Host."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        error: OSError | None = None
        for address in self.addresses:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout)
                break
            except OSError as refused:
                error = refused
        else:
            raise error or OSError(f"no address for {self.host}")
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS to an address already checked; the certificate is verified against the name (SNI)."""

    default_port = 443

    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


class _Session:
    """One sender's HTTP connections, kept alive between its messages (per scheme, host, port)."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout if timeout is not None else settings.CITYPIN_WEBHOOK_TIMEOUT
        self.connections: dict[tuple[str, str, int], _PinnedHTTP] = {}

    def connection_for(self, url: str) -> tuple[tuple[str, str, int], str, _PinnedHTTP, bool]:
        """The connection kept for the URL's scheme, host and port, or a new one to the host's
        addresses checked now; with its key, the request's path, and whether it was kept."""
        parts = urlsplit(url)
        host, https = parts.hostname or "", parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        key = (parts.scheme, host, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reused = key in self.connections
        connection = self.connections.get(key)
        if connection is None:
            kind = _PinnedHTTPS if https else _PinnedHTTP
            connection = self.connections[key] = kind(host, port, resolve(host, port), self.timeout)
        return key, path, connection, reused

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        key, path, connection, reused = self.connection_for(url)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(65536)
            if response.will_close:
                self.close(key)
            return response.status
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) if reused else ():
            # The receiver closed an idle keep-alive: once more on a new connection (checked again).
            self.close(key)
            return self.post(url, body, headers)
        except BaseException:
            self.close(key)
            raise

    def close(self, key: tuple[str, str, int] | None = None) -> None:
        for k in [key] if key else list(self.connections):
            connection = self.connections.pop(k, None)
            if connection is not None:
                connection.close()


def headers_for(message: OutboxMessage, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Citypin-Event": message.subject,
        "X-Citypin-Delivery": delivery_id(message),
        "Idempotency-Key": delivery_id(message),
        "X-Citypin-Timestamp": timestamp,
        "X-Citypin-Signature": sign(message.endpoint.secret, timestamp, body),
    }


class WebhookChannel(Channel):
    def endpoint(self, message: OutboxMessage) -> str:
        return f"webhook:{message.endpoint_id}"

    @contextmanager
    def connection(self) -> Iterator[Send]:
        session = _Session()

        def send(message: OutboxMessage) -> None:
            endpoint = message.endpoint
            if endpoint is None or not endpoint.active:
                raise WebhookFailed("the webhook endpoint is gone or inactive")
            check_url(endpoint.url)
            body = message.body.encode()
            status = session.post(endpoint.url, body, headers_for(message, body))
            if not 200 <= status < 300:
                raise WebhookFailed(f"HTTP {status} from {endpoint.url}")

        try:
            yield send
        finally:
            session.close()

    def send(self, message: OutboxMessage) -> None:
        with self.connection() as send:
            send(message)
