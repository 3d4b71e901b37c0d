"""Company phone numbers ("call tracking numbers") and the SMS provider accounts behind them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # Unique across accounts: an inbound webhook finds its account by the number texted.
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    provider: Mapped[str] = mapped_column(String(20), default="console")
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SmsProviderAccount(Base):
    """An account's credentials at one SMS provider (Twilio, Telnyx).

    Secrets (auth token, API key secret) are sealed with a key derived from
    ``PARLOUR_SECRET_KEY``; identifiers and the Telnyx public key are not secret.
    """

    __tablename__ = "sms_provider_accounts"
    __table_args__ = (UniqueConstraint("account_id", "provider"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    # Twilio: the Account SID (AC…) and, when REST calls use an API key, its SID (SK…).
    account_sid: Mapped[str] = mapped_column(String(64), default="")
    api_key_sid: Mapped[str | None] = mapped_column(String(64))
    # Telnyx: the account's Ed25519 public key (base64), which signs its webhooks.
    public_key: Mapped[str | None] = mapped_column(String(100))
    secrets_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
