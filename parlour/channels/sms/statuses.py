"""Delivery statuses: what a provider's status words mean for an outbound message.

A status callback names the message's state in the provider's words; Parlour's messages
only move sent -> delivered, or to failed. Each provider's parser (``twilio.py``,
``telnyx.py``) reads its callback into a ``ReportedStatus``; the webhook applies it, as a
``StatusUpdate``, to the message it found.
"""

from __future__ import annotations

from dataclasses import dataclass

# StatusUpdate is what inbound.apply_status takes; it is defined beside that function.
from parlour.channels.sms.inbound import StatusUpdate

TWILIO_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}

TELNYX_STATUS = {
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "delivery_unconfirmed": "sent",
    "sending_failed": "failed",
    "delivery_failed": "failed",
}


@dataclass(frozen=True)
class ReportedStatus:
    """A status callback as read from the wire, before we know which message it is for
    (Telnyx may name the message by its provider id alone)."""

    provider: str
    provider_message_id: str
    status: str  # Parlour's: sent | delivered | failed
    error_code: str | None = None
    error_text: str | None = None

    def for_message(self, message_id: int) -> StatusUpdate:
        return StatusUpdate(
            provider=self.provider,
            message_id=message_id,
            provider_message_id=self.provider_message_id,
            status=self.status,
            error_code=self.error_code,
            error_text=self.error_text,
        )
