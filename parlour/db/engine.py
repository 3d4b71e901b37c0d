"""Engines for the embedded (SQLite) and scaled-out (PostgreSQL) database."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

from parlour.config import Settings
from parlour.db import lengths, sqlite_inline
from parlour.db.coalesce import Coalescer
from parlour.db.outage import Outage, watch


@dataclass(frozen=True)
class Database:
    """A reader and a writer engine (the same one on PostgreSQL).

    SQLite allows one writer at a time. A transaction that starts as a reader and later
    writes can fail at once with "database is locked", because SQLite cannot wait for a lock
    upgrade without risking deadlock. Writers therefore start with ``BEGIN IMMEDIATE`` and
    queue on the busy timeout, while readers keep reading the WAL snapshot alongside them.
    """

    reader: AsyncEngine
    writer: AsyncEngine
    dialect: str
    # SQLite writers of this process queue here in FIFO order. Left to SQLite's busy
    # handler (which sleeps and polls) a burst of writes waits seconds for the lock.
    write_turns: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False)
    # Set when SQLite's write-ahead log is checkpointed in the background (see below).
    checkpoint_path: str | None = None
    # PostgreSQL numbers events during COMMIT (parlour.realtime.log): the numbers its notices
    # announced, by event id, until the committing transaction takes them...
    heard_event_numbers: dict[int, int] = field(default_factory=dict, compare=False)
    # ...or, had a notice gone missing, read back, in batches.
    event_numbers: Coalescer[int, int] = field(default_factory=Coalescer, compare=False)
    # Whether the server is reachable, as connecting to it last found (PostgreSQL).
    outage: Outage = field(default_factory=Outage, compare=False)

    async def open_connections(self, n: int) -> None:
        """Opens ``n`` pooled connections at once (PostgreSQL), so that a server's first
        burst of requests does not wait for each of them to be opened and set up."""
        if self.dialect != "postgresql" or n < 1:
            return
        held: list[AsyncConnection] = []
        try:
            # Held together, so the pool opens n distinct connections.
            for conn in await asyncio.gather(*(self.writer.connect() for _ in range(n))):
                held.append(conn)
                await conn.exec_driver_sql("SELECT 1")
        finally:
            for conn in held:
                await conn.close()

    async def run_checkpoints(self, stop: asyncio.Event, *, every: float = 1.0) -> None:
        """Copies the write-ahead log into the database file, on a thread, until ``stop``.

        SQLite does this itself after a commit that grows the log past 1,000 pages, inside
        that commit: with statements on the event loop (sqlite_inline.py), the loop stood
        still for the copy and its fsync, and one text in a hundred reached the agent 200 ms
        late. A PASSIVE checkpoint waits for no reader or writer.
        """
        if self.checkpoint_path is None:
            return
        conn = sqlite3.connect(self.checkpoint_path, check_same_thread=False)
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=every)
                await asyncio.to_thread(_checkpoint, conn)
        finally:
            conn.close()

    @asynccontextmanager
    async def lookups(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads that need no snapshot across statements, such as the
        one query routing a webhook. PostgreSQL then runs each statement on its own,
        without the round trips of BEGIN and ROLLBACK around it."""
        async with self.reader.connect() as conn:
            if self.dialect == "postgresql":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def sessions(self, *, write: bool) -> async_sessionmaker[Any]:
        return async_sessionmaker(self.writer if write else self.reader, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _checkpoint(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.OperationalError):  # busy: the next round catches up
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _sqlite_engine(
    settings: Settings, *, begin: str, busy_ms: int, autocheckpoint: bool
) -> AsyncEngine:
    url = settings.database_url
    path = make_url(url).database
    inline = bool(path) and path != ":memory:"
    if path and inline:
        # Statements run on the loop's thread (see sqlite_inline.py).
        engine = create_async_engine(url, async_creator=sqlite_inline.connector(path))
    else:
        engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        if not inline:
            # Let SQLAlchemy's "begin" event below issue BEGIN instead of the driver.
            dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute(f"PRAGMA mmap_size={settings.sqlite_mmap_mb * 1024 * 1024}")
        if not autocheckpoint:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def make_database(settings: Settings, *, serving: bool = False) -> Database:
    """``serving``: for a web server, whose SQLite statements run on its event loop; the
    write-ahead log is then checkpointed by ``Database.run_checkpoints`` on a thread."""
    lengths.install()  # text longer than its column: 422 on both databases
    url = settings.database_url
    if settings.is_sqlite:
        path = make_url(url).database
        background = serving and bool(path) and path != ":memory:"
        return Database(
            # Readers of a WAL database wait only in rare moments (recovery after a crash).
            reader=_sqlite_engine(
                settings, begin="BEGIN", busy_ms=2000, autocheckpoint=not background
            ),
            # A writer waits for the write lock at BEGIN IMMEDIATE, asynchronously (see
            # sqlite_inline.py), so SQLite's own busy wait, which would block the loop, is off.
            writer=_sqlite_engine(
                settings, begin="BEGIN IMMEDIATE", busy_ms=0, autocheckpoint=not background
            ),
            dialect="sqlite",
            checkpoint_path=path if background else None,
        )
    engine = create_async_engine(
        url,
        # PostgreSQL's default cost of a random page read (4, for spinning disks) makes it
        # answer a search for a common name by reading all 100,000 threads rather than 2,000
        # index lookups; on SSDs (and a cached database) 1.1 is the usual setting.
        connect_args={
            # asyncpg waits 60 s for an unreachable server by default: a request would
            # hang that long before answering 503.
            "timeout": 5,
            "server_settings": (
                {"random_page_cost": settings.pg_random_page_cost}
                if settings.pg_random_page_cost
                else {}
            ),
        },
        pool_size=settings.database_pool_size,
        # A connection beyond the pool is closed as soon as it is returned, so a burst
        # above the pool size would open and close one per request.
        max_overflow=0,
        pool_timeout=30,
        # SQLAlchemy's pre-ping on asyncpg is BEGIN, an empty query and ROLLBACK: three
        # round trips for every checkout, a quarter of a webhook's. See _drop_closed.
        pool_pre_ping=False,
    )
    event.listen(engine.sync_engine.pool, "checkout", _drop_closed)
    db = Database(reader=engine, writer=engine, dialect="postgresql")
    watch(engine.sync_engine, db.outage)

    def _hear_event_numbers(_conn: Any, message: Any) -> None:
        # Sent by migration 0005's trigger inside COMMIT. asyncpg schedules this callback
        # before it wakes the task awaiting the COMMIT, so the numbers are here by then.
        if getattr(message, "sqlstate", None) == EVENT_NUMBERED:
            event_id, seq = str(message.detail).split()
            db.heard_event_numbers[int(event_id)] = int(seq)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.driver_connection.add_log_listener(_hear_event_numbers)

    return db


# The SQLSTATE of the notice that announces an event's number (migration 0005).
EVENT_NUMBERED = "PE001"


def _drop_closed(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose server went away (a restart, a terminated backend) has
    seen its socket closed: asyncpg knows without a round trip, and the pool replaces it.
    A connection lost later, mid-statement, is invalidated by SQLAlchemy as a disconnect.
    """
    if dbapi_conn.driver_connection.is_closed():
        raise DisconnectionError()
