"""A thread: the contact's one conversation, its messages page by page, who read it, its
status and assignee, and the panel fields its newest message sets."""

from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, func, null, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from parlour.accounts.models import User
from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact
from parlour.conversations.channel import Channels
from parlour.conversations.events import emit_conversation_updated
from parlour.conversations.html import SPACES
from parlour.conversations.models import Attachment, Conversation, Message, ReadMarker
from parlour.conversations.schemas import (
    OLDER_RECIPIENT_FIELDS,
    OLDER_SENDER_FIELDS,
    AttachmentOut,
    MessageOut,
    sender_of,
)
from parlour.db.base import utcnow
from parlour.db.ids import in_ids
from parlour.db.tx import Tx
from parlour.errors import InvalidInput, NotFound
from parlour.pagination import encode_cursor, time_id_cursor
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


async def list_messages(
    tx: Tx,
    *,
    channels: Channels,
    account_id: int,
    conversation_id: int,
    before: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a thread, newest last: MessageOut-shaped dicts, and the cursor of the
    page before it."""
    # A thread page is read as rows, not ORM objects: building 200 Message objects (and
    # their attachment collections) took longer than the queries themselves.
    conn = await tx.session.connection()
    contact = (
        await conn.execute(
            select(Contact.id, Contact.name, Contact.avatar_blob_id)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(Conversation.id == conversation_id, Conversation.account_id == account_id)
        )
    ).first()
    if contact is None:
        raise NotFound("No such conversation.", details={"conversation_id": conversation_id})
    stmt = select(*_THREAD_COLUMNS).where(
        Message.conversation_id == conversation_id, Message.account_id == account_id
    )
    if before:
        at, mid = time_id_cursor(before)
        stmt = stmt.where(Message.created_at <= at, or_(Message.created_at < at, Message.id < mid))
    result = await conn.execute(
        stmt.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)
    )
    rows = list(result)
    older = None
    if len(rows) > limit:
        rows = rows[:limit]
        older = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id)
    rows.reverse()
    files = await _attachments_of(tx, [m.id for m in rows])
    user_ids = {m.user_id for m in rows if m.user_id}
    users = (
        {u.id: u for u in await tx.session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    return _shaped(rows, channels=channels, contact=contact, users=users, files=files), older


async def _attachments_of(tx: Tx, message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """AttachmentOut-shaped dicts of each message, in the order they were attached."""
    files: dict[int, list[dict[str, Any]]] = {}
    if message_ids:
        conn = await tx.session.connection()
        for a in await conn.execute(
            _ATTACHMENTS_OF.where(in_ids(Attachment.message_id, "ids", dialect=tx.dialect)),
            {"ids": message_ids},
        ):
            files.setdefault(a.message_id, []).append(AttachmentOut.from_model(a).model_dump())
    return files


def _shaped(
    rows: list[Row[Any]],
    *,
    channels: Channels,
    contact: Row[Any],
    users: dict[int, User],
    files: dict[int, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Each message as a dict of MessageOut's fields, in its order, for the page to be
    serialised once: validating 200 MessageOut models cost 2-3 ms a page, and the values
    come from our own columns (tests/conversations check the page against the model)."""
    senders: dict[tuple[Any, ...], dict[str, Any]] = {}
    items = []
    for m in rows:
        key = _SENDER_KEY(m)
        sender = senders.get(key)
        if sender is None:
            sender = senders[key] = sender_of(
                m, contact=contact, user=users.get(m.user_id or 0)
            ).model_dump()
        v = _FIELD_VALUES(m)
        values = (*v[:_SENDER_AT], sender, *v[_SENDER_AT:_FILES_AT], files.get(m.id, []))
        item = dict(zip(_MESSAGE_FIELDS, values + v[_FILES_AT:], strict=True))
        names = channels.endpoint_names(m.channel)
        if names.sender:
            item[names.sender] = m.endpoint_id
        if names.recipient:
            item[names.recipient] = m.contact_endpoint_id
        items.append(item)
    return items


_ATTACHMENTS_OF = Attachment.__table__.select().order_by(Attachment.id)
_MESSAGE_FIELDS = tuple(MessageOut.model_fields)


# A thread page reads ``client_id`` out of ``meta`` in SQL: decoding every message's JSON
# in Python cost 2 ms a page.
_THREAD_COLUMNS = [
    *(c for c in Message.__table__.c if c.key != "meta"),
    Message.meta["client_id"].as_string().label("client_id"),
    Message.endpoint_id.label("sender_id"),
    Message.contact_endpoint_id.label("recipient_id"),
    # The endpoints' older names: empty here, the channel's own pair filled in per row.
    *(null().label(f) for f in OLDER_SENDER_FIELDS + OLDER_RECIPIENT_FIELDS),
]
# A message's MessageOut fields are read off its row by position, the sender and the
# attachments put in at their places: a dict of the row's columns for each message, then
# one of the fields, cost 1.4 ms a page (0.7 now).
_THREAD_KEYS = tuple(select(*_THREAD_COLUMNS).selected_columns.keys())
_SENDER_AT = _MESSAGE_FIELDS.index("sender")
_FILES_AT = _MESSAGE_FIELDS.index("attachments") - 1  # among the column fields
_FIELD_VALUES = itemgetter(
    *(_THREAD_KEYS.index(f) for f in _MESSAGE_FIELDS if f not in ("sender", "attachments"))
)
_SENDER_KEY = itemgetter(
    *(
        _THREAD_KEYS.index(c)
        for c in ("sender_type", "user_id", "workflow_id", "workflow_name", "from_address")
    )
)
assert _SENDER_AT <= _FILES_AT, "the sender comes before the attachments in MessageOut"


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
    if status is not None:
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
        conv.assignee_id = assignee_id
    await tx.session.flush()
    await emit_conversation_updated(tx, conv)
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
