"""What provider webhooks mean for Parlour: inbound texts, keywords, delivery statuses.

Plain values come in (already verified by the webhook layer); rows and events go out.
Nothing here commits: the webhook commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.channels.sms import ENDPOINT_NAMES, NAME, connections
from parlour.channels.sms.keywords import Keyword, keyword_of
from parlour.channels.sms.models import PhoneNumber, SmsProviderAccount
from parlour.channels.sms.provider import SmsCredentials
from parlour.contacts import service as contacts_service
from parlour.contacts.models import ContactPhone
from parlour.contacts.normalize import to_e164
from parlour.conversations import inbound as conversations_inbound
from parlour.conversations.models import Message
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


@dataclass(frozen=True)
class NumberRef:
    """A company number as an inbound text needs it."""

    id: int
    account_id: int
    e164: str
    sms_enabled: bool


# Built once: constructing a statement and its cache key costs more than running it.
_ROUTE = (
    select(
        PhoneNumber.id,
        PhoneNumber.account_id,
        PhoneNumber.e164,
        PhoneNumber.sms_enabled,
        SmsProviderAccount.id,
        SmsProviderAccount.account_sid,
        SmsProviderAccount.api_key_sid,
        SmsProviderAccount.public_key,
        SmsProviderAccount.secrets_sealed,
    )
    .outerjoin(
        SmsProviderAccount,
        and_(
            SmsProviderAccount.account_id == PhoneNumber.account_id,
            SmsProviderAccount.provider == bindparam("provider"),
        ),
    )
    .where(PhoneNumber.e164 == bindparam("e164"))
)


async def route(
    conn: AsyncConnection, *, e164: str, provider: str, secret_key: str
) -> tuple[NumberRef, SmsCredentials | None] | None:
    """The company number a webhook is for, and its account's credentials at ``provider``
    to verify the webhook with: one query, as every inbound webhook starts here."""
    row = (await conn.execute(_ROUTE, {"e164": e164, "provider": provider})).first()
    if row is None:
        return None
    number_id, account_id, number_e164, sms_enabled, conn_id, sid, key_sid, public_key, sealed = row
    number = NumberRef(
        id=number_id, account_id=account_id, e164=number_e164, sms_enabled=sms_enabled
    )
    if conn_id is None:
        return number, None
    stored = SmsProviderAccount(
        account_sid=sid, api_key_sid=key_sid, public_key=public_key, secrets_sealed=sealed
    )
    return number, connections.credentials_of(stored, secret_key=secret_key)


def e164_or_none(raw: str, *, region: str) -> str | None:
    try:
        return to_e164(raw, region=region)
    except InvalidInput:
        return None


async def receive(tx: Tx, *, number: NumberRef, sms: InboundSms, region: str) -> Received | None:
    """Stores an inbound text on the company number it was sent to. None if already stored."""
    from_e164 = e164_or_none(sms.from_number, region=region)
    if from_e164 is None:
        raise InvalidInput(
            "The sender's number is not a valid phone number.",
            code="invalid_webhook",
            details={"field": "From"},
        )
    found = await conversations_inbound.sender_and_thread_by_phone(
        tx,
        account_id=number.account_id,
        e164=from_e164,
        channel=NAME,
        provider_message_id=sms.provider_message_id,
    )
    if found is None:  # a number never seen: a new contact, with no thread yet
        sender = await contacts_service.create_sender_by_phone(
            tx, account_id=number.account_id, e164=from_e164
        )
        known = conversations_inbound.ThreadLookup(thread=None, already_received=None)
    else:
        sender, known = found
    keyword = sms.keyword or keyword_of(sms.body)
    message = await conversations_inbound.receive_inbound(
        tx,
        sender=sender,
        inbound=conversations_inbound.Inbound(
            channel=NAME,
            body=sms.body,
            from_address=from_e164,
            to_address=number.e164,
            provider_message_id=sms.provider_message_id,
            endpoint_id=number.id,
            contact_endpoint_id=sender.phone_id,
            meta={"sms_keyword": keyword} if keyword else {},
            attachments=tuple(
                conversations_inbound.InboundAttachment(
                    filename=f"media-{i + 1}{_extension(ref.content_type)}",
                    content_type=ref.content_type[:100],
                    remote_url=ref.url[:1000],
                )
                for i, ref in enumerate(sms.media)
            ),
        ),
        names=ENDPOINT_NAMES,
        known=known,
    )
    if message is None:
        return None
    if keyword == "stop" or (keyword == "start" and sender.sms_opt_out):
        await _apply_keyword(tx, number=number, sender=sender, keyword=keyword)
    return Received(
        message=message, keyword=keyword, attachment_ids=[a.id for a in message.attachments]
    )


async def _apply_keyword(
    tx: Tx, *, number: NumberRef, sender: contacts_service.Sender, keyword: str
) -> None:
    """STOP opts the phone out (of this number, or of all: the account's scope); START
    opts it back in."""
    # Rare, so the contact is loaded whole: its update event carries everything.
    phone = await tx.session.get(ContactPhone, sender.phone_id)
    assert phone is not None  # found or created in this transaction
    if keyword == "stop":
        opt_out(phone, number_e164=number.e164)
    else:
        phone.sms_opt_out = False
        phone.sms_opt_out_at = None
        phone.sms_opt_out_number = None
    contact = await contacts_service.get_contact(
        tx, account_id=number.account_id, contact_id=sender.contact_id
    )
    await tx.session.flush()
    contacts_service.emit_contact_updated(tx, contact)


def opt_out(phone: ContactPhone, *, number_e164: str | None) -> None:
    phone.sms_opt_out = True
    phone.sms_opt_out_at = utcnow()
    phone.sms_opt_out_number = number_e164


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
