"""The shape every email provider has. Providers never touch the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from parlour.outbox.delivery import ProviderReceipt


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    content_type: str
    data: bytes


Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True)
class SmtpRelay:
    """Where a mailbox hands its mail over, with the password already unsealed."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OutgoingEmail:
    from_address: str
    from_name: str
    to: str
    subject: str
    text: str
    html: str | None
    message_id_header: str
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: tuple[EmailAttachment, ...] = ()
    reply_to: str | None = None
    # When it was written (the ``Date`` header); now when not given.
    date: datetime | None = None
    # Sent by an automation (the bot), not a person: marked ``Auto-Submitted:
    # auto-generated`` (RFC 3834), so that other systems' auto-replies do not answer it.
    automatic: bool = False
    # More recipients: in the Cc header, or only in the envelope (Bcc).
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    # The mailbox's relay, for the providers that need one ("smtp").
    relay: SmtpRelay | None = None


class EmailProvider(Protocol):
    idempotent: bool

    async def send(self, msg: OutgoingEmail, *, idempotency_key: str) -> ProviderReceipt: ...
