"""Opaque cursors for keyset pagination: the last row's sort key, base64-encoded JSON."""

from __future__ import annotations

import base64
import json

from parlour.errors import InvalidInput


def encode_cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[object]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError as exc:
        raise InvalidInput("This cursor is not valid.", code="invalid_cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidInput("This cursor is not valid.", code="invalid_cursor")
    return values
