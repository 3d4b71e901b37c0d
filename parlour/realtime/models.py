"""Committed events, kept for a while so reconnecting clients can catch up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class EventRecord(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_account_seq", "account_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Numbered at commit; on PostgreSQL a deferred trigger does it (migration 0005).
    seq: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EventCursor(Base):
    """How far a consumer of the event log (workflows, outgoing webhooks) has read each
    account's events. Advanced in the transaction that acts on the events, so each event
    is acted on once (parlour.realtime.consumers)."""

    __tablename__ = "event_cursors"

    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
