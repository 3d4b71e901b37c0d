"""Outbound: what the composer may use, sending, retrying, and the provider's answers.

The channel decides what is possible (``Channel.option``) and what a draft must be
(``Channel.check``); this module applies the same answer to the composer and to the send,
so the two can never disagree.
"""

from __future__ import annotations

from sqlalchemy import select

from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact
from parlour.conversations import attachments
from parlour.conversations.channel import Author, Channel, Channels, Draft, LastUsed
from parlour.conversations.events import emit_message_event
from parlour.conversations.html import html_to_text, sanitize_html
from parlour.conversations.models import Conversation, Message
from parlour.conversations.schemas import (
    ChannelOption,
    ChannelOptions,
    EndpointNames,
    MessageIn,
    MessageOut,
)
from parlour.conversations.thread import apply_to_thread, get_conversation
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import ChannelUnavailable, InvalidInput, NotFound
from parlour.outbox import service as outbox_service
from parlour.tasks import service as tasks_service


async def last_used(tx: Tx, thread: Conversation | None, channel: str) -> LastUsed:
    """The endpoints of the thread's newest message on ``channel``."""
    if thread is None:
        return LastUsed()
    row = (
        await tx.session.execute(
            select(Message.endpoint_id, Message.contact_endpoint_id)
            .where(
                Message.conversation_id == thread.id,
                Message.account_id == thread.account_id,
                Message.channel == channel,
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
    ).first()
    return LastUsed(sender_id=row[0], recipient_id=row[1]) if row else LastUsed()


async def option_for(
    tx: Tx,
    channel: Channel,
    *,
    contact: Contact,
    thread: Conversation | None,
    sender_id: int | None = None,
) -> ChannelOption:
    return await channel.option(
        tx,
        account_id=contact.account_id,
        contact=contact,
        thread=thread,
        last=await last_used(tx, thread, channel.name),
        sender_id=sender_id,
    )


async def channel_options(
    tx: Tx,
    *,
    channels: Channels,
    account_id: int,
    contact_id: int,
    sender_id: int | None = None,
) -> ChannelOptions:
    """Every channel's option for this contact. ``sender_id``: the company endpoint chosen
    in the composer (a number, against which per-number opt-outs are judged)."""
    contact = await contacts_service.get_contact(tx, account_id=account_id, contact_id=contact_id)
    thread = await tx.session.scalar(
        select(Conversation).where(
            Conversation.account_id == account_id, Conversation.contact_id == contact.id
        )
    )
    opts = [
        await option_for(tx, channel, contact=contact, thread=thread, sender_id=sender_id)
        for channel in channels
    ]
    return ChannelOptions(
        conversation_id=thread.id if thread else None, contact_id=contact.id, channels=opts
    )


def draft_of(body: MessageIn, channel: Channel) -> Draft:
    """The draft in ``body``, its endpoints read under their generic or older names."""
    names = channel.endpoint_names
    sender_id = body.sender_id or (getattr(body, names.sender) if names.sender else None)
    recipient_id = body.recipient_id or (
        getattr(body, names.recipient) if names.recipient else None
    )
    html = sanitize_html(body.html) if body.html else None
    text = body.body.strip()
    return Draft(
        body=text or (html_to_text(html) if html else ""),
        html=html,
        subject=body.subject or None,
        attachment_ids=tuple(body.attachment_ids),
        sender_id=sender_id,
        recipient_id=recipient_id,
        client_id=body.client_id,
        cc=tuple(dict.fromkeys(a.lower() for a in body.cc)),
        bcc=tuple(dict.fromkeys(a.lower() for a in body.bcc)),
    )


def choose(option: ChannelOption, draft: Draft) -> tuple[int, int | None]:
    """The company and contact endpoints to use, refusing what the composer greys out."""
    if draft.sender_id is not None:
        sender = next((s for s in option.senders if s.id == draft.sender_id), None)
        if sender is None:
            raise InvalidInput(
                "That sender is not one of this account's.",
                code="unknown_sender",
                details={"channel": option.channel},
            )
        if not sender.usable:
            raise ChannelUnavailable(sender.reason or "", code=sender.reason_code)
    elif option.default_sender_id is None:
        raise ChannelUnavailable(option.reason or "", code=option.reason_code)
    if not option.available and not option.recipient_problem:
        raise ChannelUnavailable(option.reason or "", code=option.reason_code)
    chosen_sender = draft.sender_id or option.default_sender_id
    assert chosen_sender is not None
    if not option.addressed:
        return chosen_sender, None
    if draft.recipient_id is not None:
        recipient = next((r for r in option.recipients if r.id == draft.recipient_id), None)
        if recipient is None:
            raise InvalidInput(
                "That endpoint is not this contact's.",
                code="unknown_recipient",
                details={"channel": option.channel},
            )
        if not recipient.usable:
            raise ChannelUnavailable(recipient.reason or "", code=recipient.reason_code)
        return chosen_sender, draft.recipient_id
    if option.default_recipient_id is None:
        raise ChannelUnavailable(option.reason or "", code=option.reason_code)
    return chosen_sender, option.default_recipient_id


async def send_message(
    tx: Tx,
    *,
    channel: Channel,
    account_id: int,
    conversation_id: int,
    author: Author,
    draft: Draft,
) -> MessageOut:
    """Queue ``draft`` on ``channel``: the message and its outbox row in one transaction.
    Returns the message's shape, built once for the event and the answer."""
    thread = await get_conversation(tx, account_id=account_id, conversation_id=conversation_id)
    if not draft.body and not draft.attachment_ids:
        raise InvalidInput(
            "Write a message first.", code="body_required", details={"field": "body"}
        )
    draft = await channel.check(tx, thread=thread, draft=draft)
    contact = await contacts_service.get_contact(
        tx, account_id=account_id, contact_id=thread.contact_id
    )
    option = await option_for(
        tx, channel, contact=contact, thread=thread, sender_id=draft.sender_id
    )
    sender_id, recipient_id = choose(option, draft)
    now = utcnow()
    message = Message(
        account_id=account_id,
        conversation_id=thread.id,
        direction="out",
        channel=channel.name,
        sender_type=author.kind,
        user_id=author.user_id,
        workflow_id=author.workflow_id,
        workflow_name=author.workflow_name,
        workflow_run_id=author.run_id,
        body=draft.body,
        subject=draft.subject,
        html=draft.html,
        endpoint_id=sender_id,
        contact_endpoint_id=recipient_id,
        from_address=(
            next(s.address for s in option.senders if s.id == sender_id)
            if option.addressed
            else None
        ),
        to_address=next((r.address for r in option.recipients if r.id == recipient_id), None),
        status="queued",
        meta={"client_id": draft.client_id} if draft.client_id else {},
        created_at=now,
        updated_at=now,
        attachments=[],
    )
    tx.session.add(message)
    await tx.session.flush()
    await attachments.claim(tx, message=message, attachment_ids=list(draft.attachment_ids))
    apply_to_thread(thread, message)
    await tx.session.flush()
    await channel.queued(tx, message=message, author=author, draft=draft)
    await outbox_service.enqueue(tx, message=message)
    return await emit_message_event(tx, "message.created", message, names=channel.endpoint_names)


async def retry_message(
    tx: Tx, *, channels: Channels, account_id: int, conversation_id: int, message_id: int
) -> MessageOut:
    message = await tx.session.scalar(
        select(Message).where(
            Message.id == message_id,
            Message.conversation_id == conversation_id,
            Message.account_id == account_id,
        )
    )
    if message is None:
        raise NotFound("No such message.")
    if message.direction != "out" or message.status != "failed":
        raise InvalidInput("Only a failed message can be retried.", code="not_failed")
    message.status = "queued"
    message.error_code = None
    message.error_message = None
    # A new attempt gets a new provider id; status callbacks for it must not be taken for
    # callbacks about the failed one.
    message.provider_message_id = None
    message.updated_at = utcnow()
    await outbox_service.requeue(tx, message=message)
    # Its task (an Email Task) is pending again, not left failed beside a queued message.
    await tasks_service.reopen_for_message(tx, message_id=message.id)
    await tx.session.flush()
    return await emit_message_event(
        tx, "message.updated", message, names=channels.endpoint_names(message.channel)
    )


async def set_status(
    tx: Tx,
    *,
    message: Message,
    status: str,
    names: EndpointNames,
    provider_message_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """Record what the provider said about an outbound message, and tell the agents."""
    message.status = status
    if provider_message_id:
        message.provider_message_id = provider_message_id
    message.error_code = error_code
    message.error_message = error_message
    message.updated_at = utcnow()
    await tx.session.flush()
    await emit_message_event(tx, "message.updated", message, names=names)
