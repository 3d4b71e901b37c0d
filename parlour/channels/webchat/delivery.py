"""Web chat needs no outside provider: a reply is stored for the visitor, who sees it live
if the chat window is open, or as an unread message on their next visit."""

from __future__ import annotations

from dataclasses import dataclass

from parlour.outbox.delivery import ProviderReceipt


@dataclass(frozen=True)
class OutgoingChat:
    widget_id: int
    message_id: int
    body: str


class StoredForVisitor:
    idempotent = True

    async def send(self, msg: OutgoingChat, *, idempotency_key: str) -> ProviderReceipt:
        return ProviderReceipt(provider_message_id=f"webchat-{msg.message_id}", status="sent")
