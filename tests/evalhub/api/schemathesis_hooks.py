"""Schemathesis hooks for the API's runs (loaded with SCHEMATHESIS_HOOKS): JSON Lines bodies,
which schemathesis has no serializer for, are one JSON object per line."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(context: Any, value: Any) -> bytes:
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(row) for row in rows).encode()


def _has_nul_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any("\x00" in str(k) or _has_nul_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul_key(v) for v in value)
    return False


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """Drop bodies with a NUL in a key at any depth. The schema forbids one at every depth,
    but as `x-propertyNames` (OpenAPI 3.0.3 has no `propertyNames`), which schemathesis does
    not read: it would generate such keys and call the server's 400 a rejected valid
    request. The server's refusal is tested in test_contract.py."""
    return not _has_nul_key(body)
