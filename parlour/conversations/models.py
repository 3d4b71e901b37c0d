"""One conversation per contact per account, its messages, and who has read what."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from parlour.db.base import Base, BigId, UtcDateTime, utcnow

Direction = Literal["in", "out"]
SenderType = Literal["contact", "user", "bot"]
MessageStatus = Literal["queued", "sending", "sent", "delivered", "failed", "received", "read"]


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("account_id", "contact_id"),
        # The contacts panel: newest activity first, per status (or assignee). The contact
        # and its search head end each entry, so that a search can walk the index in
        # display order without reading rows (contacts/search.py).
        Index(
            "ix_conversations_panel",
            "account_id",
            "status",
            "last_message_at",
            "id",
            "contact_id",
            "search_head",
        ),
        Index(
            "ix_conversations_assignee",
            "account_id",
            "assignee_id",
            "last_message_at",
            "id",
            "contact_id",
            "search_head",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Denormalised from the newest message so the panel is one indexed query.
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_message_preview: Mapped[str] = mapped_column(String(200), default="")
    last_message_channel: Mapped[str | None] = mapped_column(String(10))
    last_message_direction: Mapped[str | None] = mapped_column(String(3))
    # The names of the channels the thread has used, sorted and space-separated: the
    # per-channel views filter on it, and a new channel needs no column of its own.
    channels: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The contact's search head (see Contact.search_head), copied by database triggers
    # (migration 0006), never written here; deferred, since only searches read it.
    search_head: Mapped[str] = mapped_column(Text, server_default="", deferred=True)


class ReadMarker(Base):
    """Up to when a user has read a conversation; later inbound messages are unread."""

    __tablename__ = "read_markers"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread", "conversation_id", "created_at", "id"),
        # A provider retrying a webhook must not store the message twice.
        Index(
            "uq_messages_provider_id",
            "channel",
            "provider_message_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(10))
    sender_type: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A bot's message names its workflow (kept when the workflow is deleted).
    workflow_id: Mapped[int | None] = mapped_column(Integer)
    workflow_name: Mapped[str | None] = mapped_column(String(200))
    # The run that sent it: the thread links a bot's message to its steps.
    workflow_run_id: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(String(998))
    html: Mapped[str | None] = mapped_column(Text)
    # The company side (which of our numbers, mailboxes or widgets carried it) and the
    # contact side (which of their phones or emails): ids whose table the message's
    # channel knows. No foreign keys: the channel finds a deleted endpoint gone.
    endpoint_id: Mapped[int | None] = mapped_column(BigId)
    contact_endpoint_id: Mapped[int | None] = mapped_column(BigId)
    # The exact addresses used, kept even if the endpoints above are later edited away.
    from_address: Mapped[str | None] = mapped_column(String(320))
    to_address: Mapped[str | None] = mapped_column(String(320))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(500))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.id", cascade="all, delete-orphan", lazy="selectin"
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Empty while an upload waits for the message it will be sent with.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    blob_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, default=0)
    # Where the provider keeps it, until (or instead of) our own copy in ``blob_id``.
    remote_url: Mapped[str | None] = mapped_column(String(1000))


class SavedView(Base):
    """A user's own filter of the contacts panel."""

    __tablename__ = "views"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
