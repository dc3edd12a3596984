"""Pages and API answers compressed on the fly (gzip), for phones on slow connections: the ward
layer, a report list or a page shrinks to a fifth or less. Static files are compressed once, at
collectstatic, and served by WhiteNoise (gzip or brotli), which sits above this middleware.

BREACH (a secret in a compressed page guessed from its size across many requests, when the page
also reflects attacker-chosen text) is why compressing pages is a decision, not a default:
- Django masks the CSRF token with a fresh random value in every response, so the token's
  bytes never repeat from one response to the next;
- Django's GZipMiddleware (4.2 and later) adds a random number of bytes to each gzip stream
  ("Heal The BREACH"), so response lengths stop telling how well a guess compressed;
- the pages hold no other secret: reporter contact data appears only in the signed-in
  console, never beside reflected query text.
So pages with CSRF tokens are compressed too. Streaming answers (exports) are left alone: their
faces stream large files and gzip per chunk would cost their throughput."""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware


class CompressionMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if response.streaming:
            return response
        return super().process_response(request, response)
