"""The Open311 forwarding channel: one outbox row is one report POSTed to a department's
GeoReport v2 back office (incidents.forwarding queued it with the routing), and the back
office's service_request_id (or token) is kept on the report's Open311Forward.

Posting twice is what this avoids, in three ways: a forward that already has an id is not
posted again; the POST carries the message's stable delivery id as `Idempotency-Key`, so a
back office that honours it (Citypin's own Open311 does) answers a retry after a crash
between its answer and our record with the same request; and the id is written as soon as the
answer comes, not with the batch. That write is why this sender, unlike the others, uses the
database from the outbox's threads: each closes its connection when its share is done.

Attributes are sent only under the codes the back office's service definition
(services/<code>.json) has, since a GeoReport v2 server may refuse an unknown attribute."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from django.db import connection as db_connection
from django.utils import timezone

from incidents.delivery import open311_client as client
from incidents.delivery.channels import Channel, Send, delivery_id
from incidents.models import Open311Forward, OutboxMessage

ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class Open311Channel(Channel):
    def endpoint(self, message: OutboxMessage) -> str:
        return f"open311:{message.recipient}"  # the back office's base URL

    @contextmanager
    def connection(self) -> Iterator[Send]:
        session = client.Session()
        try:
            yield lambda message: forward(message, session)
        finally:
            session.close()
            if threading.current_thread().name.startswith("outbox_"):  # outbox.deliver's pool threads
                db_connection.close()  # their own connections, which nothing else would close

    def send(self, message: OutboxMessage) -> None:
        with self.connection() as send:
            send(message)


def forward(message: OutboxMessage, session: client.Session) -> None:
    """POST the queued report to its back office and keep the id it answers; raise on failure."""
    queued = json.loads(message.body)
    record = Open311Forward.objects.select_related("endpoint").get(pk=queued["forward"])
    if record.service_request_id or record.token:
        return  # posted before (an earlier attempt whose outcome was not recorded)
    endpoint = record.endpoint
    if not endpoint.active:
        raise client.Open311Failed("the Open311 back office is inactive")
    api_key = endpoint.api_key()
    if not api_key:
        raise client.Open311Failed(f"the environment variable {endpoint.api_key_env} (the back office's API key) is not set")
    form = [tuple(pair) for pair in queued["form"]]
    if any(ATTRIBUTE.match(name) for name, _ in form):
        try:
            known = client.attribute_codes(session, endpoint.url(f"services/{quote(record.service_code, safe='')}.json"))
        except client.Open311Failed as error:
            if error.status not in (400, 404):
                raise  # the back office is failing: try again later, attributes included
            known = set()  # a service without a definition takes no attributes
        form = [(name, value) for name, value in form
                if not (m := ATTRIBUTE.match(name)) or m.group(1) in known]
    form += [("api_key", api_key)] + ([("jurisdiction_id", endpoint.jurisdiction_id)] if endpoint.jurisdiction_id else [])
    answer = client.post_service_request(session, endpoint.url("requests.json"), form, delivery_id(message))
    Open311Forward.objects.filter(pk=record.pk).update(forwarded_at=timezone.now(), **answer)
