"""The unit of work: a database session plus the events it will publish after commit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parlour.db.engine import Database
from parlour.realtime import log
from parlour.realtime.events import Event
from parlour.realtime.hub import Hub

logger = logging.getLogger(__name__)


class Tx:
    """Services receive a ``Tx``, write through ``tx.session`` and ``tx.emit`` events.

    Only the caller (router, worker, CLI) commits. Events are numbered and stored in the
    same transaction, then published once the commit succeeded; leaving without a commit
    rolls everything back and publishes nothing.
    """

    def __init__(self, session: AsyncSession, hub: Hub, db: Database) -> None:
        self.session = session
        self.hub = hub
        self.db = db
        self._events: list[Event] = []
        self._after_commit: list[Callable[[], Any]] = []
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        # Called after a commit that queued outbound messages (outbox.service.enqueue), so
        # the in-process worker sends at once; only then, since on SQLite each wake-up
        # takes the single writer's turn.
        self.wake_outbox: Callable[[], Any] | None = None

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def after_commit(self, callback: Callable[[], Any]) -> None:
        self._after_commit.append(callback)

    def before_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Runs ``callback`` at the next commit, first, in the transaction being committed:
        for a row that must exist exactly when the caller's writes do. What it raises
        stops the commit."""
        self._before_commit.append(callback)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the transaction that can fail on its own: when it raises, its writes
        are rolled back and so are the events, hooks and callbacks it queued (a bare
        ``session.begin_nested()`` would keep those, publishing what never happened)."""
        marks = len(self._events), len(self._after_commit), len(self._before_commit)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self._events[marks[0] :]
            del self._after_commit[marks[1] :]
            del self._before_commit[marks[2] :]
            raise

    async def commit(self) -> None:
        hooks, self._before_commit = self._before_commit, []
        for hook in hooks:
            await hook()
        events, self._events = self._events, []
        if not events:
            await self.session.commit()
        elif self.dialect == "postgresql":
            # Numbered by a trigger during COMMIT; SQLite's one writer numbers just before.
            ids = await log.store_unnumbered(await self.session.connection(), events)
            await self.session.commit()
            try:
                await log.take_numbers(self.db, events, ids)
            except Exception:
                # The numbers are stored; only reading them back failed. Published
                # unnumbered, the events still reach open sockets.
                logger.warning("could not read back event numbers; publishing unnumbered")
        else:
            await log.store_numbered(self.session, events)
            await self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        # Committed means done: nothing after this line may fail the caller. The hub
        # never raises (an event it cannot pass on is read from the events table later),
        # and a failed callback costs at most what it would have saved (the outbox
        # wake-up: the worker's next poll).
        try:
            for ev in sorted(events, key=lambda ev: (ev.account_id, ev.seq)):
                await self.hub.publish(ev)
        except Exception:
            logger.exception("publishing committed events failed; the commit stands")
        for cb in callbacks:
            try:
                cb()
            except Exception:
                logger.exception("an after-commit callback failed; the commit stands")

    async def rollback(self) -> None:
        self._events.clear()
        self._after_commit.clear()
        self._before_commit.clear()
        await self.session.rollback()


@asynccontextmanager
async def transaction(db: Database, hub: Hub, *, write: bool = True) -> AsyncIterator[Tx]:
    if write and db.dialect == "sqlite":
        async with db.write_turns, _session(db, hub, write=True) as tx:
            yield tx
    else:
        async with _session(db, hub, write=write) as tx:
            yield tx


@asynccontextmanager
async def _session(db: Database, hub: Hub, *, write: bool) -> AsyncIterator[Tx]:
    async with db.sessions(write=write)() as session:
        tx = Tx(session, hub, db)
        try:
            yield tx
        finally:
            # Closing rolls back whatever was not committed, and drops pending events, but
            # unlike rollback() it leaves loaded objects readable for shaping a response.
            tx._events.clear()
            tx._after_commit.clear()
            tx._before_commit.clear()
            await session.close()
