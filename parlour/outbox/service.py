"""Queueing outbound messages and recording what became of them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.outbox.models import OutboxItem

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


async def enqueue(tx: Tx, *, message: Message) -> OutboxItem:
    item = OutboxItem(
        account_id=message.account_id,
        message_id=message.id,
        state="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    tx.session.add(item)
    await tx.session.flush()
    _wake_after_commit(tx)
    return item


async def requeue(tx: Tx, *, message: Message) -> None:
    item = await tx.session.scalar(select(OutboxItem).where(OutboxItem.message_id == message.id))
    if item is None:
        await enqueue(tx, message=message)
        return
    item.state = "pending"
    item.attempts = 0
    item.next_attempt_at = utcnow()
    item.lease_until = None
    item.last_error = None
    _wake_after_commit(tx)


def _wake_after_commit(tx: Tx) -> None:
    if tx.wake_outbox is not None:
        tx.after_commit(tx.wake_outbox)


async def claim(tx: Tx, *, limit: int) -> list[tuple[OutboxItem, bool]]:
    """Take due rows for this worker. Each comes with ``interrupted``: True when an earlier
    worker was sending it and vanished, so it may already have reached the provider."""
    now = utcnow()
    stmt = (
        select(OutboxItem)
        .where(
            or_(
                (OutboxItem.state == "pending") & (OutboxItem.next_attempt_at <= now),
                (OutboxItem.state == "sending") & (OutboxItem.lease_until < now),
            )
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if tx.dialect == "postgresql":
        # Many `parlour worker` processes can poll at once without taking the same rows.
        stmt = stmt.with_for_update(skip_locked=True)
    items = list(await tx.session.scalars(stmt))
    claimed = []
    for item in items:
        interrupted = item.state == "sending"
        item.state = "sending"
        item.lease_until = now + LEASE
        item.attempts += 1
        claimed.append((item, interrupted))
    await tx.session.flush()
    return claimed
