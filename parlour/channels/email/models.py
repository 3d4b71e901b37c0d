"""Company mailboxes: the addresses we send from and receive at."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class Mailbox(Base):
    __tablename__ = "mailboxes"
    __table_args__ = (Index("uq_mailboxes_inbound_token", "inbound_token", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(20), default="console")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The outgoing relay; a mailbox without a host sends through ``provider`` "console".
    smtp_host: Mapped[str | None] = mapped_column(String(255))
    smtp_port: Mapped[int | None] = mapped_column(Integer)
    # "starttls", "tls" (implicit TLS, port 465) or "none" (a local relay).
    smtp_security: Mapped[str | None] = mapped_column(String(10))
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    # The password, sealed with parlour.channels.crypto; never shown again.
    smtp_password_sealed: Mapped[str | None] = mapped_column(Text)
    # What the composer starts an email from this mailbox with (plain text).
    signature: Mapped[str] = mapped_column(Text, default="")
    # The secret in the raw-MIME webhook's URL, POST /webhooks/email/{inbound_token}.
    inbound_token: Mapped[str] = mapped_column(
        String(64), default=lambda: secrets.token_urlsafe(24)
    )
    # The IMAP account polled for incoming mail; no host, no polling.
    imap_host: Mapped[str | None] = mapped_column(String(255))
    imap_port: Mapped[int | None] = mapped_column(Integer)
    # "tls" (implicit TLS, port 993), "starttls" or "none" (a local server).
    imap_security: Mapped[str | None] = mapped_column(String(10))
    imap_username: Mapped[str | None] = mapped_column(String(320))
    imap_password_sealed: Mapped[str | None] = mapped_column(Text)
    imap_folder: Mapped[str | None] = mapped_column(String(200))
    # Where polling got to: the folder's UIDVALIDITY and the last UID imported. A new
    # UIDVALIDITY means the UIDs were renumbered, and the folder is read again (the
    # Message-IDs keep what was already stored from being stored twice).
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    imap_last_uid: Mapped[int | None] = mapped_column(BigInteger)
    # The last poll's failure, shown in Settings; None once a poll succeeds.
    imap_error: Mapped[str | None] = mapped_column(String(500))
    imap_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
