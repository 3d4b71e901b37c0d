"""Consumers of the event log: parts that act on what happened (workflows, outgoing
webhooks) read the stored events after their cursor, account by account, and act in the
same transaction that moves the cursor on. A crash before COMMIT leaves both undone, so
each event is acted on exactly once, and nothing is lost while the consumer is down (for
as long as events are kept: ``parlour.realtime.service.KEEP_EVENTS``).

Sequence numbers are handed out at commit under the account's row lock
(``parlour.realtime.log``), so an account's events become visible in number order with no
gaps: a reader that has seen N has seen everything before it.

On PostgreSQL several workers may run passes at once: each account's cursor row is taken
``FOR UPDATE SKIP LOCKED``, so one worker reads an account's events at a time and the
others move on to other accounts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from parlour.accounts.models import Account
from parlour.db.engine import Database
from parlour.db.tx import Tx, transaction
from parlour.realtime.hub import Hub
from parlour.realtime.models import EventCursor, EventRecord

# Events acted on in one transaction: on SQLite it holds the one write lock meanwhile.
BATCH = 50


@dataclass(frozen=True)
class StoredEvent:
    """An event as the log keeps it, with when it was committed (about)."""

    account_id: int
    seq: int
    type: str
    data: dict[str, Any]
    created_at: datetime


Handle = Callable[[Tx, list[StoredEvent]], Awaitable[None]]


async def behind(tx: Tx, consumer: str) -> list[int]:
    """The accounts with events ``consumer`` has not read yet."""
    read = (
        select(EventCursor.seq)
        .where(EventCursor.consumer == consumer, EventCursor.account_id == Account.id)
        .scalar_subquery()
    )
    rows = await tx.session.scalars(
        select(Account.id).where(Account.event_seq > func.coalesce(read, 0)).order_by(Account.id)
    )
    return list(rows)


async def read_next(
    tx: Tx, consumer: str, account_id: int
) -> tuple[EventCursor, list[StoredEvent]] | None:
    """Takes ``consumer``'s cursor for the account (None if another worker holds it) and the
    events after it, oldest first."""
    ins = pg_insert(EventCursor) if tx.dialect == "postgresql" else sqlite_insert(EventCursor)
    await tx.session.execute(
        ins.values(consumer=consumer, account_id=account_id, seq=0).on_conflict_do_nothing()
    )
    stmt = select(EventCursor).where(
        EventCursor.consumer == consumer, EventCursor.account_id == account_id
    )
    if tx.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    cursor = await tx.session.scalar(stmt)
    if cursor is None:
        return None
    rows = await tx.session.execute(
        select(EventRecord.seq, EventRecord.type, EventRecord.data, EventRecord.created_at)
        .where(EventRecord.account_id == account_id, EventRecord.seq > cursor.seq)
        .order_by(EventRecord.seq)
        .limit(BATCH)
    )
    events = [
        StoredEvent(account_id, int(seq), type_, dict(data or {}), created_at)
        for seq, type_, data, created_at in rows
        if seq is not None
    ]
    return cursor, events


async def run_pass(db: Database, hub: Hub, consumer: str, handle: Handle) -> int:
    """One pass: every account's unread events handed to ``handle`` in batches, each batch
    in the transaction that moves the cursor past it. Returns how many events were read."""
    async with transaction(db, hub, write=False) as tx:
        accounts = await behind(tx, consumer)
    total = 0
    for account_id in accounts:
        while True:
            async with transaction(db, hub) as tx:
                taken = await read_next(tx, consumer, account_id)
                if taken is None:
                    break  # another worker has this account
                cursor, events = taken
                if not events:
                    # Pruned before they were read (the consumer was down for days).
                    latest = await tx.session.scalar(
                        select(Account.event_seq).where(Account.id == account_id)
                    )
                    cursor.seq = max(cursor.seq, int(latest or 0))
                    await tx.commit()
                    break
                await handle(tx, events)
                cursor.seq = events[-1].seq
                await tx.commit()
            total += len(events)
            if len(events) < BATCH:
                break
    return total
