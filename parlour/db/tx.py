"""The unit of work: a database session plus the events it will publish after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, insert, select, update
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
# PostgreSQL: rows go in unnumbered; a deferred trigger numbers them during COMMIT
# (migration 0005) and announces the numbers, which are read back only if unheard.
_STORE_UNNUMBERED = insert(EventRecord).returning(EventRecord.id, sort_by_parameter_order=True)
_NUMBERS_OF = select(EventRecord.id, EventRecord.seq).where(
    EventRecord.id.in_(bindparam("ids", expanding=True))
)


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

    async def commit(self) -> None:
        events, self._events = self._events, []
        if not events:
            await self.session.commit()
        elif self.dialect == "postgresql":
            await self._commit_numbered_by_trigger(events)
        else:
            await self._commit_numbered_here(events)
        callbacks, self._after_commit = self._after_commit, []
        for ev in sorted(events, key=lambda ev: (ev.account_id, ev.seq)):
            await self.hub.publish(ev)
        for cb in callbacks:
            cb()

    async def _commit_numbered_here(self, events: list[Event]) -> None:
        """SQLite: one writer at a time, so numbering just before COMMIT follows commit
        order. A client resuming from seq N can never miss an event committed later with a
        lower number."""
        # Pending ORM changes are written first, so that the account's row lock is the last
        # lock the transaction takes (a rule PostgreSQL's trigger keeps by firing at COMMIT).
        await self.session.flush()
        conn = await self.session.connection()
        for account_id, evs in _by_account(events):
            last = (
                await conn.execute(_NEXT_SEQ, {"account_id": account_id, "n": len(evs)})
            ).scalar_one()
            for i, ev in enumerate(evs):
                ev.seq = last - len(evs) + 1 + i
            await conn.execute(_STORE_EVENT, [_row(ev) for ev in evs])
        await self.session.commit()

    async def _commit_numbered_by_trigger(self, events: list[Event]) -> None:
        """PostgreSQL: the trigger of migration 0005 numbers the rows inside COMMIT, holding
        the account's row lock for no round trip, and announces each number in a notice
        that arrives with the COMMIT's answer."""
        conn = await self.session.connection()
        ids = list((await conn.execute(_STORE_UNNUMBERED, [_row(ev) for ev in events])).scalars())
        await self.session.commit()
        heard = self.db.heard_event_numbers
        numbers = {event_id: heard.pop(event_id) for event_id in ids if event_id in heard}
        if len(numbers) < len(ids):  # a notice went astray: ask (one query for many)
            numbers |= await self.db.event_numbers.get(
                [i for i in ids if i not in numbers], self._read_numbers
            )
        for ev, event_id in zip(events, ids, strict=True):
            # 0, "not numbered", only if the row vanished since (it cannot, short of a
            # manual delete): the event is still worth pushing.
            ev.seq = numbers.get(event_id, 0)

    async def _read_numbers(self, ids: list[int]) -> dict[int, int]:
        async with self.db.lookups() as conn:
            rows = await conn.execute(_NUMBERS_OF, {"ids": ids})
            return {event_id: seq for event_id, seq in rows.tuples() if seq is not None}

    async def rollback(self) -> None:
        self._events.clear()
        self._after_commit.clear()
        await self.session.rollback()


def _by_account(events: list[Event]) -> list[tuple[int, list[Event]]]:
    by_account: dict[int, list[Event]] = {}
    for ev in events:
        by_account.setdefault(ev.account_id, []).append(ev)
    return sorted(by_account.items())


def _row(ev: Event) -> dict[str, Any]:
    return {
        "account_id": ev.account_id,
        "seq": ev.seq or None,
        "type": ev.type,
        "data": ev.data,
        "created_at": utcnow(),
    }


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
            await session.close()
