"""What provider webhooks mean for Parlour: inbound texts, keywords, delivery statuses.

Plain values come in (already verified by the webhook layer); rows and events go out.
Nothing here commits: the webhook commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from parlour.channels.sms import errors
from parlour.channels.sms.keywords import Keyword, keyword_of
from parlour.channels.sms.models import PhoneNumber
from parlour.contacts import service as contacts_service
from parlour.contacts.models import ContactPhone
from parlour.contacts.normalize import to_e164
from parlour.conversations import service as conversations_service
from parlour.conversations.models import Attachment, Conversation, Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import InvalidInput


@dataclass(frozen=True)
class MediaRef:
    url: str
    content_type: str


@dataclass(frozen=True)
class InboundSms:
    provider_message_id: str
    from_number: str
    to_number: str
    body: str
    media: tuple[MediaRef, ...] = ()
    # The provider's own reading of a keyword, when it sends one (Twilio's OptOutType).
    keyword: Keyword | None = None


@dataclass(frozen=True)
class Received:
    message: Message
    keyword: Keyword | None
    attachment_ids: list[int] = field(default_factory=list)


async def number_by_e164(tx: Tx, e164: str) -> PhoneNumber | None:
    found: PhoneNumber | None = await tx.session.scalar(
        select(PhoneNumber).where(PhoneNumber.e164 == e164)
    )
    return found


def e164_or_none(raw: str, *, region: str) -> str | None:
    try:
        return to_e164(raw, region=region)
    except InvalidInput:
        return None


async def receive(tx: Tx, *, number: PhoneNumber, sms: InboundSms, region: str) -> Received | None:
    """Stores an inbound text on the company number it was sent to. None if already stored."""
    from_e164 = e164_or_none(sms.from_number, region=region)
    if from_e164 is None:
        raise InvalidInput(
            "The sender's number is not a valid phone number.",
            code="invalid_webhook",
            details={"field": "From"},
        )
    contact = await contacts_service.find_or_create_by_phone(
        tx, account_id=number.account_id, e164=from_e164
    )
    phone = next(p for p in contact.phones if p.e164 == from_e164)
    message = await conversations_service.receive_inbound(
        tx,
        account_id=number.account_id,
        contact_id=contact.id,
        inbound=conversations_service.Inbound(
            channel="sms",
            body=sms.body,
            from_address=from_e164,
            to_address=number.e164,
            provider_message_id=sms.provider_message_id,
            phone_number_id=number.id,
            contact_phone_id=phone.id,
        ),
    )
    if message is None:
        return None
    keyword = sms.keyword or keyword_of(sms.body)
    changed = False
    if keyword:
        message.meta = {**(message.meta or {}), "sms_keyword": keyword}
        changed = True
    if keyword == "stop":
        _opt_out(phone, number_e164=number.e164)
    elif keyword == "start" and phone.sms_opt_out:
        phone.sms_opt_out = False
        phone.sms_opt_out_at = None
        phone.sms_opt_out_number = None
        contacts_service.emit_contact_updated(tx, contact)
    attachment_ids: list[int] = []
    if sms.media:
        for i, ref in enumerate(sms.media):
            message.attachments.append(
                Attachment(
                    account_id=number.account_id,
                    filename=f"media-{i + 1}{_extension(ref.content_type)}",
                    content_type=ref.content_type[:100],
                    size=0,
                    remote_url=ref.url[:1000],
                )
            )
        await tx.session.flush()
        attachment_ids = [a.id for a in message.attachments]
        await _refresh_preview(tx, message)
        changed = True
    if keyword == "stop":
        contacts_service.emit_contact_updated(tx, contact)
    if changed:
        await tx.session.flush()
        await conversations_service.emit_message_event(tx, "message.updated", message)
    return Received(message=message, keyword=keyword, attachment_ids=attachment_ids)


def _opt_out(phone: ContactPhone, *, number_e164: str | None) -> None:
    phone.sms_opt_out = True
    phone.sms_opt_out_at = utcnow()
    phone.sms_opt_out_number = number_e164


async def _refresh_preview(tx: Tx, message: Message) -> None:
    """An MMS without text previews as its attachment on the contacts panel."""
    conv = await tx.session.get(Conversation, message.conversation_id)
    if conv is not None and conv.last_message_at == message.created_at:
        conv.last_message_preview = conversations_service.preview_of(message)


def _extension(content_type: str) -> str:
    return {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "video/mp4": ".mp4",
        "audio/mpeg": ".mp3",
        "text/vcard": ".vcf",
        "text/x-vcard": ".vcf",
        "application/pdf": ".pdf",
    }.get(content_type.split(";")[0].strip().lower(), "")


# --- delivery statuses ---------------------------------------------------------------

# How far along an outbound message is; a status never moves backwards, because providers
# may deliver callbacks out of order (a late "sent" after "delivered").
_RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "failed": 3}

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
    await conversations_service.set_status(
        tx,
        message=message,
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
    if code not in errors.OPT_OUT_CODES or message.contact_phone_id is None:
        return
    phone = await tx.session.scalar(
        select(ContactPhone).where(
            ContactPhone.id == message.contact_phone_id,
            ContactPhone.account_id == message.account_id,
        )
    )
    if phone is None or phone.sms_opt_out:
        return
    _opt_out(phone, number_e164=message.from_address)
    contact = await contacts_service.get_contact(
        tx, account_id=message.account_id, contact_id=phone.contact_id
    )
    await tx.session.flush()
    contacts_service.emit_contact_updated(tx, contact)
