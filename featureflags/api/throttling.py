"""Rate limits of the public endpoints, per key (or signed-in user) and per address.

DRF's throttling, counted in a Django cache (``RATE_LIMIT_CACHE``: Redis in production,
so every process shares the counts); over the limit, ``429`` with ``Retry-After``.
Server-side tokens (read, write) are not limited here.
"""

from __future__ import annotations

from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from featureflags.conf import flag_settings

from .models import ApiToken, Scope


def is_public_caller(request) -> bool:
    """An evaluate-scope key (one a browser may hold) or a session: not a server-side token."""
    return not isinstance(request.auth, ApiToken) or request.auth.scope == Scope.EVALUATE


class _PublicThrottle(SimpleRateThrottle):
    setting = ""

    def __init__(self) -> None:
        pass  # the rate is read per request: settings may change (tests, override_settings)

    @property
    def cache(self):
        return caches[flag_settings.RATE_LIMIT_CACHE]

    def allow_request(self, request, view) -> bool:
        self.rate = getattr(flag_settings, self.setting)
        if self.rate is None or not is_public_caller(request):
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class PerKeyThrottle(_PublicThrottle):
    """``RATE_LIMIT_PER_KEY``: requests of one evaluate key, or of one signed-in user."""

    setting = "RATE_LIMIT_PER_KEY"
    scope = "featureflags-key"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            who = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            who = f"user:{request.user.pk}"
        else:
            return None  # refused before this anyway
        return self.cache_format % {"scope": self.scope, "ident": who}


class PerAddressThrottle(_PublicThrottle):
    """``RATE_LIMIT_PER_ADDRESS``: requests from one client address (REMOTE_ADDR, or
    X-Forwarded-For behind DRF's ``NUM_PROXIES``), whatever key they carry."""

    setting = "RATE_LIMIT_PER_ADDRESS"
    scope = "featureflags-address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


PUBLIC_THROTTLES = [PerKeyThrottle, PerAddressThrottle]
