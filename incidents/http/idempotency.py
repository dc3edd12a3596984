"""Idempotent writes: a client that sends an `Idempotency-Key` header with a POST and retries it
(after a timeout, a 503 or a lost answer) gets the first answer again, and nothing is created
twice. The same key with a different request is refused (422, naming the key). Keys live
KEY_TTL.

How: the key's record is inserted in the write's own transaction, before the write, with
INSERT … ON CONFLICT DO NOTHING on its unique index. A concurrent retry with the same key
waits on that index entry until the first request commits, then reads its answer; if the first
rolled back (a crash, a lost connection), nothing was recorded and the retry runs afresh. Only
a success (2xx) is recorded, with the write, in one commit; a refusal wrote nothing, and its
retry meets the same checks again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces: UUIDs, ULIDs, random tokens
PURGE_BATCH = 100

# Claims the key in this transaction; no row back means another request holds or held it.
CLAIM_SQL = """
INSERT INTO incidents_idempotencyrecord (scope, key, fingerprint, status, content_type, body, location, created_at)
VALUES (%(scope)s, %(key)s, %(fingerprint)s, 0, '', ''::bytea, '', %(now)s)
ON CONFLICT (scope, key) DO NOTHING
RETURNING id
"""

# Expired records go a few at a time, on the way: no job to schedule, and the index on
# created_at finds them.
PURGE_SQL = """
DELETE FROM incidents_idempotencyrecord
WHERE id IN (SELECT id FROM incidents_idempotencyrecord WHERE created_at < %(expired)s
             ORDER BY created_at LIMIT %(batch)s)
"""


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what the request asks: path and body (a multipart form: its fields and files'
    contents, since its raw body is not kept)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"{name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                upload.seek(0)
                digest.update(f"{name}:{upload.name}:".encode() + hashlib.sha256(upload.read()).digest())
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def idempotent(request: HttpRequest, scope: str, write: Callable[[], HttpResponse],
               refuse: Callable[[str], HttpResponse]) -> HttpResponse:
    """The answer of `write()`, run at most once per Idempotency-Key within `scope`. `refuse`
    makes the client's error answer (status 400 or 422) from a message naming the header."""
    key = request.headers.get(HEADER)
    if key is None:
        return write()
    if not VALID_KEY.match(key):
        return refuse(_("Idempotency-Key: 1 to 200 printable ASCII characters without spaces, e.g. a UUID."))
    request.replay_safe = True  # an outage mid-write may run it again (http/outage.py)
    response = once(scope, key, fingerprint(request), write, refuse)
    response[HEADER] = key
    return response


def _succeeded(response: HttpResponse) -> bool:
    return 200 <= response.status_code < 300


def once(scope: str, key: str, wanted: str, write: Callable[[], HttpResponse],
         refuse: Callable[[str], HttpResponse],
         succeeded: Callable[[HttpResponse], bool] = _succeeded) -> HttpResponse:
    """`write()` run at most once for (scope, key): a second call with the same key and
    fingerprint `wanted` gets the first answer back. Only an answer that `succeeded` is kept,
    in the transaction of the write itself; any other answer rolls back what `write()` did."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(PURGE_SQL, {"expired": now - KEY_TTL, "batch": PURGE_BATCH})
            cursor.execute(CLAIM_SQL, {"scope": scope, "key": key, "fingerprint": wanted, "now": now})
            claimed = cursor.fetchone()
        if claimed is None:
            return _replay(scope, key, wanted, refuse)
        response = write()
        if not succeeded(response):
            transaction.set_rollback(True)  # nothing was written; the retry runs again
            return response
        IdempotencyRecord.objects.filter(pk=claimed[0]).update(
            status=response.status_code, content_type=response.get("Content-Type", ""),
            body=response.content, location=response.get("Location", ""))
        return response


def _replay(scope: str, key: str, wanted: str, refuse: Callable[[str], HttpResponse]) -> HttpResponse:
    record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.fingerprint != wanted:
        response = refuse(_("Idempotency-Key: this key was used for a different request; use a new key for a new "
                            "request."))
        response.status_code = 422
        return response
    if 300 <= record.status < 400:  # the web form's redirect to what it created
        response = HttpResponseRedirect(record.location)
        response.status_code = record.status
    else:
        response = HttpResponse(bytes(record.body), status=record.status, content_type=record.content_type)
        if record.location:
            response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response
