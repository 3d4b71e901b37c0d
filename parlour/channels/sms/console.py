"""The development SMS provider: logs the message and reports it delivered."""

from __future__ import annotations

import logging

from parlour.channels.sms.provider import OutgoingSms
from parlour.outbox.delivery import ProviderReceipt

log = logging.getLogger("parlour.sms.console")


class ConsoleSms:
    idempotent = True

    def __init__(self) -> None:
        self.sent: list[OutgoingSms] = []

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt:
        self.sent.append(msg)
        log.info("SMS %s -> %s: %s", msg.from_number, msg.to, msg.body)
        return ProviderReceipt(provider_message_id=f"console-{idempotency_key}", status="delivered")
