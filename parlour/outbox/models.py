"""The outbox: one row per message to deliver, written in the message's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    # pending -> sending -> awaiting -> done | dead (parlour.outbox.service). A row left in
    # "sending" past its lease was being sent when a worker died: it is reconciled before
    # any retry.
    state: Mapped[str] = mapped_column(String(10), default="pending")
    # The worker that set "sending" (parlour.outbox.slots): a worker that restarts under
    # the same id, or finds an id's holder dead, reconciles its rows without waiting out
    # the lease.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # Sends tried; once "awaiting", how often the provider has been asked where it is.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
