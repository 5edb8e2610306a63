"""Who may call the API: researchers only (raters use the web forms)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from evalhub.accounts.roles import is_researcher


class IsResearcher(BasePermission):
    """Anonymous callers get 401 (from the authenticator's challenge), raters 403."""

    message = "This API is for researchers; your account has no researcher role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_researcher(request.user)
