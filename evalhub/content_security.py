"""django-csp's middleware with the site policy built once.

django-csp builds the header on every response (~0.2 ms: it deep-copies the settings and
joins them, for the policy and again for the report-only one); that is several per cent of
a rating page's CPU. Our policy is the same for every response unless a view changes it
(django-csp's decorators) or asks for a nonce, so those go through django-csp as they are
and every other response gets the strings built once (rebuilt when a test overrides the
settings)."""

from __future__ import annotations

from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro",
                "_csp_update_ro", "_csp_replace_ro", "_csp_exempt", "_csp_exempt_ro")  # fmt: skip
_built: dict[bool, tuple[str, tuple[str, ...]]] = {}


def site_policy(report_only: bool = False) -> tuple[str, tuple[str, ...]]:
    """(the header value, the path prefixes it is not sent on) from the settings."""
    if report_only not in _built:
        name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        prefixes = tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
        _built[report_only] = (build_policy(report_only=report_only), prefixes)
    return _built[report_only]


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        nonce_used = getattr(request, "_csp_nonce", None) is not None
        if nonce_used or any(hasattr(response, name) for name in PER_RESPONSE):
            return super().process_response(request, response)
        if response.status_code in (404, 500) and settings.DEBUG:  # Django's debug pages
            return response
        for header, report_only in ((HEADER, False), (HEADER_REPORT_ONLY, True)):
            policy, excluded = site_policy(report_only)
            if policy and header not in response and not request.path_info.startswith(excluded):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
