"""API tokens: django-rest-knox (`Authorization: Token <key>`; only a SHA-512 of each token
is stored, tokens may expire), with failed tokens counted per client address.

After API_TOKEN_FAILURE_LIMIT failed tokens from one address within
API_TOKEN_FAILURE_WINDOW_SECONDS, every token request from that address gets 429 until the
window ends, a good token too: otherwise a guesser would learn which guess was right."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.request import Request

from evalhub.accounts.addresses import client_address
from evalhub.cache_redis import cache_redis_client


class TokenFailuresThrottled(exceptions.Throttled):
    default_detail = "Too many failed API tokens from your address."


def _window() -> tuple[int, int]:
    """(window number, seconds left in it)."""
    size = settings.API_TOKEN_FAILURE_WINDOW_SECONDS
    now = time.time()
    return int(now // size), int(size - now % size) + 1


def _name(address: str, window: int) -> str:
    return f"api-token-failures:{address}:{window}"


def token_failures(address: str) -> int:
    """Failed tokens from `address` in the current window."""
    name = _name(address, _window()[0])
    client = cache_redis_client()
    if client is None:  # another cache backend
        return int(cache.get(name) or 0)
    return int(client.get(cache.make_and_validate_key(name)) or 0)


def token_failure_record(address: str) -> None:
    name = _name(address, _window()[0])
    ttl = settings.API_TOKEN_FAILURE_WINDOW_SECONDS * 2
    client = cache_redis_client()
    if client is None:
        cache.add(name, 0, timeout=ttl)
        cache.incr(name)
        return
    key = cache.make_and_validate_key(name)
    if int(client.incr(key)) == 1:  # the window's first failure: expire after it
        client.expire(key, ttl)


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if not header or header[0].lower() != self.authenticate_header(request).lower():
            return None  # no token: another authenticator (the session) may answer
        address = client_address(request._request)
        if token_failures(address) >= settings.API_TOKEN_FAILURE_LIMIT:
            raise TokenFailuresThrottled(wait=_window()[1])
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            token_failure_record(address)
            raise


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme: the same `tokenAuth` as DRF's own tokens had."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
