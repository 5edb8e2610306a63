"""One JSON shape for every API error, naming the row and field where there is one:

    {"status": 400, "code": "invalid", "detail": "line 2: instruction: no prompt ...",
     "problems": [{"row": 2, "field": "instruction", "message": "no prompt ..."}]}

`row` is the 1-based row (line of a JSONL body, position in a JSON array) or null;
`field` is a dotted path into the body ("baselines.1"), a query parameter's name, or "" when
the whole request is meant.

400 means the request breaks the schema (a wrong type, a missing or unknown field, a value
out of range); 409 means it is well-formed but the stored data says no (an unknown slug or
prompt, a slug already taken, rows that repeat each other, a study in the wrong state)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from evalhub.api.row_shapes import InvalidRows
from evalhub.api.strict import CONFLICT_CODES
from evalhub.importing import InputError


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is not in a state that allows this."
    default_code = "conflict"


def problem(message: str, *, field: str = "", row: int | None = None) -> dict[str, Any]:
    return {"row": row, "field": field, "message": str(message)}


def _flatten(detail: Any, path: str = "") -> list[dict[str, Any]]:
    """DRF's nested validation detail -> problems with dotted field paths."""
    if isinstance(detail, dict):
        found: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            found += _flatten(value, f"{path}.{name}" if path and name else path or name)
        return found
    if isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            return [problem(str(v), field=path) for v in detail]
        found = []
        for index, value in enumerate(detail):
            if value:
                found += _flatten(value, f"{path}.{index}" if path else str(index))
        return found
    return [problem(str(detail), field=path)]


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def error_body(
    status_code: int, code: str, detail: str, problems: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"status": status_code, "code": code, "detail": detail, "problems": problems}


def input_error_response(exc: InputError) -> Response:
    """Rows that break their shape (InvalidRows) are a 400. A service's InputError comes
    after the request passed the schema: rows that name what is not there or repeat each
    other, so a 409. Both name the rows."""
    problems = [problem(p.message, field=p.field, row=p.row or None) for p in exc.problems]
    if isinstance(exc, InvalidRows):
        return Response(
            error_body(400, "invalid_rows", str(exc), problems), status=status.HTTP_400_BAD_REQUEST
        )
    return Response(
        error_body(409, "conflicting_rows", str(exc), problems), status=status.HTTP_409_CONFLICT
    )


def _leaf_codes(codes: Any) -> list[str]:
    if isinstance(codes, dict):
        return [c for value in codes.values() for c in _leaf_codes(value)]
    if isinstance(codes, list):
        return [c for value in codes for c in _leaf_codes(value)]
    return [str(codes)]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InputError):
        return input_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # a real server error: Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        problems = _flatten(exc.detail)
        summary = "; ".join(
            f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems
        )
        codes = _leaf_codes(exc.get_codes())
        if codes and all(code in CONFLICT_CODES for code in codes):
            response.status_code = status.HTTP_409_CONFLICT
            response.data = error_body(409, "conflict", summary, problems)
        else:
            response.data = error_body(response.status_code, "invalid", summary, problems)
        return response
    detail = str(exc.detail)
    response.data = error_body(response.status_code, _code(exc), detail, [])
    return response


def field_conflict(exc: Exception) -> exceptions.ValidationError:
    """A service's ValueError whose message reads "field: message" (the house convention)
    as a 409 naming that field: the request passed the schema, so what is left are rules
    across fields and rows that the schema can only describe."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    if sep and head and " " not in head and len(head) <= 60:
        return exceptions.ValidationError({head: [rest]}, code="conflict")
    return exceptions.ValidationError([text], code="conflict")
