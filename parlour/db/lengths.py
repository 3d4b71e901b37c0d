"""Text longer than its column is refused the same way on both databases: 422
``too_long``, naming the field and its limit, before anything is written.

PostgreSQL refuses such a value (and the request answered 500), SQLite stores it whole; and
an API limit set in a schema can drift from its column's (a phone number's label took 200
characters for a column of 100). Checked here, at the write, every column's own length is
the limit, whatever schema or service the value came through. Limits in the schemas stay
as the documentation and the first check; this is the one that cannot disagree.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Mapper

from parlour.db.base import Base
from parlour.errors import InvalidInput


@cache
def _limits(mapper: Mapper[Any]) -> tuple[tuple[str, int], ...]:
    return tuple(
        (attr.key, column.type.length)
        for attr in mapper.column_attrs
        for column in attr.columns[:1]
        if isinstance(column.type, String) and column.type.length
    )


def check(mapper: Mapper[Any], target: object) -> None:
    for key, length in _limits(mapper):
        value = target.__dict__.get(key)
        if isinstance(value, str) and len(value) > length:
            raise InvalidInput(
                f"{key} can be at most {length} characters.",
                code="too_long",
                details={"field": key, "max_length": length},
            )


def _before_write(mapper: Mapper[Any], _connection: object, target: object) -> None:
    check(mapper, target)


def install() -> None:
    """Checks every table's rows as they are inserted or updated (once per process)."""
    if not event.contains(Base, "before_insert", _before_write):
        event.listen(Base, "before_insert", _before_write, propagate=True)
        event.listen(Base, "before_update", _before_write, propagate=True)
