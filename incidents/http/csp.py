"""django-csp's middleware, spared the work it repeats on every response:
- a response exempt from the policy (a vector tile: csp_exempt, no document to protect):
  django-csp builds the policy and the report-only policy from settings on every response and
  only then looks at the exemption; with no report-only policy configured, an exempt response
  gets no header either way, so nothing changes but the work;
- a response with no policy of its own (no csp_update/replace/override decorator) and no nonce
  used (every JSON answer, every OGC API items page): its policies are those of the settings
  alone, built once and kept until a CONTENT_SECURITY_POLICY setting changes, then set as
  django-csp sets them (not over a header already there, not under EXCLUDE_URL_PREFIXES, not
  on an exempt response, nor on DEBUG's 404 and 500 pages)."""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view's decorators set on its response to change its policy (django-csp's names).
OWN_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
DEBUG_PAGES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
# header, report-only, the response's exemption, the setting
POLICIES = ((HEADER, False, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, True, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"))

_built: dict[bool, str] = {}


def settings_policy(report_only: bool) -> str:
    """The policy (or report-only policy) of the settings alone, without a nonce."""
    if report_only not in _built:
        _built[report_only] = build_policy(report_only=report_only)
    return _built[report_only]


@receiver(setting_changed)
def forget_policies(setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        if getattr(response, "_csp_exempt", False) is True and not getattr(
                settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
            if getattr(request, "_csp_nonce", None) is None:  # as django-csp: no nonce after the response
                request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
            return response
        if getattr(request, "_csp_nonce", None) is not None or any(
                getattr(response, name, None) is not None for name in OWN_POLICY):
            return super().process_response(request, response)
        if response.status_code in DEBUG_PAGES and settings.DEBUG:
            return response
        for header, report_only, exempt, setting in POLICIES:
            policy = settings_policy(report_only)
            excluded = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            if policy and getattr(response, exempt, False) is False and header not in response \
                    and not request.path_info.startswith(excluded):
                response[header] = policy
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
