"""What every API view shares: error responses for the schema, lookups that 404 in JSON."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from evalhub.api.errors import error_body
from evalhub.api.serializers.common import ErrorSerializer

_ERROR_TEXT = {
    400: "Bad input; `problems` names each row and field.",
    401: "No, invalid, expired or revoked token (send `Authorization: Token <key>`).",
    403: "The account is not a researcher.",
    404: "No such resource, or a page past the last.",
    409: "Well-formed, but the stored data says no: an unknown slug or row, a slug already "
    "taken, rows that repeat each other, or a state that does not allow it; `problems` "
    "names each row and field.",
    413: "The body is over the size or row limit.",
    415: "Unsupported Content-Type.",
    429: "Too many requests for this token, or too many failed tokens from this address; "
    "see Retry-After.",
}
BIGINT_MAX = 2**63 - 1


def error_responses(*codes: int, json_only: bool = False) -> dict[Any, OpenApiResponse]:
    """Schema entries for the error statuses a view can answer (400/401/403/404/429 always:
    any operation refuses an unknown or malformed query parameter).
    json_only: say application/json even where the view's success renders something else."""
    wanted = sorted({400, 401, 403, 404, 429, *codes})
    return {
        ((c, "application/json") if json_only else c): OpenApiResponse(
            ErrorSerializer, description=_ERROR_TEXT[c]
        )
        for c in wanted
    }


def get_or_404(queryset: QuerySet | type[Model], what: str, **lookup: Any) -> Any:
    qs = queryset.objects.all() if isinstance(queryset, type) else queryset
    try:
        return qs.get(**lookup)
    except qs.model.DoesNotExist:
        shown = ", ".join(str(v) for v in lookup.values())
        raise NotFound(f"No {what} {shown!r}.") from None


def check_query(serializer_class: type[serializers.Serializer], request: Any) -> dict[str, Any]:
    """Validated query parameters (errors use the API's error shape, field = parameter)."""
    serializer = serializer_class(data=request.query_params)
    for field in serializer.fields.values():
        if isinstance(field, serializers.CharField):
            field.trim_whitespace = False  # what was sent is what is checked, never trimmed
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@csrf_exempt  # a JSON 404 for any method, never the CSRF failure page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path that matches no endpoint: a JSON 404 rather than an HTML page."""
    return JsonResponse(error_body(404, "not_found", "No such API endpoint.", []), status=404)
