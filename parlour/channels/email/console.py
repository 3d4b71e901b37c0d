"""The development email provider: logs the email and reports it delivered."""

from __future__ import annotations

import logging

from parlour.channels.email.provider import OutgoingEmail
from parlour.outbox.delivery import ProviderReceipt

log = logging.getLogger("parlour.email.console")


class ConsoleEmail:
    idempotent = True

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    async def send(self, msg: OutgoingEmail, *, idempotency_key: str) -> ProviderReceipt:
        self.sent.append(msg)
        log.info("Email %s -> %s: %s", msg.from_address, msg.to, msg.subject)
        return ProviderReceipt(provider_message_id=msg.message_id_header, status="delivered")
