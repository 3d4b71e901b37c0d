"""The shape every email provider has. Providers never touch the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from parlour.outbox.delivery import ProviderReceipt


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    content_type: str
    data: bytes


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


class EmailProvider(Protocol):
    idempotent: bool

    async def send(self, msg: OutgoingEmail, *, idempotency_key: str) -> ProviderReceipt: ...
