"""Opaque cursors for keyset pagination: the last row's sort key, base64-encoded JSON.

Every list reads its cursor through one of the typed readers below, so a cursor a client
made up (a huge id, ``true`` for an id, a date out of range) is refused the same way
everywhere: 422 ``invalid_cursor``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from parlour.errors import InvalidInput
from parlour.types import MAX_ID


def encode_cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def time_id_cursor(cursor: str) -> tuple[datetime, int]:
    """A cursor of (timestamp, id): the panel's and a thread's order."""
    at, row_id = _decode(cursor, 2)
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _invalid()
    return when, _id(row_id)


def text_id_cursor(cursor: str) -> tuple[str, int]:
    """A cursor of (text, id): the contacts list's order by name."""
    text, row_id = _decode(cursor, 2)
    if not isinstance(text, str):
        raise _invalid()
    return text, _id(row_id)


def decode_cursor(cursor: str) -> list[Any]:
    """A cursor's values, for a list whose cursors take more than one shape (check each)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError as exc:
        raise _invalid() from exc
    if not isinstance(values, list):
        raise _invalid()
    return values


def _decode(cursor: str, arity: int) -> list[Any]:
    values = decode_cursor(cursor)
    if len(values) != arity:
        raise _invalid()
    return values


def row_id(value: object) -> int:
    """A cursor's id, checked as every list checks it."""
    return _id(value)


def _id(value: object) -> int:
    # ``True`` is an int to Python; an id beyond the columns' range is no row's.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise _invalid()
    return value


def _invalid() -> InvalidInput:
    return InvalidInput("This cursor is not valid.", code="invalid_cursor")
