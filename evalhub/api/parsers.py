"""Request body parsers with size limits, and the bulk-rows parser (JSON array or JSONL).

DRF's own JSON parser reads the stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check,
so both parsers here read at most their limit (+1 byte to notice more) and answer 413."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from evalhub.api.errors import PayloadTooLarge
from evalhub.api.row_shapes import InvalidRows, unstorable_path
from evalhub.importing import InputError, Row, RowProblem, parse_rows

# A JSON escape of a UTF-16 surrogate: legal JSON, but a lone one cannot be stored as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _read_limited(stream: Any, parser_context: dict[str, Any] | None, limit: int) -> bytes:
    request = (parser_context or {}).get("request")
    meta = request.META if request is not None else {}
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(f"The body has {declared} bytes; the limit is {limit} bytes.")
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes.")
    return body


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise exceptions.ParseError(f"The body is not UTF-8 (byte {exc.start}).") from None


def _might_be_unstorable(text: str) -> bool:
    return "\\u0000" in text or "\x00" in text or bool(_SURROGATE_ESCAPE.search(text))


class BoundedJSONParser(BaseParser):
    """application/json, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        text = _decode(_read_limited(stream, parser_context, limit))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(
                f"JSON parse error at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        if _might_be_unstorable(text):
            where = unstorable_path(data)
            if where is not None:
                raise exceptions.ValidationError(
                    {where or "body": ["contains a NUL character or a lone surrogate"]}
                )
        return data


class BulkRowsParser(BaseParser):
    """A JSON array of objects or JSON Lines, up to API_BULK_MAX_BYTES bytes and
    API_BULK_MAX_ROWS rows. Returns [(row_number, dict)] numbered from 1 (the line for
    JSONL, the position for an array); errors name the row."""

    media_type = "*/*"  # application/json, application/x-ndjson, application/jsonl, text/plain

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> list[Row]:
        text = _decode(_read_limited(stream, parser_context, settings.API_BULK_MAX_BYTES))
        try:
            rows = parse_rows(text)
        except InputError as exc:
            raise InvalidRows(exc.problems) from None
        if len(rows) > settings.API_BULK_MAX_ROWS:
            raise PayloadTooLarge(
                f"The body has {len(rows)} rows; the limit is {settings.API_BULK_MAX_ROWS} "
                "rows per request. Split it into several requests."
            )
        # NUL characters are checked per field by the row shapes (evalhub.api.row_shapes), as
        # the fields a row format ignores may hold anything.
        return rows


def bulk_rows(request: Any) -> list[Row]:
    """The rows BulkRowsParser read; an empty body (which DRF never hands to a parser)
    is the same error as an empty file."""
    rows = request.data
    if not isinstance(rows, list) or not rows:
        raise InvalidRows([RowProblem(0, "the input is empty")])
    return rows
