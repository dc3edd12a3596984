"""The GeoReport v2 client side, protocol only: form-encoded POSTs and JSON GETs to a back
office, and what counts as a failure. Nothing here knows our models (open311.py maps reports
onto these calls; open311_poll.py maps the answers back).

Every call goes through the webhook channel's defences (incidents.delivery.webhook): the URL
must pass check_url (https and a public host with DEBUG=0), and each connection is made to an
address resolved and checked at that moment, so DNS re-binding cannot point it inside the
network. Redirects are never followed. Any answer but 2xx is a failure, and so is an Open311
error document (`[{"code": 400, "description": "..."}]`), which some servers send with 200."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode

from django.conf import settings

from incidents.delivery.webhook import _Session, check_url

USER_AGENT = "Citypin-Open311/1"
MAX_ANSWER = 2 * 1024 * 1024  # bytes; a batch of 50 requests with their notes is far below


class Open311Failed(RuntimeError):
    """The back office could not be reached, or answered something else than a success
    (`status`: its HTTP status, None when there was no answer)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Open311ErrorDocument(Open311Failed):
    """The back office answered with an Open311 error document."""


class Session(_Session):
    """Connections to back offices, kept alive between the calls of one sender or one poll."""

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(timeout if timeout is not None else settings.CITYPIN_OPEN311_TIMEOUT)

    def call(self, method: str, url: str, *, form: list[tuple[str, str]] | None = None,
             headers: dict[str, str] | None = None) -> object:
        """The JSON the back office answered `method url` with; raises Open311Failed otherwise."""
        check_url(url)
        body = urlencode(form or []).encode() if method == "POST" else None
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity",
                **({"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {}),
                **(headers or {})}
        status, answer = self._exchange(method, url, body, sent, retry=True)
        try:
            document = json.loads(answer.decode("utf-8-sig")) if answer.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = None
        if not 200 <= status < 300:
            raise Open311Failed(f"HTTP {status} from {url}" + _described(document), status)
        if error_document(document):
            raise Open311ErrorDocument(f"Open311 error from {url}" + _described(document), status)
        if document is None:
            raise Open311Failed(f"HTTP {status} from {url} without a JSON document")
        return document

    def _exchange(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
                  retry: bool) -> tuple[int, bytes]:
        key, path, connection, reused = self.connection_for(url)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read(MAX_ANSWER + 1)
            if response.will_close:
                self.close(key)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) if reused and retry else ():
            # The back office closed an idle keep-alive before this request: once more, anew.
            self.close(key)
            return self._exchange(method, url, body, headers, retry=False)
        except BaseException:
            self.close(key)
            raise
        if len(answer) > MAX_ANSWER:
            self.close(key)
            raise Open311Failed(f"the answer of {url} is over {MAX_ANSWER} bytes")
        return response.status, answer


def error_document(document: object) -> bool:
    """Whether `document` is GeoReport v2's error list (and not a list of requests)."""
    return (isinstance(document, list) and bool(document) and isinstance(document[0], dict)
            and "description" in document[0] and "code" in document[0]
            and "service_request_id" not in document[0] and "token" not in document[0])


def _described(document: object) -> str:
    if not error_document(document):
        return ""
    return ": " + "; ".join(f"{e.get('code')} {str(e.get('description'))[:300]}" for e in document[:5])  # type: ignore[union-attr]


def post_service_request(session: Session, url: str, form: list[tuple[str, str]], idempotency_key: str) -> dict:
    """POST requests.json; the first answer's service_request_id and token (one may be empty)."""
    document = session.call("POST", url, form=form, headers={"Idempotency-Key": idempotency_key})
    first = document[0] if isinstance(document, list) and document else document
    if not isinstance(first, dict) or not (first.get("service_request_id") or first.get("token")):
        raise Open311Failed(f"no service_request_id or token in the answer of {url}")
    return {"service_request_id": str(first.get("service_request_id") or "")[:200],
            "token": str(first.get("token") or "")[:200]}


def attribute_codes(session: Session, url: str) -> set[str]:
    """The attribute codes of a service definition (services/<code>.json); none when it has none."""
    document = session.call("GET", url)
    attributes = document.get("attributes") if isinstance(document, dict) else None
    return {str(a["code"]) for a in attributes or [] if isinstance(a, dict) and "code" in a}


def get_service_requests(session: Session, url: str, ids: list[str], jurisdiction_id: str = "") -> list[dict]:
    """GET requests.json?service_request_id=a,b,c: the requests the back office knows of them."""
    query = [("service_request_id", ",".join(ids))] + ([("jurisdiction_id", jurisdiction_id)] if jurisdiction_id else [])
    document = session.call("GET", f"{url}?{urlencode(query)}")
    if not isinstance(document, list):
        raise Open311Failed(f"{url} did not answer a list of requests")
    return [item for item in document if isinstance(item, dict)]


def get_token(session: Session, url: str) -> str:
    """GET tokens/<token>.json: the service_request_id the back office has given it ("" not yet)."""
    document = session.call("GET", url)
    first = document[0] if isinstance(document, list) and document else document
    return str(first.get("service_request_id") or "")[:200] if isinstance(first, dict) else ""
