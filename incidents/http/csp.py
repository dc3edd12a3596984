"""django-csp's middleware, spared building the policy for a response that is exempt from it
(a vector tile: csp_exempt, no document to protect). django-csp builds the policy and the
report-only policy from settings on every response and only then looks at the exemption; with
no report-only policy configured, an exempt response gets no header either way, so nothing
changes but the work."""

from __future__ import annotations

from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        if getattr(response, "_csp_exempt", False) is True and not getattr(
                settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
            if getattr(request, "_csp_nonce", None) is None:  # as django-csp: no nonce after the response
                request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
            return response
        return super().process_response(request, response)
