"""Company mailboxes: the addresses we send from and receive at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class Mailbox(Base):
    __tablename__ = "mailboxes"

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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
