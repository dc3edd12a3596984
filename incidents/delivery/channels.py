"""The one interface every outgoing channel implements, and the registry that maps an outbox
row's `channel` to its sender.

A channel is one module (email.py, webhook.py; Open311 forwarding later): a subclass of
Channel whose sender delivers one OutboxMessage and raises on any failure, so the outbox keeps
the row with its error and retries it. Adding a channel is that module plus one line in
CHANNELS. A channel that speaks an outside protocol keeps the protocol code (its wire format,
its HTTP) apart from the mapping of our models onto it, as FixMyStreet's senders do.

The outbox sends a batch concurrently: it groups the messages by `endpoint(message)` (one SMTP
server, one webhook URL), runs at most CITYPIN_OUTBOX_CONCURRENCY senders per endpoint, and
each sender is one `connection()`: an SMTP session or an HTTP keep-alive reused for its share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from incidents.models import OutboxMessage

Send = Callable[[OutboxMessage], None]


class Channel:
    def endpoint(self, message: OutboxMessage) -> str:
        """What the per-endpoint concurrency cap counts (one mail server, one URL...)."""
        return message.channel

    @contextmanager
    def connection(self) -> Iterator[Send]:
        """A sender for several messages in a row; opening it may raise (every message of its
        share then fails with that error). The default sends each message on its own."""
        yield self.send

    def send(self, message: OutboxMessage) -> None:
        """Deliver one message; raise on failure (the outbox retries it later)."""
        raise NotImplementedError


def delivery_id(message: OutboxMessage) -> str:
    """The stable id of one message, the same at every attempt (Message-ID, Idempotency-Key):
    its row and its creation time, since a restored or reset database may reuse row ids."""
    return f"citypin-{message.pk}-{int(message.created_at.timestamp())}"


class UnknownChannel(LookupError):
    """An outbox row names a channel this installation has no sender for."""


def _registry() -> dict[str, Channel]:
    from incidents.delivery.email import EmailChannel
    from incidents.delivery.open311 import Open311Channel
    from incidents.delivery.webhook import WebhookChannel

    return {OutboxMessage.Channel.EMAIL: EmailChannel(), OutboxMessage.Channel.WEBHOOK: WebhookChannel(),
            OutboxMessage.Channel.OPEN311: Open311Channel()}


class _Registry(dict):
    """Filled at the first look-up, not at import: each channel module imports this one, so
    building it at import failed whenever a channel module was imported first (a partially
    initialised module). A missing name loads the registry again without replacing what is
    there (a test's mock.patch.dict stays in place)."""

    def __missing__(self, name: str) -> Channel:
        for key, channel in _registry().items():
            self.setdefault(key, channel)
        if name not in self:
            raise KeyError(name)
        return dict.__getitem__(self, name)


CHANNELS: dict[str, Channel] = _Registry()


def channel_for(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise UnknownChannel(f"no sender for channel {name!r}") from None
