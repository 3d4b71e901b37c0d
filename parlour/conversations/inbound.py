"""Inbound: a message from a contact, stored on their thread (opened if need be), once.

Every channel's webhook or receiver ends here, at up to hundreds a second, so this works
on rows (SQLAlchemy Core) rather than ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact
from parlour.contacts.normalize import normalize_email
from parlour.conversations import events
from parlour.conversations.html import sanitize_html
from parlour.conversations.models import Attachment, Conversation, Message
from parlour.conversations.schemas import (
    ConversationOut,
    EndpointNames,
    MessageOut,
    last_sender_of,
)
from parlour.conversations.thread import apply_to_thread
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.realtime.events import Event


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with an inbound message, stored (or fetched later) by the channel."""

    filename: str
    content_type: str
    size: int = 0
    remote_url: str | None = None
    # Our own copy, when the channel stored the bytes as they came (email).
    blob_id: int | None = None


@dataclass(frozen=True)
class Inbound:
    channel: str
    body: str
    from_address: str
    to_address: str
    provider_message_id: str | None = None
    subject: str | None = None
    html: str | None = None
    # The company endpoint it reached (a number, a mailbox, a widget) and the contact's
    # it came from (a phone, an email), as its channel numbers them.
    endpoint_id: int | None = None
    contact_endpoint_id: int | None = None
    received_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[InboundAttachment, ...] = ()
    # False for an automatic answer (an out-of-office): stored, but a closed thread
    # stays closed.
    reopens: bool = True
    # The channel sanitised ``html`` itself (email keeps remote images, for the agent to
    # allow: see conversations.html).
    html_sanitized: bool = False


@dataclass(frozen=True)
class ThreadLookup:
    """A contact's thread as read alongside its sender: None if it has none yet."""

    thread: Conversation | None
    # The provider delivered this message before (the webhook is a retry); None: not
    # asked yet.
    already_received: bool | None


async def sender_and_thread_by_phone(
    tx: Tx, *, account_id: int, e164: str, channel: str, provider_message_id: str | None
) -> tuple[contacts_service.Sender, ThreadLookup] | None:
    """The contact texting from ``e164`` and their thread, in one round trip: what every
    inbound text from a known number needs first. None if no contact has the number."""
    row = await _first(tx, _SENDER_AND_THREAD, account_id, channel, provider_message_id, e164=e164)
    if row is None:
        return None
    sender = contacts_service.sender_of_row(row, account_id=account_id, e164=e164)
    return sender, _lookup_of(row, sender_columns=6)


async def sender_and_thread_by_email(
    tx: Tx, *, account_id: int, address: str, channel: str, provider_message_id: str | None
) -> tuple[contacts_service.Sender, int, ThreadLookup] | None:
    """The contact writing from ``address``, the id of that address's row, and their
    thread, in one round trip (as sender_and_thread_by_phone for texts). None if no
    contact has the address."""
    address = normalize_email(address)
    row = await _first(
        tx, _SENDER_AND_THREAD_BY_EMAIL, account_id, channel, provider_message_id, address=address
    )
    if row is None:
        return None
    sender = contacts_service.sender_of_email_row(row, account_id=account_id, address=address)
    return sender, row[0], _lookup_of(row, sender_columns=5)


async def _first(
    tx: Tx,
    query: Any,
    account_id: int,
    channel: str,
    provider_message_id: str | None,
    **endpoint: str,
) -> Row[Any] | None:
    conn = await tx.session.connection()
    params = {
        "account_id": account_id,
        "channel": channel,
        "provider_message_id": provider_message_id,
        **endpoint,
    }
    row: Row[Any] | None = (await conn.execute(query, params)).first()
    return row


def _lookup_of(row: Row[Any], *, sender_columns: int) -> ThreadLookup:
    """The thread (all its columns None without one) and the already-received flag that
    follow a sender's ``sender_columns`` columns."""
    values = dict(zip(_THREAD_COLUMN_KEYS, row[sender_columns:-1], strict=True))
    thread = Conversation(**values) if values["id"] is not None else None
    return ThreadLookup(thread=thread, already_received=bool(row[-1]))


async def receive_inbound(
    tx: Tx,
    *,
    sender: contacts_service.Sender,
    inbound: Inbound,
    names: EndpointNames,
    known: ThreadLookup | None = None,
) -> Message | None:
    """Store a message from a contact. Returns None if the provider already delivered it.
    ``known``: the contact's thread, if already read (see sender_and_thread_by_phone);
    ``names``: the older API names of the channel's endpoints, for the event. The message
    returned is detached, for reading."""
    conn = await tx.session.connection()
    conv = await _thread_row(conn, sender=sender, inbound=inbound, known=known)
    if conv is None:
        return None
    values = _message_values(sender, inbound, conv)
    if conv.status == "closed" and inbound.reopens:
        conv.status = "open"  # a contact writing again reopens the thread, as in Chatwoot
    attachments = [
        {
            "account_id": sender.account_id,
            "filename": item.filename,
            "content_type": item.content_type,
            "size": item.size,
            "remote_url": item.remote_url,
            "blob_id": item.blob_id,
        }
        for item in inbound.attachments
    ]
    message = Message(**values, attachments=[Attachment(**att) for att in attachments])
    # The contact's first message in their thread ("conversation opened", for workflows).
    first = conv.last_inbound_at is None
    apply_to_thread(conv, message)
    thread = {"thread_id": conv.id, **{f: getattr(conv, f) for f in _PANEL_FIELDS}}
    # Two deliveries of one message at the same moment (PostgreSQL): the later insert
    # fails on the unique (channel, provider id) index and the webhook's retry finds it.
    if tx.dialect == "postgresql" and not attachments:
        # One round trip for both: the insert rides in the update's WITH clause.
        both = {
            **{f"message_{f}": values[f] for f in _INBOUND_FIELDS},
            **{f"thread_{f}": thread[f] for f in _PANEL_FIELDS},
            "thread_id": conv.id,
        }
        message.id = (await conn.execute(_INSERT_MESSAGE_UPDATING_THREAD, both)).scalar_one()
    else:
        message.id = await conn.scalar(_INSERT_MESSAGE, values)
        for att, stored in zip(attachments, message.attachments, strict=True):
            stored.message_id = message.id
            stored.id = await conn.scalar(_INSERT_ATTACHMENT, {**att, "message_id": message.id})
        await conn.execute(_UPDATE_THREAD, thread)
    # Nearly always the newest message of its thread; one delivered late (an email's Date
    # in the past) leaves the thread's newest sender to be looked up.
    if conv.last_message_at == message.created_at:
        newest = last_sender_of(message, None)
    else:
        newest = await events.newest_sender(tx, conv.id)
    _emit_received(tx, sender, conv, message, names, first=first, newest=newest)
    return message


def _message_values(
    sender: contacts_service.Sender, inbound: Inbound, conv: Conversation
) -> dict[str, Any]:
    """The row of an inbound message: ``_INBOUND_FIELDS``."""
    at = inbound.received_at or utcnow()
    return {
        "account_id": sender.account_id,
        "conversation_id": conv.id,
        "direction": "in",
        "channel": inbound.channel,
        "sender_type": "contact",
        "body": inbound.body,
        "subject": inbound.subject,
        "html": (
            (inbound.html if inbound.html_sanitized else sanitize_html(inbound.html))
            if inbound.html
            else None
        ),
        "endpoint_id": inbound.endpoint_id,
        "contact_endpoint_id": inbound.contact_endpoint_id,
        "from_address": inbound.from_address,
        "to_address": inbound.to_address,
        "provider_message_id": inbound.provider_message_id,
        "status": "received",
        "meta": inbound.meta,
        "created_at": at,
        "updated_at": at,
    }


def _emit_received(
    tx: Tx,
    sender: contacts_service.Sender,
    conv: Conversation,
    message: Message,
    names: EndpointNames,
    *,
    first: bool,
    newest: dict[str, Any] | None,
) -> None:
    contact = sender.as_contact()
    data: dict[str, object] = {
        "message": MessageOut.from_model(message, names=names, contact=contact).model_dump(
            mode="json"
        ),
        "conversation": ConversationOut.from_model(
            conv, contact, label=sender.label, sender=newest
        ).model_dump(mode="json"),
    }
    if first:
        data["first_inbound"] = True
    tx.emit(Event(type="message.created", account_id=sender.account_id, data=data))


# The columns receive_inbound writes for a message.
_INBOUND_FIELDS = (
    "account_id",
    "conversation_id",
    "direction",
    "channel",
    "sender_type",
    "body",
    "subject",
    "html",
    "endpoint_id",
    "contact_endpoint_id",
    "from_address",
    "to_address",
    "provider_message_id",
    "status",
    "meta",
    "created_at",
    "updated_at",
)
# The thread's denormalised fields an inbound message can change.
_PANEL_FIELDS = (
    "status",
    "last_message_at",
    "last_inbound_at",
    "last_message_preview",
    "last_message_channel",
    "last_message_direction",
    "channels",
)


# Built once: constructing a statement and its cache key costs more than running it.
_ALREADY_RECEIVED = select(Message.id).where(
    Message.channel == bindparam("channel"),
    Message.provider_message_id == bindparam("provider_message_id"),
)
_INSERT_MESSAGE = insert(Message).returning(Message.id)
_INSERT_ATTACHMENT = insert(Attachment).returning(Attachment.id)
# The thread, and whether the provider already delivered this message: one round trip.
_RECEIVED_BEFORE = (
    exists()
    .where(
        Message.channel == bindparam("channel"),
        Message.provider_message_id == bindparam("provider_message_id"),
    )
    .label("already_received")
)
_THREAD_OF_CONTACT = select(*Conversation.__table__.c, _RECEIVED_BEFORE).where(
    Conversation.account_id == bindparam("account_id"),
    Conversation.contact_id == bindparam("contact_id"),
)
_THREAD_COLUMN_KEYS = tuple(Conversation.__table__.c.keys())
# The sender's columns, then their thread's (all None without one), then whether the
# provider already delivered the message: see sender_and_thread_by_phone.
_SENDER_AND_THREAD = (
    contacts_service.sender_by_phone_query()
    .add_columns(*Conversation.__table__.c, _RECEIVED_BEFORE)
    .outerjoin(
        Conversation,
        and_(
            Conversation.account_id == bindparam("account_id"),
            Conversation.contact_id == Contact.id,
        ),
    )
)
_SENDER_AND_THREAD_BY_EMAIL = (
    contacts_service.sender_by_email_query()
    .add_columns(*Conversation.__table__.c, _RECEIVED_BEFORE)
    .outerjoin(
        Conversation,
        and_(
            Conversation.account_id == bindparam("account_id"),
            Conversation.contact_id == Contact.id,
        ),
    )
)
_OPEN_THREAD = insert(Conversation).returning(*Conversation.__table__.c)
_UPDATE_THREAD = (
    update(Conversation)
    .where(Conversation.id == bindparam("thread_id"))
    .values({f: bindparam(f) for f in _PANEL_FIELDS})
)
# PostgreSQL runs an insert inside a WITH clause; SQLite cannot.
_INSERT_MESSAGE_UPDATING_THREAD = (
    update(Conversation)
    .where(Conversation.id == bindparam("thread_id"))
    .values({f: bindparam(f"thread_{f}") for f in _PANEL_FIELDS})
    .returning(
        select(
            insert(Message)
            .values({f: bindparam(f"message_{f}") for f in _INBOUND_FIELDS})
            .returning(Message.id)
            .cte("inserted")
            .c.id
        ).scalar_subquery()
    )
)


async def _thread_row(
    conn: AsyncConnection,
    *,
    sender: contacts_service.Sender,
    inbound: Inbound,
    known: ThreadLookup | None,
) -> Conversation | None:
    """The contact's thread as a detached Conversation, opened if the contact has none;
    None if the provider already delivered this message."""
    account_id, contact_id = sender.account_id, sender.contact_id
    keys = {"channel": inbound.channel, "provider_message_id": inbound.provider_message_id}
    if known is None:
        row = (
            await conn.execute(
                _THREAD_OF_CONTACT, {"account_id": account_id, "contact_id": contact_id, **keys}
            )
        ).first()
        if row is None:
            known = ThreadLookup(thread=None, already_received=None)
        else:
            fields = row._asdict()
            already = fields.pop("already_received")
            known = ThreadLookup(thread=Conversation(**fields), already_received=bool(already))
    if known.already_received is None:
        # No thread yet, yet the message may be stored under another contact (merged
        # away, or a provider reusing an id): the unique index would refuse it.
        already = bool(inbound.provider_message_id) and bool(
            await conn.scalar(_ALREADY_RECEIVED, keys)
        )
        known = ThreadLookup(thread=known.thread, already_received=already)
    if known.already_received:
        return None
    if known.thread is not None:
        return known.thread
    # Two first texts from a new contact at once on PostgreSQL: the later one fails
    # this insert, and the webhook's retry finds the thread. The columns' own defaults
    # (open, nothing on the panel yet) fill the rest.
    opened = await conn.execute(_OPEN_THREAD, {"account_id": account_id, "contact_id": contact_id})
    return Conversation(**opened.one()._asdict())
