"""Staff sign-in with a lockout: after CITYPIN_LOGIN_ATTEMPTS failed logins for one username
within CITYPIN_LOGIN_LOCKOUT_MINUTES, that username is refused for the rest of the period,
and so is an address after four times as many (offices share addresses behind one NAT; the
address is the client's as NUM_PROXIES says, like the rate limits).
Counters live in the cache; a successful login clears the username's."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from incidents.http.ratelimit import ReportSubmitThrottle

IP_FACTOR = 4


def _keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    limit = settings.CITYPIN_LOGIN_ATTEMPTS
    return [(f"login-failures:user:{username.strip().lower()[:150]}", limit),
            (f"login-failures:ip:{ip}", limit * IP_FACTOR)]


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        keys = _keys(username, ReportSubmitThrottle().get_ident(self.request) if self.request else None)
        if any(cache.get(key, 0) >= limit for key, limit in keys):
            raise ValidationError(
                _("Too many failed sign-ins. Try again in %(n)s minutes.") % {
                    "n": settings.CITYPIN_LOGIN_LOCKOUT_MINUTES}, code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            timeout = settings.CITYPIN_LOGIN_LOCKOUT_MINUTES * 60
            for key, _limit in keys:
                cache.add(key, 0, timeout)
                cache.incr(key)
            raise
        cache.delete(keys[0][0])
        return cleaned
