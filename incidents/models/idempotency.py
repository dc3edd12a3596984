"""What a write answered to an `Idempotency-Key`, so that a client's retry gets the same answer
and creates nothing twice (incidents/http/idempotency.py). Kept 24 hours."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    scope = models.CharField(max_length=60)  # the endpoint, and the client where there is one (an API key)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the request: the same key with another body is refused
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    location = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique")]
