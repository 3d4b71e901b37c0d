"""The events a thread emits, and the shapes they carry (the same as the API's)."""

from __future__ import annotations

from sqlalchemy import select

from parlour.accounts.models import User
from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation, Message
from parlour.conversations.panel import unread_count
from parlour.conversations.schemas import (
    ConversationOut,
    EndpointNames,
    MessageOut,
    last_sender_of,
)
from parlour.db.tx import Tx
from parlour.realtime.events import Event, EventType


async def conversation_out(tx: Tx, conv: Conversation, *, user_id: int | None) -> ConversationOut:
    contact = await contacts_service.get_contact(
        tx, account_id=conv.account_id, contact_id=conv.contact_id
    )
    unread = await unread_count(tx, conv.id, user_id=user_id) if user_id else 0
    sender = await newest_sender(tx, conv.id)
    return ConversationOut.from_model(conv, contact, unread=unread, sender=sender)


async def newest_sender(tx: Tx, conversation_id: int) -> dict[str, object] | None:
    """The ``last_sender`` of a thread's newest message (None for an empty thread), as
    the panel reads it (panel._LAST_ID)."""
    newest = await tx.session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    user = await tx.session.get(User, newest.user_id) if newest and newest.user_id else None
    return last_sender_of(newest, user)


async def message_out(tx: Tx, message: Message, *, names: EndpointNames) -> MessageOut:
    user = await tx.session.get(User, message.user_id) if message.user_id else None
    conv = await tx.session.get(Conversation, message.conversation_id)
    contact = await tx.session.get(Contact, conv.contact_id) if conv else None
    return MessageOut.from_model(message, names=names, contact=contact, user=user)


async def emit_message_event(
    tx: Tx, kind: EventType, message: Message, *, names: EndpointNames
) -> MessageOut:
    """Tell the agents about ``message``; returns its shape, for the API's answer too."""
    conv = await tx.session.get(Conversation, message.conversation_id)
    assert conv is not None and conv.account_id == message.account_id
    out = await message_out(tx, message, names=names)
    tx.emit(
        Event(
            type=kind,
            account_id=message.account_id,
            data={
                "message": out.model_dump(mode="json"),
                "conversation": (await conversation_out(tx, conv, user_id=None)).model_dump(
                    mode="json"
                ),
            },
        )
    )
    return out


async def emit_conversation_updated(
    tx: Tx, conv: Conversation, *, changes: dict[str, list[object]] | None = None
) -> None:
    """``changes``: ``{"status": [before, after], "assignee_id": [before, after]}`` for what
    changed, for the event log's consumers (workflows' triggers, outgoing webhooks)."""
    data: dict[str, object] = {
        "conversation": (await conversation_out(tx, conv, user_id=None)).model_dump(mode="json")
    }
    if changes:
        data["changes"] = changes
    tx.emit(Event(type="conversation.updated", account_id=conv.account_id, data=data))
