"""The one interface every outgoing channel implements, and the registry that maps an outbox
row's `channel` to its sender.

A channel is one module (email.py today; webhook and Open311 forwarding later): a class whose
`send(message)` delivers one OutboxMessage and raises on any failure, so the outbox keeps the
row with its error and retries it. Adding a channel is that module plus one line in CHANNELS.
A channel that speaks an outside protocol keeps the protocol code (its wire format, its HTTP)
apart from the mapping of our models onto it, as FixMyStreet's senders do."""

from __future__ import annotations

from typing import Protocol

from incidents.delivery.email import EmailChannel
from incidents.models import OutboxMessage


class Channel(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Deliver one message; raise on failure (the outbox retries it later)."""


class UnknownChannel(LookupError):
    """An outbox row names a channel this installation has no sender for."""


CHANNELS: dict[str, Channel] = {
    OutboxMessage.Channel.EMAIL: EmailChannel(),
}


def channel_for(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise UnknownChannel(f"no sender for channel {name!r}") from None
