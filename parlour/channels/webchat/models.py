"""Web-chat widgets, one per website, and the visitors who chat through them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class Widget(Base):
    __tablename__ = "widgets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Public: it sits in the website's script tag and only identifies the widget.
    public_token: Mapped[str] = mapped_column(String(40), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    greeting: Mapped[str] = mapped_column(String(500), default="")
    color: Mapped[str] = mapped_column(String(7), default="#4f46e5")
    # HMAC key a website uses to vouch for a visitor's identity. Never sent to browsers.
    identity_secret: Mapped[str] = mapped_column(String(64))
    # When the widget says nobody answers now (and asks for an email instead): "never",
    # "office_hours" (outside ``office_hours`` in ``timezone``) or "no_agent_online".
    offline_mode: Mapped[str] = mapped_column(String(20), default="never", server_default="never")
    # {"mon": ["09:00", "17:00"], ...}: a weekday missing is a day closed.
    office_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Visitor(Base):
    """Someone chatting through a widget. Anonymous until the website vouches for an
    identifier; a vouched identifier is one visitor (one contact, one thread) on every
    device."""

    __tablename__ = "webchat_visitors"
    __table_args__ = (UniqueConstraint("widget_id", "identifier"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    widget_id: Mapped[int] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # None until the first message (or the identity that names them).
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    identifier: Mapped[str | None] = mapped_column(String(200))
    # Part of every token signed for this visitor: changing it revokes them all.
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class VisitorUpload(Base):
    """A file a visitor uploaded and has not sent yet: only they may send it."""

    __tablename__ = "webchat_uploads"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("webchat_visitors.id", ondelete="CASCADE"), index=True
    )
