"""The unit of work: a database session plus the events it will publish after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from parlour.accounts.models import Account
from parlour.db.base import utcnow
from parlour.db.engine import Database
from parlour.realtime.events import Event
from parlour.realtime.hub import Hub
from parlour.realtime.models import EventRecord

# Every write commits through here: statements built once, run on the session's connection
# (the ORM's bulk update and unit of work cost several times the SQL itself).
_NEXT_SEQ = (
    update(Account)
    .where(Account.id == bindparam("account_id"))
    .values(event_seq=Account.event_seq + bindparam("n"))
    .returning(Account.event_seq)
)
_STORE_EVENT = insert(EventRecord)


class Tx:
    """Services receive a ``Tx``, write through ``tx.session`` and ``tx.emit`` events.

    Only the caller (router, worker, CLI) commits. Events are numbered and stored in the
    same transaction, then published once the commit succeeded; leaving without a commit
    rolls everything back and publishes nothing.
    """

    def __init__(self, session: AsyncSession, hub: Hub) -> None:
        self.session = session
        self.hub = hub
        self._events: list[Event] = []
        self._after_commit: list[Callable[[], Any]] = []

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def after_commit(self, callback: Callable[[], Any]) -> None:
        self._after_commit.append(callback)

    async def commit(self) -> None:
        events, self._events = self._events, []
        if events:
            # Numbering at the very end keeps the per-account row lock short, and because
            # the lock is held until commit, sequence order equals commit order: a client
            # resuming from seq N can never miss an event committed later with a lower seq.
            by_account: dict[int, list[Event]] = {}
            for ev in events:
                by_account.setdefault(ev.account_id, []).append(ev)
            # Pending ORM changes are written first: the account's row lock below must be
            # the last lock this transaction takes. Taken before them, it would deadlock on
            # PostgreSQL against a webhook that updated the same thread and then queued for
            # the account's row.
            await self.session.flush()
            conn = await self.session.connection()
            for account_id, evs in sorted(by_account.items()):
                last = (
                    await conn.execute(_NEXT_SEQ, {"account_id": account_id, "n": len(evs)})
                ).scalar_one()
                rows = []
                for i, ev in enumerate(evs):
                    ev.seq = last - len(evs) + 1 + i
                    rows.append(
                        {
                            "account_id": account_id,
                            "seq": ev.seq,
                            "type": ev.type,
                            "data": ev.data,
                            "created_at": utcnow(),
                        }
                    )
                await conn.execute(_STORE_EVENT, rows)
        await self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for ev in events:
            await self.hub.publish(ev)
        for cb in callbacks:
            cb()

    async def rollback(self) -> None:
        self._events.clear()
        self._after_commit.clear()
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
        tx = Tx(session, hub)
        try:
            yield tx
        finally:
            # Closing rolls back whatever was not committed, and drops pending events, but
            # unlike rollback() it leaves loaded objects readable for shaping a response.
            tx._events.clear()
            tx._after_commit.clear()
            await session.close()
