"""``column IN (a list of ids)`` as one statement, whatever the list's length.

SQLAlchemy's expanding ``IN`` renders one parameter per id: a page of 200 messages made a
statement of 200 parameters, rendered anew (about a millisecond of CPU) and, on
PostgreSQL, prepared anew for each length. Here the ids travel as one parameter: an array
on PostgreSQL (``= ANY``), a JSON array on SQLite (``IN (SELECT value FROM json_each)``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Dialect, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.types import TypeDecorator, TypeEngine


class IdList(TypeDecorator[Sequence[int]]):
    """A list of ids as one parameter: an array on PostgreSQL, JSON text on SQLite."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Sequence[int] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return list(value)
        return json.dumps(list(value))


def in_ids(
    column: SQLCoreOperations[Any],
    name: str,
    *,
    dialect: str,
    value: Sequence[int] | None = None,
) -> ColumnElement[bool]:
    """``column IN`` the ids given as the parameter ``name``: at execution, or as ``value``."""
    ids = bindparam(name, value, type_=IdList())
    if dialect == "postgresql":
        return column == any_(ids)
    return column.in_(select(func.json_each(ids).table_valued("value").c.value))
