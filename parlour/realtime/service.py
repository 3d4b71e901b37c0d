"""Stored events: reading them back for a client that reconnects (or a socket that missed
one), and keeping the table small, since replay only needs the recent past."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from parlour.accounts.models import Account
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.realtime.events import Event
from parlour.realtime.models import EventRecord

# A client away longer than this gets "resync" and refetches instead of a replay.
KEEP_EVENTS = timedelta(days=3)


async def prune_events(tx: Tx, *, keep: timedelta = KEEP_EVENTS) -> int:
    result = await tx.session.execute(
        delete(EventRecord).where(EventRecord.created_at < utcnow() - keep)
    )
    return int(result.rowcount or 0)


async def latest_seq(tx: Tx, *, account_id: int) -> int:
    """The number of the account's last committed event."""
    seq = await tx.session.scalar(select(Account.event_seq).where(Account.id == account_id))
    return int(seq or 0)


async def events_between(
    tx: Tx, *, account_id: int, first: int, last: int, limit: int
) -> list[Event]:
    """The account's stored events numbered ``first`` to ``last``, in order."""
    rows = await tx.session.execute(
        select(EventRecord.type, EventRecord.seq, EventRecord.data)
        .where(
            EventRecord.account_id == account_id,
            EventRecord.seq >= first,
            EventRecord.seq <= last,
        )
        .order_by(EventRecord.seq)
        .limit(limit)
    )
    return [
        Event.model_validate({"type": t, "account_id": account_id, "seq": seq, "data": data})
        for t, seq, data in rows.tuples()
    ]
