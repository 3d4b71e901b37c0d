"""Bulk inserts through SQLAlchemy Core: executemany batches, never the ORM unit of work."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.db.base import Base

# Rows per executemany call.
BATCH = 5_000


def table_of(model: type[Base]) -> Table:
    """The model's table: every model here is mapped to one."""
    return cast(Table, model.__table__)


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield list(rows[start : start + BATCH])


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        await conn.execute(insert(table), batch)


async def insert_returning(
    conn: AsyncConnection, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> dict[Any, int]:
    """Insert ``rows``; map each row's ``key`` value (unique in ``rows``) to its new id.

    Neither backend promises RETURNING rows in VALUES order, so ids are matched by key.
    """
    ids: dict[Any, int] = {}
    stmt = insert(table).returning(table.c.id, table.c[key])
    for batch in _batches(rows):
        result = await conn.execute(stmt, batch)
        ids.update({k: i for i, k in result.tuples()})
    return ids


async def insert_one(conn: AsyncConnection, table: Table, row: dict[str, Any]) -> int:
    new_id: int = (await conn.execute(insert(table).returning(table.c.id), row)).scalar_one()
    return new_id
