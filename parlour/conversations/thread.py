"""A thread: the contact's one conversation, its messages page by page, who read it, its
status and assignee, and the panel fields its newest message sets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from parlour.accounts.models import User
from parlour.contacts import service as contacts_service
from parlour.conversations.events import emit_conversation_updated
from parlour.conversations.html import SPACES
from parlour.conversations.models import Conversation, Message, ReadMarker
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import InvalidInput, NotFound
from parlour.realtime.events import Event


async def get_conversation(tx: Tx, *, account_id: int, conversation_id: int) -> Conversation:
    conv = await tx.session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.account_id == account_id
        )
    )
    if conv is None:
        raise NotFound("No such conversation.", details={"conversation_id": conversation_id})
    return conv


async def get_or_open(tx: Tx, *, account_id: int, contact_id: int) -> Conversation:
    """The contact's one thread, created (empty, so not yet on the panel) if needed."""
    contact = await contacts_service.get_contact(tx, account_id=account_id, contact_id=contact_id)
    conv = await tx.session.scalar(
        select(Conversation).where(
            Conversation.account_id == account_id, Conversation.contact_id == contact.id
        )
    )
    if conv is None:
        conv = Conversation(
            account_id=account_id,
            contact_id=contact.id,
            status="open",
            last_message_preview="",
            channels="",
        )
        tx.session.add(conv)
        await tx.session.flush()
    return conv


async def conversation_id_of(tx: Tx, *, account_id: int, contact_id: int) -> int | None:
    found: int | None = await tx.session.scalar(
        select(Conversation.id).where(
            Conversation.account_id == account_id, Conversation.contact_id == contact_id
        )
    )
    return found


async def mark_read(tx: Tx, *, account_id: int, conversation_id: int, user_id: int) -> datetime:
    conv = await get_conversation(tx, account_id=account_id, conversation_id=conversation_id)
    now = utcnow()
    # Never move the marker before a message the user has already seen.
    at = max(now, conv.last_message_at) if conv.last_message_at else now
    values = {"conversation_id": conv.id, "user_id": user_id, "last_read_at": at}
    ins = pg_insert(ReadMarker) if tx.dialect == "postgresql" else sqlite_insert(ReadMarker)
    await tx.session.execute(
        ins.values(**values).on_conflict_do_update(
            index_elements=["conversation_id", "user_id"], set_={"last_read_at": at}
        )
    )
    tx.emit(
        Event(
            type="conversation.read",
            account_id=account_id,
            data={
                "conversation_id": conv.id,
                "user_id": user_id,
                "last_read_at": at.isoformat(),
            },
        )
    )
    return at


async def update_conversation(
    tx: Tx,
    *,
    account_id: int,
    conversation_id: int,
    status: str | None,
    assignee_id: int | None,
    assignee_given: bool,
) -> Conversation:
    conv = await get_conversation(tx, account_id=account_id, conversation_id=conversation_id)
    changes: dict[str, list[object]] = {}
    if status is not None and status != conv.status:
        changes["status"] = [conv.status, status]
        conv.status = status
    if assignee_given:
        if assignee_id is not None:
            found = await tx.session.scalar(
                select(User.id).where(User.id == assignee_id, User.account_id == account_id)
            )
            if found is None:
                raise InvalidInput(
                    "No such user to assign.",
                    code="unknown_user",
                    details={"field": "assignee_id"},
                )
        if assignee_id != conv.assignee_id:
            changes["assignee_id"] = [conv.assignee_id, assignee_id]
        conv.assignee_id = assignee_id
    await tx.session.flush()
    await emit_conversation_updated(tx, conv, changes=changes)
    return conv


def preview_of(message: Message) -> str:
    text = message.body
    if message.subject:
        text = f"{message.subject} — {message.body}"
    if not text and message.attachments:
        text = "📎 " + (message.attachments[0].filename or "Attachment")
    return SPACES.sub(" ", text).strip()[:200]


def apply_to_thread(conv: Conversation, message: Message) -> None:
    if conv.last_message_at is None or message.created_at >= conv.last_message_at:
        conv.last_message_at = message.created_at
        conv.last_message_preview = preview_of(message)
        conv.last_message_channel = message.channel
        conv.last_message_direction = message.direction
    if message.direction == "in" and (
        conv.last_inbound_at is None or message.created_at > conv.last_inbound_at
    ):
        conv.last_inbound_at = message.created_at
    used = conv.channels.split()
    if message.channel not in used:
        conv.channels = " ".join(sorted([*used, message.channel]))


async def recompute_thread(tx: Tx, conv: Conversation) -> None:
    """Rebuild the denormalised panel fields from the messages (after a merge)."""
    conv.last_message_at = None
    conv.last_inbound_at = None
    conv.last_message_preview = ""
    conv.last_message_channel = None
    conv.last_message_direction = None
    last = await tx.session.scalar(
        select(Message)
        .where(Message.conversation_id == conv.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last is not None:
        apply_to_thread(conv, last)
    conv.last_inbound_at = await tx.session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conv.id, Message.direction == "in"
        )
    )
    used = set(
        await tx.session.scalars(
            select(Message.channel).where(Message.conversation_id == conv.id).distinct()
        )
    )
    conv.channels = " ".join(sorted(used))
