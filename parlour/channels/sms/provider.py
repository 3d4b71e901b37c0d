"""The shape every SMS provider has. Providers never touch the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parlour.channels.delivery import ProviderReceipt


@dataclass(frozen=True)
class OutgoingSms:
    from_number: str
    to: str
    body: str
    # Our message id; providers without idempotency keys carry it in the callback URL so
    # that a send interrupted by a crash can be looked up before being retried.
    message_id: int
    status_callback: str | None = None


class SmsProvider(Protocol):
    # True when sending twice with the same idempotency key sends once.
    idempotent: bool

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt: ...
