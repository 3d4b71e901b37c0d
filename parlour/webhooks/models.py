"""Outgoing webhooks: the URLs an account subscribed, what is queued for them, and each
try at delivering it.

A delivery is written in the transaction that reads its event from the event log
(parlour.realtime.consumers), so each event is queued once per endpoint; the worker
(parlour.webhooks.worker) claims due deliveries with a lease and records every attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The event types subscribed to (parlour.webhooks.schemas.WebhookEventType); empty: all.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The Standard Webhooks signing secret ("whsec_" + base64), sealed with a key derived
    # from PARLOUR_SECRET_KEY (parlour.channels.crypto) like providers' credentials.
    secret_sealed: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why Parlour turned it off (deliveries kept failing); None when an admin did.
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # Deliveries in a row that failed every attempt; a success sets it back to 0.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint: pending -> delivering -> succeeded | failed.

    "delivering" is held until ``lease_until``: a row still "delivering" after it belonged
    to a worker that died mid-request, and is tried again (receivers dedupe on the
    ``webhook-id``, ``msg_id``, which never changes, resends included)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        # A second worker reading the same events can never queue them twice.
        Index("ix_webhook_deliveries_event", "endpoint_id", "event_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    # The account's event sequence number; None for a test event.
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    # The body sent: {"type", "timestamp", "data"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # Attempts since it was queued (or resent): the index into the retry schedule.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # None when no answer came (refused address, connection error, timeout).
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
