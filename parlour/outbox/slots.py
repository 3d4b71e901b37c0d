"""Who a delivery worker is, and how another worker can prove it dead.

Each running worker holds a *slot*: the id ``f"{host}/{n}"`` with the lowest ``n`` whose
lock is free, and it holds that lock for as long as it runs. It writes what ``claimed_by``
returns on every outbox row it marks "sending". The lock is one that goes away by itself
when its holder dies (``kill -9`` included), so a worker that can take a slot's lock knows
every earlier holder of that slot is gone, and that the rows they left "sending" will not
be finished by anyone: it has them reconciled at once instead of after their lease.

- SQLite: a file lock (``flock``) on ``{database}-worker-{n}.lock``, which the kernel drops
  when the process exits. WAL mode (which Parlour always uses) only works for processes on
  one machine, so every worker on a database shares this kernel; ``n`` alone names the
  lock, whatever host name a row carries (a container's name may change between runs).
- PostgreSQL: a session-level advisory lock, held on a connection of its own, which the
  server drops when that session ends. A session also ends when the *server* restarts or
  fails over, dropping every lock at once while their holders may still be sending. So
  the lock proves a death only within one run of the server: ``claimed_by`` carries the
  server's start time (its *epoch*), and a row claimed under another epoch is left to its
  lease. Each claim checks, in its own transaction, that the lock is still held on this
  server run, so no row is ever claimed under a lock that is gone.

The risk that remains (PostgreSQL): a worker alive and sending whose lock connection alone
ended (killed by an administrator, a network fault on that one connection, a server-side
idle timeout, which this connection turns off for itself) looks dead, and a row it was
sending in that instant may be sent twice: the provider is asked first, but may not know
of a send still on its way. The worker notices at its next claim and takes a slot again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import zlib
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from parlour.db.engine import Database
from parlour.db.tx import Tx

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: see _ProcessLocks
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MAX_SLOTS = 256
# The first key of Parlour's advisory locks ("PRLR"); the second is the slot id's CRC-32.
LOCK_CLASS = 0x50524C52
# Fits outbox.claimed_by (64) with "/", the slot number and "@" and a 16-digit epoch.
HOST_CHARS = 40


class NoFreeSlot(RuntimeError):
    pass


def host_name() -> str:
    return (socket.gethostname() or "localhost")[:HOST_CHARS]


def claimed_by(slot_id: str, epoch: str | None) -> str:
    """What a worker holding ``slot_id`` writes on the rows it claims."""
    return f"{slot_id}@{epoch}" if epoch else slot_id


def parse_claimed_by(value: str) -> tuple[str, str | None, int | None]:
    """``(slot id, epoch or None, slot number or None)`` of a ``claimed_by`` value."""
    slot_id, _, epoch = value.partition("@")
    _, _, n = slot_id.rpartition("/")
    return slot_id, epoch or None, int(n) if n.isdigit() else None


class Slot(Protocol):
    # "host/n"
    id: str
    # The rows this worker claims carry this.
    claimed_by: str

    async def held(self, tx: Tx) -> bool:
        """Whether the lock is still this worker's, checked in the claim's transaction."""
        ...

    def holding(self, other: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """While inside, True when no live worker holds the slot that claimed ``other``
        (a ``claimed_by`` value), which then stays taken until the block ends: its rows
        can be reconciled without racing a new holder. False when it may still be alive,
        or when ``other`` was claimed in another run of the database server."""
        ...

    async def release(self) -> None: ...


async def take_slot(db: Database, *, host: str | None = None) -> Slot:
    """The lowest free slot on this host, held until ``release``."""
    host = host or host_name()
    if db.dialect == "postgresql":
        return await _PgSlot.take(db.writer, host)
    path = make_url(str(db.writer.url)).database
    if path and path != ":memory:" and fcntl is not None:
        try:
            return _FileSlot.take(path, host)
        except OSError as exc:
            # Without its lock file no worker can prove this one dead: its rows will wait
            # out their lease, as before slots existed, rather than it not sending at all.
            log.warning("no worker lock file beside %s (%s): assuming one worker", path, exc)
    return _ProcessSlot.take(path or ":memory:", host)


# --- SQLite -----------------------------------------------------------------------------


class _FileSlot:
    def __init__(self, path: str, host: str, n: int, fd: int) -> None:
        self._path = path
        self._n = n
        self._fd: int | None = fd
        self.id = f"{host}/{n}"
        self.claimed_by = self.id

    @classmethod
    def take(cls, path: str, host: str) -> _FileSlot:
        for n in range(MAX_SLOTS):
            fd = try_flock(_lock_path(path, n))
            if fd is not None:
                return cls(path, host, n, fd)
        raise NoFreeSlot(f"All {MAX_SLOTS} worker slots of {path} are taken.")

    async def held(self, tx: Tx) -> bool:
        # A file lock lasts as long as the descriptor: nothing can take it from a live process.
        return self._fd is not None

    @contextlib.asynccontextmanager
    async def holding(self, other: str) -> AsyncIterator[bool]:
        _, epoch, n = parse_claimed_by(other)
        if epoch is not None or n is None:
            yield False
            return
        if n == self._n:
            yield True
            return
        fd = try_flock(_lock_path(self._path, n))
        try:
            yield fd is not None
        finally:
            if fd is not None:
                os.close(fd)

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _lock_path(path: str, n: int) -> str:
    return f"{path}-worker-{n}.lock"


def try_flock(path: str) -> int | None:
    """A descriptor holding an exclusive lock on ``path``, or None when another holds it.
    ``flock`` locks belong to the open file, so two workers of one process exclude each
    other too."""
    assert fcntl is not None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


class _ProcessSlot:
    """An in-memory database (or a system without ``flock``): only this process can reach
    it, so slots are this process's to hand out."""

    _held: dict[str, set[int]] = {}  # noqa: RUF012 - shared by every instance on purpose

    def __init__(self, key: str, host: str, n: int) -> None:
        self._key = key
        self._n: int | None = n
        self.id = f"{host}/{n}"
        self.claimed_by = self.id

    @classmethod
    def take(cls, key: str, host: str) -> _ProcessSlot:
        held = cls._held.setdefault(key, set())
        n = next(i for i in range(MAX_SLOTS + 1) if i not in held)
        if n == MAX_SLOTS:
            raise NoFreeSlot(f"All {MAX_SLOTS} worker slots are taken.")
        held.add(n)
        return cls(key, host, n)

    async def held(self, tx: Tx) -> bool:
        return self._n is not None

    @contextlib.asynccontextmanager
    async def holding(self, other: str) -> AsyncIterator[bool]:
        _, epoch, n = parse_claimed_by(other)
        held = self._held.setdefault(self._key, set())
        if epoch is not None or n is None or (n != self._n and n in held):
            yield False
            return
        if n == self._n:
            yield True
            return
        held.add(n)
        try:
            yield True
        finally:
            held.discard(n)

    async def release(self) -> None:
        if self._n is not None:
            self._held.get(self._key, set()).discard(self._n)
            self._n = None


# --- PostgreSQL -------------------------------------------------------------------------

_EPOCH = "(extract(epoch from pg_postmaster_start_time()) * 1000000)::bigint"
_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = :k1 "
    f"AND objid = :k2 AND objsubid = 2 AND pid = :pid AND granted) AND {_EPOCH} = :epoch"
)
# Per session, where the server allows them: an idle session is never timed out (it would
# drop the lock of a live worker), and a vanished client is noticed within about a minute
# (it frees the lock of a host that lost power).
SESSION_SETTINGS = (
    "SET idle_session_timeout = 0",
    "SET tcp_keepalives_idle = 30",
    "SET tcp_keepalives_interval = 10",
    "SET tcp_keepalives_count = 3",
)


def lock_key(slot_id: str) -> int:
    return zlib.crc32(slot_id.encode()) & 0x7FFFFFFF


class _PgSlot:
    def __init__(
        self, engine: AsyncEngine, conn: AsyncConnection, slot_id: str, pid: int, epoch: int
    ) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = conn
        self._pid = pid
        self._epoch = epoch
        self.id = slot_id
        self.claimed_by = claimed_by(slot_id, str(epoch))
        # One statement at a time on the lock connection.
        self._turn = asyncio.Lock()

    @classmethod
    async def take(cls, writer: AsyncEngine, host: str) -> _PgSlot:
        # A connection outside the pool, for as long as the worker runs: the lock lives and
        # dies with this session. Autocommit, so that it never sits in an open transaction.
        engine = create_async_engine(writer.url, poolclass=NullPool)
        try:
            conn = await engine.connect()
            try:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                for setting in SESSION_SETTINGS:
                    with contextlib.suppress(Exception):  # older servers lack some
                        await conn.exec_driver_sql(setting)
                pid, epoch = (await conn.execute(text(f"SELECT pg_backend_pid(), {_EPOCH}"))).one()
                for n in range(MAX_SLOTS):
                    slot_id = f"{host}/{n}"
                    if await try_lock(conn, slot_id):
                        return cls(engine, conn, slot_id, int(pid), int(epoch))
            except BaseException:
                await conn.close()
                raise
            await conn.close()
        except BaseException:
            await engine.dispose()
            raise
        await engine.dispose()
        raise NoFreeSlot(f"All {MAX_SLOTS} worker slots of {host} are taken.")

    async def held(self, tx: Tx) -> bool:
        if self._conn is None:
            return False
        found = await tx.session.scalar(
            _HELD.bindparams(k1=LOCK_CLASS, k2=lock_key(self.id), pid=self._pid, epoch=self._epoch)
        )
        return bool(found)

    @contextlib.asynccontextmanager
    async def holding(self, other: str) -> AsyncIterator[bool]:
        slot_id, epoch, _ = parse_claimed_by(other)
        if epoch != str(self._epoch) or self._conn is None:
            yield False
            return
        if slot_id == self.id:
            yield True
            return
        async with self._turn:
            free = await try_lock(self._conn, slot_id)
        try:
            yield free
        finally:
            if free:
                async with self._turn:
                    # Advisory locks count: this undoes the one taken above only.
                    await self._conn.execute(
                        text("SELECT pg_advisory_unlock(:k1, :k2)"),
                        {"k1": LOCK_CLASS, "k2": lock_key(slot_id)},
                    )

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                with contextlib.suppress(Exception):  # a dead session has let go already
                    await conn.close()
        finally:
            await self._engine.dispose()


async def try_lock(conn: AsyncConnection, slot_id: str) -> bool:
    got = await conn.scalar(
        text("SELECT pg_try_advisory_lock(:k1, :k2)"), {"k1": LOCK_CLASS, "k2": lock_key(slot_id)}
    )
    return bool(got)
