"""Request rates per API token (or per session user, or per address when anonymous).

Rates are read from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] on every request rather than
once at import, so settings (and tests' overrides) take effect without a restart."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from evalhub.accounts.addresses import client_address
from evalhub.cache_redis import REDIS_ERRORS, redis_unavailable


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        """Counted in the cache; with Redis down every request is let through (a warning is
        logged once a minute): the API must not fail because its rate counter did."""
        try:
            return super().allow_request(request, view)
        except REDIS_ERRORS as exc:
            redis_unavailable("API throttle", exc)
            return True

    def get_ident(self, request: Request) -> str:
        return client_address(request._request)

    def get_cache_key(self, request: Request, view: Any) -> str:
        if request.auth is not None and hasattr(request.auth, "digest"):
            # The token's stored digest: the cache never holds a usable credential.
            ident = "t" + request.auth.digest[:32]
        elif request.user and request.user.is_authenticated:
            ident = f"u{request.user.pk}"
        else:
            ident = "a" + self.get_ident(request)
        return f"throttle_{self.scope}_{ident}"


class BulkRateThrottle(TokenRateThrottle):
    """A tighter rate for the bulk submission endpoints, counted apart from the rest."""

    scope = "bulk"
