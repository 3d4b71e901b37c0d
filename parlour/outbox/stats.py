"""How the outbox is doing: for `parlour status` and the metrics page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.outbox.models import OutboxItem

# Finished rows are most of the table and say nothing about its health: left uncounted,
# the counts read only the live part of the state index.
LIVE_STATES = ("pending", "sending", "awaiting", "dead")


@dataclass(frozen=True)
class OutboxStats:
    by_state: dict[str, int]
    # Age of the oldest message due to be sent (0 when none is waiting).
    oldest_queued_seconds: float
    # Sends a crash interrupted (lease run out) and sent messages whose final status is
    # overdue: both are looked up at the provider.
    awaiting_reconciliation: int
    # Deliveries the worker gave up on, by the failure's code.
    failed_by_reason: dict[str, int]


async def outbox_stats(tx: Tx) -> OutboxStats:
    now = utcnow()
    by_state = {
        state: int(n)
        for state, n in await tx.session.execute(
            select(OutboxItem.state, func.count())
            .where(OutboxItem.state.in_(LIVE_STATES))
            .group_by(OutboxItem.state)
        )
    }
    oldest = await tx.session.scalar(
        select(func.min(OutboxItem.created_at)).where(
            OutboxItem.state == "pending", OutboxItem.next_attempt_at <= now
        )
    )
    overdue = await tx.session.scalar(
        select(func.count()).where(
            or_(
                and_(OutboxItem.state == "sending", OutboxItem.lease_until < now),
                and_(OutboxItem.state == "awaiting", OutboxItem.next_attempt_at <= now),
            )
        )
    )
    failed = {
        str(code or "unknown"): int(n)
        for code, n in await tx.session.execute(
            select(Message.error_code, func.count())
            .join(OutboxItem, OutboxItem.message_id == Message.id)
            .where(OutboxItem.state == "dead")
            .group_by(Message.error_code)
        )
    }
    return OutboxStats(
        by_state=by_state,
        oldest_queued_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        awaiting_reconciliation=int(overdue or 0),
        failed_by_reason=failed,
    )
