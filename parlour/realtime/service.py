"""Keeping the stored events table small: replay only needs the recent past."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.realtime.models import EventRecord

# A client away longer than this gets "resync" and refetches instead of a replay.
KEEP_EVENTS = timedelta(days=3)


async def prune_events(tx: Tx, *, keep: timedelta = KEEP_EVENTS) -> int:
    result = await tx.session.execute(
        delete(EventRecord).where(EventRecord.created_at < utcnow() - keep)
    )
    return int(result.rowcount or 0)
