"""Delivery statuses: what a provider's status words mean for an outbound message.

A status callback names the message's state in the provider's words; Parlour's messages
only move sent -> delivered, or to failed. Each provider's parser (``twilio.py``,
``telnyx.py``) reads its callback into a ``ReportedStatus``; the webhook applies it, as a
``StatusUpdate``, to the message it found (``apply_status``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from parlour.channels.sms import ENDPOINT_NAMES, errors
from parlour.channels.sms.inbound import opt_out
from parlour.contacts import service as contacts_service
from parlour.contacts.models import ContactPhone
from parlour.conversations import outbound
from parlour.conversations.models import Message
from parlour.db.tx import Tx

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


# How far along an outbound message is; a status never moves backwards, because providers
# may deliver callbacks out of order (a late "sent" after "delivered").
_RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "failed": 3}


@dataclass(frozen=True)
class StatusUpdate:
    provider: str
    message_id: int
    provider_message_id: str
    status: str  # Parlour's: sent | delivered | failed
    error_code: str | None = None
    error_text: str | None = None


class SidMismatch(Exception):
    pass


async def apply_status(tx: Tx, *, message: Message, update: StatusUpdate) -> bool:
    """Moves an outbound SMS forward. Returns False when there was nothing to change."""
    if message.provider_message_id and message.provider_message_id != update.provider_message_id:
        raise SidMismatch(message.provider_message_id)
    current = _RANK.get(message.status, 0)
    if _RANK[update.status] <= current:
        if not message.provider_message_id:
            message.provider_message_id = update.provider_message_id
            await tx.session.flush()
        return False
    error_code = error_message = None
    if update.status == "failed":
        error_code = update.error_code or "undelivered"
        error_message = errors.describe(update.provider, update.error_code, update.error_text)
    await outbound.set_status(
        tx,
        message=message,
        names=ENDPOINT_NAMES,
        status=update.status,
        provider_message_id=update.provider_message_id,
        error_code=error_code,
        error_message=error_message[:500] if error_message else None,
    )
    if update.status == "failed":
        await record_provider_opt_out(tx, message=message, code=update.error_code)
    return True


async def record_provider_opt_out(tx: Tx, *, message: Message, code: str | None) -> None:
    """The provider refused because the contact opted out (Twilio 21610): Parlour records
    it too, so the composer stops offering SMS to them."""
    if code not in errors.OPT_OUT_CODES or message.contact_endpoint_id is None:
        return
    phone = await tx.session.scalar(
        select(ContactPhone).where(
            ContactPhone.id == message.contact_endpoint_id,
            ContactPhone.account_id == message.account_id,
        )
    )
    if phone is None or phone.sms_opt_out:
        return
    opt_out(phone, number_e164=message.from_address)
    contact = await contacts_service.get_contact(
        tx, account_id=message.account_id, contact_id=phone.contact_id
    )
    await tx.session.flush()
    contacts_service.emit_contact_updated(tx, contact)
