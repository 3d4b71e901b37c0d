"""The event log: each committed event stored with its account's next sequence number.

``parlour.db.tx`` calls in here around its COMMIT; this module never imports it (the
realtime services take a ``Tx``, so the import runs one way: ``db.tx`` -> ``realtime.log``).
Every commit with events runs these statements, so they are built once and run on the
session's connection (the ORM's bulk update and unit of work cost several times the SQL).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from parlour.accounts.models import Account
from parlour.db.base import utcnow
from parlour.db.engine import Database
from parlour.realtime.events import Event
from parlour.realtime.models import EventRecord

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


async def store_numbered(session: AsyncSession, events: list[Event]) -> None:
    """SQLite, just before COMMIT: one writer at a time, so numbering here follows commit
    order. A client resuming from seq N can never miss an event committed later with a
    lower number."""
    # Pending ORM changes are written first, so that the account's row lock is the last
    # lock the transaction takes (a rule PostgreSQL's trigger keeps by firing at COMMIT).
    await session.flush()
    conn = await session.connection()
    for account_id, evs in _by_account(events):
        last = (
            await conn.execute(_NEXT_SEQ, {"account_id": account_id, "n": len(evs)})
        ).scalar_one()
        for i, ev in enumerate(evs):
            ev.seq = last - len(evs) + 1 + i
        await conn.execute(_STORE_EVENT, [_row(ev) for ev in evs])


async def store_unnumbered(conn: AsyncConnection, events: list[Event]) -> list[int]:
    """PostgreSQL, before COMMIT: the rows' ids, in the order of ``events``. The trigger of
    migration 0005 numbers the rows inside COMMIT, holding the account's row lock for no
    round trip, and announces each number in a notice that arrives with COMMIT's answer."""
    return list((await conn.execute(_STORE_UNNUMBERED, [_row(ev) for ev in events])).scalars())


async def take_numbers(db: Database, events: list[Event], ids: list[int]) -> None:
    """PostgreSQL, after COMMIT: gives each event the number its notice announced."""
    heard = db.heard_event_numbers
    numbers = {event_id: heard.pop(event_id) for event_id in ids if event_id in heard}
    if len(numbers) < len(ids):  # a notice went astray: ask (one query for many)
        numbers |= await db.event_numbers.get(
            [i for i in ids if i not in numbers], partial(_read_numbers, db)
        )
    for ev, event_id in zip(events, ids, strict=True):
        # 0, "not numbered", only if the row vanished since (it cannot, short of a manual
        # delete): the event is still worth pushing.
        ev.seq = numbers.get(event_id, 0)


async def _read_numbers(db: Database, ids: list[int]) -> dict[int, int]:
    async with db.lookups() as conn:
        rows = await conn.execute(_NUMBERS_OF, {"ids": ids})
        return {event_id: seq for event_id, seq in rows.tuples() if seq is not None}


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
