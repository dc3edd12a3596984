"""Per-IP rate limits on anonymous writes, shared by the API and the web pages. Rates are
settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) read at each request; counts live in the
cache."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ScopedIpThrottle(SimpleRateThrottle):
    scope = ""

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ReportSubmitThrottle(ScopedIpThrottle):
    scope = "report_submit"


class SupportThrottle(ScopedIpThrottle):
    scope = "report_support"


class ReopenThrottle(ScopedIpThrottle):
    scope = "report_reopen"


class AlertSubscribeThrottle(ScopedIpThrottle):
    scope = "alert_subscribe"


def allowed(request, throttle: type[ScopedIpThrottle]) -> bool:
    """For plain Django views: True if this request is within the limit (and counts it)."""
    return throttle().allow_request(request, None)
