"""Who may call the API: researchers only (raters use the web forms)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from evalhub.accounts.roles import is_researcher


class IsResearcher(BasePermission):
    """Anonymous callers get 401 (from the authenticator's challenge), raters 403."""

    message = "This API is for researchers; your account has no researcher role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_researcher(request.user)


class DocumentedQueryOnly(BasePermission):
    """Query parameters are checked against the operation's schema before the view runs:
    one the schema does not name, an empty or repeated one, or a value of the wrong type or
    out of range is a 400 naming the parameter. Every API view gets this from
    REST_FRAMEWORK's default permissions, so a new endpoint inherits it."""

    def has_permission(self, request: Request, view: Any) -> bool:
        from evalhub.api.contract import query_problems  # the schema, built once per process

        problems = query_problems(request)
        if problems:
            raise ValidationError(problems)
        return True
