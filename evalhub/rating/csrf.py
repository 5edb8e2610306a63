"""The CSRF token of a pre-rendered rating page: Django's token, made for less.

Django's `get_token` masks the cookie's secret afresh for every page (so that no two pages
carry the same token: BREACH), drawing the mask one character at a time, one system call
each (32 a page). Here the mask comes from one draw of the OS's random source, and the
token has the form Django's CsrfViewMiddleware checks: the mask, then the secret shifted
by it, over CSRF_ALLOWED_CHARS. The check itself is Django's, unchanged.

A page whose request already carries the CSRF cookie leaves it as it is: Django sets it
again on every page to renew its year of life, a Set-Cookie header (and its date) on
each rating page of a study that takes an hour. The first page without one gets its
secret and cookie from Django's `get_token`."""

from __future__ import annotations

import secrets

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token

_N = len(CSRF_ALLOWED_CHARS)
_INDEX = {char: i for i, char in enumerate(CSRF_ALLOWED_CHARS)}
# Bytes at or above this would make the first characters likelier: they are drawn again.
_UNBIASED_BELOW = 256 - 256 % _N


def page_csrf_token(request: HttpRequest) -> str:
    """A token for a form on this page, masked afresh, that Django's CSRF check accepts."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:  # no (valid) cookie yet: Django makes the secret and sets it
        return get_token(request)
    mask = _mask()
    return "".join(CSRF_ALLOWED_CHARS[m] for m in mask) + "".join(
        CSRF_ALLOWED_CHARS[(_INDEX[char] + m) % _N] for char, m in zip(secret, mask, strict=True)
    )


def _mask() -> list[int]:
    """CSRF_SECRET_LENGTH uniform indexes into CSRF_ALLOWED_CHARS (one draw, nearly always)."""
    drawn: list[int] = []
    while len(drawn) < CSRF_SECRET_LENGTH:
        draw = secrets.token_bytes(CSRF_SECRET_LENGTH + 8)
        drawn += [b % _N for b in draw if b < _UNBIASED_BELOW]
    return drawn[:CSRF_SECRET_LENGTH]
