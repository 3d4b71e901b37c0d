"""A SQLite connection for SQLAlchemy's aiosqlite dialect that runs on the event loop's thread.

aiosqlite runs every call (cursor, execute, fetch, close) on a helper thread and hands the
result back through the loop: about 60 µs of CPU per hand-off, four per statement. An
indexed lookup or an insert takes SQLite a few microseconds, so an inbound webhook spent
most of its time passing work between threads: run inline, the same server takes 2.5 times
as many signed webhooks a second (bench/sms/webhooks.py). Parlour's writers already take
turns (``Database.write_turns``), so running them on the loop loses no parallelism.

The price: while SQLite works, the loop waits. Parlour's reads are indexed and take
milliseconds (bench/RESULTS.md); a deployment whose load outgrows one core is meant to
move to PostgreSQL, where nothing here applies.

Waiting for the write lock must not block the loop: the writer has no busy timeout of its
own, and ``BEGIN IMMEDIATE`` that finds the database locked (by another process, such as
``parlour worker`` or a CLI command) sleeps asynchronously and tries again.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

# How long a writer waits for another process to release the write lock, as SQLite's
# busy_timeout would, before giving up with "database is locked".
LOCK_WAIT_SECONDS = 30.0
_FIRST_RETRY = 0.001
_LONGEST_RETRY = 0.05


class InlineCursor:
    """aiosqlite's cursor interface over a plain sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        if sql.lstrip()[:5].upper() == "BEGIN":
            await _begin(self._cursor, sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


async def _begin(cursor: sqlite3.Cursor, sql: str) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = _FIRST_RETRY
    while True:
        try:
            cursor.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, _LONGEST_RETRY)


class InlineConnection:
    """The subset of ``aiosqlite.Connection`` that SQLAlchemy's adapter calls."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        cursor = await self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def connector(path: str) -> Any:
    """An ``async_creator`` for ``create_async_engine``."""

    async def connect() -> InlineConnection:
        # SQLAlchemy issues BEGIN itself (see engine.py), so the driver must not; the pool
        # may close a connection from another thread at shutdown.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        return InlineConnection(conn)

    return connect
