"""The client's address, as login throttling (django-axes) and the API's failed-token
throttle count it.

Behind PROXY_COUNT reverse proxies, each appending one X-Forwarded-For entry, the client is
the entry the outermost proxy appended; what the client wrote itself further left is
ignored, so it cannot pick its own address. Without proxies it is REMOTE_ADDR. The same rule
as DRF's NUM_PROXIES (set from PROXY_COUNT), so both throttles see one address."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    return entries[-min(proxies, len(entries))]
