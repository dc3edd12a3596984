"""Delivery of the outbox: the domain queues messages (incidents.notices) in the transaction
that caused them; workers send them here, each through the sender of its channel
(incidents.delivery.channels).

- Claiming: one statement takes up to CITYPIN_OUTBOX_BATCH due rows with FOR UPDATE SKIP
  LOCKED and moves their `send_after` a lease ahead (CITYPIN_OUTBOX_LEASE), so several workers
  never take the same row, and a worker that dies (SIGKILL, power) gives its rows back when the
  lease ends. Nothing is held open while sending.
- Sending: the batch is grouped by endpoint (the SMTP server, each webhook URL); each endpoint
  gets at most CITYPIN_OUTBOX_CONCURRENCY threads, each with one reused connection. The threads
  never touch the database: rows are loaded before and recorded after.
- Recording: sent rows get `sent_at`; a failed row gets its error and is due again after an
  exponential backoff with jitter, or is dead (`failed_at`) after CITYPIN_OUTBOX_MAX_ATTEMPTS.
- Stopping (SIGTERM): a thread finishes the message in hand; rows not started are released
  (due at once) for the next worker.
- A crash between sending and recording sends again after the lease: each message carries a
  stable id (Message-ID, Idempotency-Key) so the receiver drops the duplicate.
- `serve()` drains while there is work, then LISTENs on citypin_outbox (a trigger NOTIFYs it
  when messages are queued, at commit) for at most CITYPIN_WORKER_INTERVAL; woken, it waits
  CITYPIN_OUTBOX_GATHER seconds more, so that the messages of a burst are claimed together
  (one message a claim cost the worker 4 ms of CPU per report in bench/storm.py)."""

from __future__ import annotations

import logging
import random
import select
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from incidents.delivery.channels import channel_for
from incidents.models import OutboxMessage

log = logging.getLogger("citypin.outbox")

# Due rows, oldest first, that no other worker holds; they are moved a lease ahead in the same
# statement (the partial index outbox_pending covers exactly the pending rows, by send_after).
# The choice is a MATERIALIZED CTE, run once: as `WHERE id IN (SELECT … LIMIT … SKIP LOCKED)`
# the planner may run the subquery again for the update and take more than the limit.
CLAIM_SQL = """
WITH due AS MATERIALIZED (
    SELECT id FROM incidents_outboxmessage
    WHERE sent_at IS NULL AND failed_at IS NULL AND send_after <= %(now)s
    ORDER BY send_after, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE incidents_outboxmessage o SET send_after = %(until)s
FROM due WHERE o.id = due.id
RETURNING o.id
"""

RELEASED = "released"  # a row not started because the worker is stopping


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    failed: list[tuple[OutboxMessage, str]] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failures: doubling from CITYPIN_OUTBOX_BACKOFF
    up to the cap, each drawn between half and all of it (so a storm's failures spread out)."""
    base = min(settings.CITYPIN_OUTBOX_BACKOFF * 2 ** (attempts - 1), settings.CITYPIN_OUTBOX_BACKOFF_MAX)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


def claim(now: datetime, limit: int | None = None) -> list[OutboxMessage]:
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, {"now": now, "until": now + timedelta(seconds=settings.CITYPIN_OUTBOX_LEASE),
                                   "limit": limit or settings.CITYPIN_OUTBOX_BATCH})
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    return list(OutboxMessage.objects.filter(id__in=ids).select_related("endpoint").order_by("id"))


def _send_share(messages: list[OutboxMessage], stop: threading.Event | None) -> Outcome:
    """One thread's share of one endpoint's messages, over one connection."""
    outcome = Outcome()
    channel_error = None
    try:
        channel = channel_for(messages[0].channel)
    except LookupError as error:
        channel, channel_error = None, error
    pending = list(messages)
    try:
        if channel is None:
            raise channel_error  # type: ignore[misc]
        with channel.connection() as send:
            while pending:
                if stop is not None and stop.is_set():
                    break
                message = pending[0]
                try:
                    send(message)
                except Exception as error:  # noqa: BLE001 - any failure of the channel: kept and retried
                    outcome.failed.append((message, f"{type(error).__name__}: {error}"))
                else:
                    outcome.sent.append(message.pk)
                pending.pop(0)
    except Exception as error:  # the connection could not open (or close): the rest of the share fails
        outcome.failed += [(message, f"{type(error).__name__}: {error}") for message in pending]
        pending = []
    outcome.released += [message.pk for message in pending]
    return outcome


def deliver(messages: list[OutboxMessage], stop: threading.Event | None = None) -> Outcome:
    """Send a claimed batch, concurrently per endpoint, and return what happened to each row."""
    shares: list[list[OutboxMessage]] = []
    by_endpoint: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
    for message in messages:
        try:
            key = channel_for(message.channel).endpoint(message)
        except LookupError:
            key = "unknown"
        by_endpoint[(message.channel, key)].append(message)
    cap = max(1, settings.CITYPIN_OUTBOX_CONCURRENCY)
    for group in by_endpoint.values():
        n = min(cap, len(group))
        shares += [group[i::n] for i in range(n)]
    outcome = Outcome()
    if len(shares) == 1:
        parts = [_send_share(shares[0], stop)]
    else:
        with ThreadPoolExecutor(max_workers=min(len(shares), 32), thread_name_prefix="outbox") as pool:
            parts = list(pool.map(lambda share: _send_share(share, stop), shares))
    for part in parts:
        outcome.sent += part.sent
        outcome.failed += part.failed
        outcome.released += part.released
    return outcome


def record(outcome: Outcome, now: datetime) -> None:
    with transaction.atomic():
        if outcome.sent:
            OutboxMessage.objects.filter(pk__in=outcome.sent).update(
                sent_at=now, attempts=F("attempts") + 1, last_error="")
        if outcome.released:
            OutboxMessage.objects.filter(pk__in=outcome.released).update(send_after=now)
        for message, error in outcome.failed:
            attempts = message.attempts + 1
            dead = attempts >= settings.CITYPIN_OUTBOX_MAX_ATTEMPTS
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=attempts, last_error=error[:2000], failed_at=now if dead else None,
                send_after=now if dead else now + backoff(attempts))
            if dead:
                log.warning("outbox message %s is dead after %s attempts: %s", message.pk, attempts, error)


def send_pending(now: datetime | None = None, stop: threading.Event | None = None) -> tuple[int, int]:
    """Send everything due, batch after batch until none is left (or `stop` is set); returns
    (sent, failed attempts). `now` fixes the clock (tests); by default each batch reads it."""
    sent = failed = 0
    limit = settings.CITYPIN_OUTBOX_BATCH
    while stop is None or not stop.is_set():
        batch_now = now or timezone.now()
        messages = claim(batch_now, limit)
        if not messages:
            break
        outcome = deliver(messages, stop)
        record(outcome, now or timezone.now())
        sent, failed = sent + len(outcome.sent), failed + len(outcome.failed)
        if len(messages) < limit:
            break  # the claim took all that was due: asking again would find nothing (what has been
            # queued since has NOTIFYed the listener, which wakes the next pass at once)
    return sent, failed


def dead_message_count() -> int:
    """Messages given up on, for the operations center's dashboard (the admin lists them)."""
    return OutboxMessage.objects.filter(failed_at__isnull=False, sent_at__isnull=True).count()


def retry_messages(ids: list[int]) -> int:
    """Make unsent messages (dead or waiting for a retry) due now, with their attempts reset."""
    return OutboxMessage.objects.filter(pk__in=ids, sent_at__isnull=True).update(
        failed_at=None, attempts=0, send_after=timezone.now())


def _listener():
    """A connection of its own that LISTENs on citypin_outbox (autocommit, outside Django's)."""
    params = connection.get_connection_params()
    listener = connection.get_new_connection(params)
    listener.autocommit = True
    with listener.cursor() as cursor:
        cursor.execute("LISTEN citypin_outbox")
    return listener


def wait_for_work(listener, stop: threading.Event, timeout: float) -> None:
    """Until a NOTIFY arrives, `stop` is set, or `timeout` seconds pass (looked at every 0.2 s)."""
    deadline = timezone.now() + timedelta(seconds=timeout)
    while not stop.is_set() and timezone.now() < deadline:
        if listener is not None and select.select([listener], [], [], 0.2)[0]:
            listener.poll()
            if listener.notifies:
                # A storm's commits come close together: a moment's wait lets one claim take many.
                stop.wait(settings.CITYPIN_OUTBOX_GATHER)
                listener.poll()
                listener.notifies.clear()
                return
        elif listener is None:
            stop.wait(0.2)


def serve(stop: threading.Event, on_summary=None) -> None:
    """The worker's delivery loop, until `stop`: drain, then wait for a NOTIFY or the interval.
    A failed pass (the database restarting...) is logged and tried again after the interval."""
    listener = None
    try:
        while not stop.is_set():
            try:
                if listener is None:
                    listener = _listener()
                sent, failed = send_pending(stop=stop)
                if (sent or failed) and on_summary:
                    on_summary(f"outbox: {sent} sent, {failed} failed")
                wait_for_work(listener, stop, settings.CITYPIN_WORKER_INTERVAL)
            except Exception:  # noqa: BLE001 - a long-running loop (the database restarting...): log, reconnect
                log.exception("outbox pass failed; retrying in %s s", settings.CITYPIN_WORKER_INTERVAL)
                if listener is not None:
                    listener.close()
                listener = None
                connection.close()
                stop.wait(settings.CITYPIN_WORKER_INTERVAL)
    finally:
        if listener is not None:
            listener.close()
        connection.close()
