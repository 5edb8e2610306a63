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
