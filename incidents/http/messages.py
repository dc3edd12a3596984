"""Django's messages, with their storage made when a request first uses it: building it (a
cookie signer, the session's storage) cost every request, a tile or an OGC page too, although
almost none add or show a message. A request that never touched its messages has nothing to
save; one that did is saved exactly as Django's middleware saves it."""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # never used: no storage was made, nothing to save
        return super().process_response(request, response)
