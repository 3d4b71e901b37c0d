"""Queueing outbound messages and recording what became of them.

An outbox row moves pending -> sending -> awaiting -> done, or to dead:

- "pending": due at ``next_attempt_at`` (queued, or retried after a transient failure);
- "sending": a worker (``claimed_by``) has it until ``lease_until``. A row still "sending"
  after its lease, or whose worker is proven dead (parlour.outbox.slots), may have reached
  the provider: it is reconciled before any retry;
- "awaiting": the provider took it; if no delivery callback has made the message final
  by ``next_attempt_at``, the worker asks the provider (a callback may have been lost);
- "done" and "dead": nothing more to do.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import exists, or_, select, update

from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.outbox.models import OutboxItem

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
# A message in one of these is not final yet: a lost callback may be why.
UNSETTLED = ("queued", "sending", "sent")
# How often a provider is asked for a final status before the worker stops asking: the
# gaps double from ``status_check_after_seconds``, so with 15 minutes the last question
# comes about 32 hours after the send.
STATUS_CHECKS = 7


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


def retry_soon(attempts: int) -> timedelta:
    """When a job that failed on our side (not the provider's) is taken up again: soon,
    later each time, never later than a lease would have made it."""
    return min(LEASE, backoff(attempts))


def next_status_check(*, after: float, checks: int) -> timedelta | None:
    """When to ask the provider again after ``checks`` questions; None: stop asking."""
    if checks >= STATUS_CHECKS:
        return None
    return timedelta(seconds=after * 2**checks)


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


@dataclass(frozen=True)
class Claimed:
    item_id: int
    message_id: int
    # Its ``attempts`` once claimed: a later write checks it, so that a worker whose lease
    # ran out never overwrites what the next one recorded.
    attempts: int
    # "send": deliver it; "check": ask the provider where it is now.
    kind: Literal["send", "check"]
    # A send an earlier worker was making when it vanished: it may have reached the provider.
    interrupted: bool = False
    # The message's thread: a worker handles one thread's jobs in order, others alongside.
    conversation_id: int = 0
    # When it was claimed (time.monotonic()), for the metrics' delivery time.
    claimed_at: float = field(default_factory=time.monotonic)


async def claim(tx: Tx, *, limit: int, claimed_by: str | None = None) -> list[Claimed]:
    """Take due rows for this worker: sends, and status checks of awaiting ones."""
    now = utcnow()
    await _settle_awaiting(tx, now)
    stmt = (
        select(OutboxItem, Message.conversation_id)
        .join(Message, Message.id == OutboxItem.message_id)
        .where(
            or_(
                (OutboxItem.state == "pending") & (OutboxItem.next_attempt_at <= now),
                (OutboxItem.state == "sending") & (OutboxItem.lease_until < now),
                (OutboxItem.state == "awaiting") & (OutboxItem.next_attempt_at <= now),
            )
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if tx.dialect == "postgresql":
        # Many `parlour worker` processes can poll at once without taking the same rows.
        stmt = stmt.with_for_update(of=OutboxItem, skip_locked=True)
    claimed = []
    for item, conversation_id in (await tx.session.execute(stmt)).tuples():
        item.attempts += 1
        item.lease_until = now + LEASE
        item.claimed_by = claimed_by
        job = Claimed(
            item.id,
            item.message_id,
            item.attempts,
            "check" if item.state == "awaiting" else "send",
            interrupted=item.state == "sending",
            conversation_id=conversation_id,
        )
        if item.state == "awaiting":
            # Its lease: a worker that dies while asking leaves it due again after it.
            item.next_attempt_at = now + LEASE
        else:
            item.state = "sending"
        claimed.append(job)
    await tx.session.flush()
    return claimed


async def _settle_awaiting(tx: Tx, now: datetime) -> None:
    """Awaiting rows whose message a delivery callback made final meanwhile: nothing to ask."""
    due = select(OutboxItem.id).where(
        OutboxItem.state == "awaiting",
        OutboxItem.next_attempt_at <= now,
        exists().where(Message.id == OutboxItem.message_id, Message.status.not_in(UNSETTLED)),
    )
    if tx.dialect == "postgresql":
        # Rows another worker is settling or claiming are its own: waiting for them could
        # deadlock two workers' passes.
        due = due.with_for_update(skip_locked=True)
    await tx.session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(due))
        .values(state="done", lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def claimers(tx: Tx) -> list[str]:
    """Who holds rows in "sending" whose lease has not run out."""
    rows = await tx.session.scalars(
        select(OutboxItem.claimed_by)
        .where(
            OutboxItem.state == "sending",
            OutboxItem.claimed_by.is_not(None),
            OutboxItem.lease_until >= utcnow(),
        )
        .distinct()
    )
    return [r for r in rows if r]


async def adopt(tx: Tx, *, claimed_by: str, keep: Collection[int] = ()) -> int:
    """The rows of a worker proven dead are due at once, as interrupted sends (reconciled
    before any retry) rather than after their lease. ``keep``: rows the caller is itself
    working on. Returns how many."""
    stmt = (
        update(OutboxItem)
        .where(OutboxItem.state == "sending", OutboxItem.claimed_by == claimed_by)
        .values(lease_until=utcnow())
        .execution_options(synchronize_session=False)
    )
    if keep:
        stmt = stmt.where(OutboxItem.id.not_in(list(keep)))
    result = await tx.session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def locked_item(tx: Tx, claimed: Claimed, *, state: str) -> OutboxItem | None:
    """The row of ``claimed``, locked, if it is still as this worker claimed it (``state``
    and ``attempts``); None when it moved on without us."""
    item = await tx.session.get(
        OutboxItem, claimed.item_id, with_for_update=tx.dialect == "postgresql"
    )
    if item is None or item.state != state or item.attempts != claimed.attempts:
        return None
    return item
