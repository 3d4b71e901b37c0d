"""Threads and messages: the contacts panel, reading, sending and receiving."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import nh3
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.accounts.models import Account, User
from parlour.contacts import search
from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact, ContactEmail, ContactPhone
from parlour.conversations import attachments, channels
from parlour.conversations.models import Attachment, Conversation, Message, ReadMarker
from parlour.conversations.schemas import (
    AttachmentOut,
    ChannelOption,
    ChannelOptions,
    ConversationOut,
    MessageIn,
    MessageOut,
    ViewFilters,
    contact_brief,
    panel_item,
    sender_of,
)
from parlour.conversations.views import conditions
from parlour.db.base import utcnow
from parlour.db.ids import in_ids
from parlour.db.tx import Tx
from parlour.errors import ChannelUnavailable, InvalidInput, NotFound
from parlour.outbox import service as outbox_service
from parlour.pagination import decode_cursor, encode_cursor
from parlour.realtime.events import Event, EventType
from parlour.tasks import service as tasks_service

SMS_MAX_BODY = 1600
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Author:
    """Who sends an outbound message: an employee, or a workflow acting as the bot."""

    kind: str  # "user" | "bot"
    user_id: int | None = None
    workflow_id: int | None = None
    workflow_name: str | None = None

    @classmethod
    def user(cls, user: User) -> Author:
        return cls(kind="user", user_id=user.id)

    @classmethod
    def bot(cls, *, workflow_name: str, workflow_id: int | None = None) -> Author:
        return cls(kind="bot", workflow_id=workflow_id, workflow_name=workflow_name)


# --- loading -------------------------------------------------------------------------


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
            has_sms=False,
            has_webchat=False,
            has_email=False,
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


async def conversation_out(tx: Tx, conv: Conversation, *, user_id: int | None) -> ConversationOut:
    contact = await contacts_service.get_contact(
        tx, account_id=conv.account_id, contact_id=conv.contact_id
    )
    unread = await unread_count(tx, conv.id, user_id=user_id) if user_id else 0
    return ConversationOut.from_model(conv, contact, unread=unread)


async def unread_count(tx: Tx, conversation_id: int, *, user_id: int) -> int:
    n = await tx.session.scalar(
        select(_UNREAD)
        .select_from(Conversation)
        .outerjoin(ReadMarker, _read_marker_of(user_id))
        .where(Conversation.id == conversation_id)
    )
    return int(n or 0)


# A thread's unread count for a user: its inbound messages after the user's read marker,
# if any. Correlated to ``conversations`` and to ``read_markers`` outer-joined on
# ``_read_marker_of``: the panel reads it with each page's rows.
_UNREAD = (
    select(func.count(Message.id))
    .where(
        Message.conversation_id == Conversation.id,
        Message.direction == "in",
        or_(ReadMarker.last_read_at.is_(None), Message.created_at > ReadMarker.last_read_at),
    )
    .scalar_subquery()
)


def _read_marker_of(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    return and_(ReadMarker.conversation_id == Conversation.id, ReadMarker.user_id == user_id)


async def message_out(tx: Tx, message: Message) -> MessageOut:
    user = await tx.session.get(User, message.user_id) if message.user_id else None
    conv = await tx.session.get(Conversation, message.conversation_id)
    contact = await tx.session.get(Contact, conv.contact_id) if conv else None
    return MessageOut.from_model(message, contact=contact, user=user)


async def emit_message_event(tx: Tx, kind: EventType, message: Message) -> None:
    conv = await get_conversation(
        tx, account_id=message.account_id, conversation_id=message.conversation_id
    )
    tx.emit(
        Event(
            type=kind,
            account_id=message.account_id,
            data={
                "message": (await message_out(tx, message)).model_dump(mode="json"),
                "conversation": (await conversation_out(tx, conv, user_id=None)).model_dump(
                    mode="json"
                ),
            },
        )
    )


async def emit_conversation_updated(tx: Tx, conv: Conversation) -> None:
    tx.emit(
        Event(
            type="conversation.updated",
            account_id=conv.account_id,
            data={
                "conversation": (await conversation_out(tx, conv, user_id=None)).model_dump(
                    mode="json"
                )
            },
        )
    )


# --- the contacts panel -----------------------------------------------------------------


async def list_panel(
    tx: Tx,
    *,
    account_id: int,
    user_id: int,
    filters: ViewFilters,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the panel: ConversationOut-shaped dicts, and the next page's cursor."""
    # The page's threads are chosen on the conversations table alone; only those 51 are
    # then joined to their contacts. Joining first made a search for a common name
    # ("martin": 2,000 contacts) read every matching contact's row.
    page = (
        select(Conversation.id)
        .where(Conversation.account_id == account_id, Conversation.last_message_at.is_not(None))
        .where(*conditions(filters, user_id=user_id))
    )
    if cursor:
        at_s, cid = decode_cursor(cursor, 2)
        try:
            at = datetime.fromisoformat(str(at_s))
        except ValueError as exc:
            raise InvalidInput("This cursor is not valid.", code="invalid_cursor") from exc
        if not isinstance(cid, int) or at.tzinfo is None:
            raise InvalidInput("This cursor is not valid.", code="invalid_cursor")
        # The bare upper bound lets the panel index serve the range *and* the order; an OR
        # alone makes SQLite sort every older row and PostgreSQL filter them one by one.
        page = page.where(
            Conversation.last_message_at <= at,
            or_(Conversation.last_message_at < at, Conversation.id < cid),
        )
    conn = await tx.session.connection()

    async def read(page: Select[tuple[int]]) -> list[Row[Any]]:
        """The rows of the first ``limit`` + 1 threads ``page`` selects, newest first."""
        ids = page.order_by(*_NEWEST_FIRST).limit(limit + 1)
        return list(
            await conn.execute(_PANEL_ROWS.where(Conversation.id.in_(ids)), {"panel_user": user_id})
        )

    if q and q.strip():
        rows = await _search_panel(conn, read, page, q, account_id=account_id)
    else:
        rows = await read(page)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.last_message_at.isoformat(), last.id)
    items = [
        panel_item(
            r,
            contact_brief(
                id=r.contact_id,
                name=r.contact_name,
                label=r.contact_label,
                avatar_blob_id=r.contact_avatar,
            ),
            unread=r.unread,
        )
        for r in rows
    ]
    return items, next_cursor


async def _search_panel(
    conn: AsyncConnection,
    read: Callable[[Select[tuple[int]]], Awaitable[list[Row[Any]]]],
    page: Select[tuple[int]],
    q: str,
    *,
    account_id: int,
) -> list[Row[Any]]:
    """A page of panel search (the plans and their measurements: contacts/search.py).

    Up to ``search.FEW`` matching contacts have their threads looked up by id. More are
    found by walking the panel index newest first: its entries end with the thread's
    contact and search head, so the walk reads no rows ("martin", 2,175 matches, fills a
    page after 2,625 entries, in about a millisecond). A thread's recency has nothing to do
    with its contact's name, so the walk needs no cap: with more than FEW matches in the
    account, a page is found within a few thousand entries."""
    few = (await search.probe(conn, q, account_id=account_id)).few
    if few is not None:
        dialect = conn.dialect.name
        return await read(
            page.where(in_ids(Conversation.contact_id, "few", dialect=dialect, value=few))
        )
    return await read(
        page.where(
            search.head_matches(
                Conversation.search_head, Conversation.contact_id, q, account_id=account_id
            )
        )
    )


_PANEL_COLUMNS = (
    Conversation.id,
    Conversation.contact_id,
    Conversation.status,
    Conversation.assignee_id,
    Conversation.last_message_at,
    Conversation.last_message_preview,
    Conversation.last_message_channel,
    Conversation.last_message_direction,
    Conversation.has_sms,
    Conversation.has_webchat,
    Conversation.has_email,
)


def _first_of(endpoint: type[ContactPhone] | type[ContactEmail], column: Any) -> Any:
    """A contact's first phone's or email's ``column``, in the order they were added."""
    return (
        select(column)
        .where(endpoint.contact_id == Contact.id)
        .order_by(endpoint.id)
        .limit(1)
        .scalar_subquery()
    )


# The panel shows a name, not the endpoints or tags: loading those eagerly for 50 contacts
# (three more queries and 100+ ORM objects) doubled the time of a page. A contact without a
# name is labelled by its first phone or email, fetched in the row.
_LABEL = func.coalesce(
    func.nullif(Contact.name, ""),
    _first_of(ContactPhone, ContactPhone.e164),
    _first_of(ContactEmail, ContactEmail.address),
    "Unknown",
)
_NEWEST_FIRST = (Conversation.last_message_at.desc(), Conversation.id.desc())
# A page of the panel as rows, not ORM objects (a dozen columns of 50 threads), for the
# threads the page chose and the user ``panel_user``: built once, as building it for each
# page cost a quarter of a millisecond of CPU.
_PANEL_ROWS = (
    select(
        *_PANEL_COLUMNS,
        Contact.name.label("contact_name"),
        Contact.avatar_blob_id.label("contact_avatar"),
        _LABEL.label("contact_label"),
        # Read with the rows: a statement of its own cost a round trip a page.
        _UNREAD.label("unread"),
    )
    .join(Contact, Contact.id == Conversation.contact_id)
    .outerjoin(ReadMarker, _read_marker_of(bindparam("panel_user")))
    .order_by(*_NEWEST_FIRST)
)


async def count_view(tx: Tx, *, account_id: int, user_id: int, filters: ViewFilters) -> int:
    n = await tx.session.scalar(
        select(func.count(Conversation.id)).where(
            Conversation.account_id == account_id,
            Conversation.last_message_at.is_not(None),
            *conditions(filters, user_id=user_id),
        )
    )
    return int(n or 0)


# --- the thread ------------------------------------------------------------------------


async def list_messages(
    tx: Tx, *, account_id: int, conversation_id: int, before: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a thread, newest last: MessageOut-shaped dicts, and the cursor of the
    page before it."""
    # A thread page is read as rows, not ORM objects: building 200 Message objects (and
    # their attachment collections) took longer than the queries themselves.
    conn = await tx.session.connection()
    thread = (
        await conn.execute(
            select(Contact.id, Contact.name, Contact.avatar_blob_id)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(Conversation.id == conversation_id, Conversation.account_id == account_id)
        )
    ).first()
    if thread is None:
        raise NotFound("No such conversation.", details={"conversation_id": conversation_id})
    stmt = select(*_THREAD_COLUMNS).where(
        Message.conversation_id == conversation_id, Message.account_id == account_id
    )
    if before:
        at_s, mid = decode_cursor(before, 2)
        try:
            at = datetime.fromisoformat(str(at_s))
        except ValueError as exc:
            raise InvalidInput("This cursor is not valid.", code="invalid_cursor") from exc
        if not isinstance(mid, int) or at.tzinfo is None:
            raise InvalidInput("This cursor is not valid.", code="invalid_cursor")
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
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for a in await conn.execute(
            _ATTACHMENTS_OF.where(in_ids(Attachment.message_id, "ids", dialect=tx.dialect)),
            {"ids": [m.id for m in rows]},
        ):
            files.setdefault(a.message_id, []).append(AttachmentOut.from_model(a).model_dump())
    user_ids = {m.user_id for m in rows if m.user_id}
    users = (
        {u.id: u for u in await tx.session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    # Each message is shaped as a dict of MessageOut's fields, in its order, and the page
    # is serialised once: validating 200 MessageOut models cost 2-3 ms a page, and the
    # values come from our own columns (tests/conversations check the page against the
    # model).
    senders: dict[tuple[Any, ...], dict[str, Any]] = {}
    items = []
    for m in rows:
        key = _SENDER_KEY(m)
        sender = senders.get(key)
        if sender is None:
            sender = senders[key] = sender_of(
                m, contact=thread, user=users.get(m.user_id or 0)
            ).model_dump()
        v = _FIELD_VALUES(m)
        values = (*v[:_SENDER_AT], sender, *v[_SENDER_AT:_FILES_AT], files.get(m.id, []))
        items.append(dict(zip(_MESSAGE_FIELDS, values + v[_FILES_AT:], strict=True)))
    return items, older


_ATTACHMENTS_OF = Attachment.__table__.select().order_by(Attachment.id)
_MESSAGE_FIELDS = tuple(MessageOut.model_fields)


# A thread page reads ``client_id`` out of ``meta`` in SQL: decoding every message's JSON
# in Python cost 2 ms a page.
_THREAD_COLUMNS = [
    *(c for c in Message.__table__.c if c.key != "meta"),
    Message.meta["client_id"].as_string().label("client_id"),
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


# --- channels ----------------------------------------------------------------------------


async def channel_options(
    tx: Tx, *, account_id: int, contact_id: int, phone_number_id: int | None = None
) -> ChannelOptions:
    """``phone_number_id``: the company number chosen in the composer, against which
    per-number SMS opt-outs are judged."""
    account = await tx.session.get(Account, account_id)
    assert account is not None
    contact = await contacts_service.get_contact(tx, account_id=account_id, contact_id=contact_id)
    conv = await tx.session.scalar(
        select(Conversation).where(
            Conversation.account_id == account_id, Conversation.contact_id == contact.id
        )
    )
    opts = [
        await channels.sms_option(
            tx, account=account, contact=contact, conv=conv, sender_id=phone_number_id
        ),
        await channels.webchat_option(tx, account=account, contact=contact, conv=conv),
        await channels.email_option(tx, account=account, contact=contact, conv=conv),
    ]
    return ChannelOptions(
        conversation_id=conv.id if conv else None, contact_id=contact.id, channels=opts
    )


def _choose(
    option: ChannelOption, *, sender_id: int | None, recipient_id: int | None
) -> tuple[int, int | None]:
    """The company and contact endpoints to use, refusing what the composer would grey out."""
    if sender_id is not None:
        sender = next((s for s in option.senders if s.id == sender_id), None)
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
    if not option.available and option.reason_code not in (
        "contact_opted_out",
        "email_bounced",
    ):
        raise ChannelUnavailable(option.reason or "", code=option.reason_code)
    chosen_sender = sender_id or option.default_sender_id
    assert chosen_sender is not None
    if option.channel == "webchat":
        return chosen_sender, None
    if recipient_id is not None:
        recipient = next((r for r in option.recipients if r.id == recipient_id), None)
        if recipient is None:
            raise InvalidInput(
                "That endpoint is not this contact's.",
                code="unknown_recipient",
                details={"channel": option.channel},
            )
        if not recipient.usable:
            raise ChannelUnavailable(recipient.reason or "", code=recipient.reason_code)
        return chosen_sender, recipient_id
    if option.default_recipient_id is None:
        raise ChannelUnavailable(option.reason or "", code=option.reason_code)
    return chosen_sender, option.default_recipient_id


# --- writing messages ----------------------------------------------------------------------


def preview_of(message: Message) -> str:
    text = message.body
    if message.channel == "email" and message.subject:
        text = f"{message.subject} — {message.body}"
    if not text and message.attachments:
        text = "📎 " + (message.attachments[0].filename or "Attachment")
    return _SPACES.sub(" ", text).strip()[:200]


def _apply_to_thread(conv: Conversation, message: Message) -> None:
    if conv.last_message_at is None or message.created_at >= conv.last_message_at:
        conv.last_message_at = message.created_at
        conv.last_message_preview = preview_of(message)
        conv.last_message_channel = message.channel
        conv.last_message_direction = message.direction
    if message.direction == "in" and (
        conv.last_inbound_at is None or message.created_at > conv.last_inbound_at
    ):
        conv.last_inbound_at = message.created_at
    if message.channel == "sms":
        conv.has_sms = True
    elif message.channel == "webchat":
        conv.has_webchat = True
    elif message.channel == "email":
        conv.has_email = True


def sanitize_html(html: str) -> str:
    """Email HTML as safe to show: no script, no event handlers, no remote images."""
    cleaned: str = nh3.clean(
        html,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=lambda tag, attr, value: (
            None if tag == "img" and attr == "src" and not value.startswith("cid:") else value
        ),
    )
    return cleaned


def html_to_text(html: str) -> str:
    text: str = nh3.clean(html, tags=set())
    return _SPACES.sub(" ", text).strip()


async def send_message(
    tx: Tx, *, account_id: int, conversation_id: int, author: Author, draft: MessageIn
) -> Message:
    conv = await get_conversation(tx, account_id=account_id, conversation_id=conversation_id)
    if draft.channel == "sms" and draft.phone_number_id:
        account = await tx.session.get(Account, account_id)
        assert account is not None
        contact = await contacts_service.get_contact(
            tx, account_id=account_id, contact_id=conv.contact_id
        )
        option = await channels.sms_option(
            tx, account=account, contact=contact, conv=conv, sender_id=draft.phone_number_id
        )
    else:
        options = await channel_options(tx, account_id=account_id, contact_id=conv.contact_id)
        option = next(o for o in options.channels if o.channel == draft.channel)
    body = draft.body.strip()
    html = sanitize_html(draft.html) if draft.html else None
    if draft.channel == "email" and html and not body:
        body = html_to_text(html)
    if not body and not draft.attachment_ids:
        raise InvalidInput(
            "Write a message first.", code="body_required", details={"field": "body"}
        )
    if draft.attachment_ids and draft.channel == "sms":
        # Outbound MMS needs media the provider can fetch from a public URL: not yet.
        raise InvalidInput(
            "Attachments can be sent by email or web chat, not by SMS.",
            code="sms_attachments_unsupported",
            details={"field": "attachment_ids"},
        )
    if draft.channel == "sms" and len(body) > SMS_MAX_BODY:
        raise InvalidInput(
            f"An SMS can be at most {SMS_MAX_BODY} characters.",
            code="body_too_long",
            details={"field": "body", "max": SMS_MAX_BODY},
        )
    sender_given = {
        "sms": draft.phone_number_id,
        "email": draft.mailbox_id,
        "webchat": draft.widget_id,
    }
    recipient_given = {
        "sms": draft.contact_phone_id,
        "email": draft.contact_email_id,
        "webchat": None,
    }
    sender_id, recipient_id = _choose(
        option,
        sender_id=sender_given[draft.channel],
        recipient_id=recipient_given[draft.channel],
    )
    sender_addr = next(s.address for s in option.senders if s.id == sender_id)
    recipient_addr = next((r.address for r in option.recipients if r.id == recipient_id), None)
    subject = None
    if draft.channel == "email":
        subject = draft.subject or await _reply_subject(tx, conv)
        if not subject:
            raise InvalidInput(
                "An email needs a subject.", code="subject_required", details={"field": "subject"}
            )
    now = utcnow()
    message = Message(
        account_id=account_id,
        conversation_id=conv.id,
        direction="out",
        channel=draft.channel,
        sender_type=author.kind,
        user_id=author.user_id,
        workflow_id=author.workflow_id,
        workflow_name=author.workflow_name,
        body=body,
        subject=subject,
        html=html,
        phone_number_id=sender_id if draft.channel == "sms" else None,
        mailbox_id=sender_id if draft.channel == "email" else None,
        widget_id=sender_id if draft.channel == "webchat" else None,
        contact_phone_id=recipient_id if draft.channel == "sms" else None,
        contact_email_id=recipient_id if draft.channel == "email" else None,
        from_address=sender_addr if draft.channel != "webchat" else None,
        to_address=recipient_addr,
        status="queued",
        meta={"client_id": draft.client_id} if draft.client_id else {},
        created_at=now,
        updated_at=now,
        attachments=[],
    )
    tx.session.add(message)
    await tx.session.flush()
    await attachments.claim(tx, message=message, attachment_ids=draft.attachment_ids)
    _apply_to_thread(conv, message)
    await tx.session.flush()
    if draft.channel == "email":
        await tasks_service.create_email_task(tx, message=message, owner_id=author.user_id)
    await outbox_service.enqueue(tx, message=message)
    await emit_message_event(tx, "message.created", message)
    return message


async def _reply_subject(tx: Tx, conv: Conversation) -> str | None:
    last = await tx.session.scalar(
        select(Message.subject)
        .where(
            Message.conversation_id == conv.id,
            Message.channel == "email",
            Message.subject.is_not(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if not last:
        return None
    return last if last.lower().startswith("re:") else f"Re: {last}"


async def retry_message(
    tx: Tx, *, account_id: int, conversation_id: int, message_id: int
) -> Message:
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
    await tx.session.flush()
    await emit_message_event(tx, "message.updated", message)
    return message


async def set_status(
    tx: Tx,
    *,
    message: Message,
    status: str,
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
    await emit_message_event(tx, "message.updated", message)


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with an inbound message, stored (or fetched later) by the channel."""

    filename: str
    content_type: str
    size: int = 0
    remote_url: str | None = None


@dataclass(frozen=True)
class Inbound:
    channel: str
    body: str
    from_address: str
    to_address: str
    provider_message_id: str | None = None
    subject: str | None = None
    html: str | None = None
    phone_number_id: int | None = None
    mailbox_id: int | None = None
    widget_id: int | None = None
    contact_phone_id: int | None = None
    contact_email_id: int | None = None
    received_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[InboundAttachment, ...] = ()


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
    conn = await tx.session.connection()
    row = (
        await conn.execute(
            _SENDER_AND_THREAD,
            {
                "account_id": account_id,
                "e164": e164,
                "channel": channel,
                "provider_message_id": provider_message_id,
            },
        )
    ).first()
    if row is None:
        return None
    sender = contacts_service.sender_of_row(row, account_id=account_id, e164=e164)
    thread_values = dict(zip(_THREAD_KEYS, row[6:-1], strict=True))
    thread = Conversation(**thread_values) if thread_values["id"] is not None else None
    return sender, ThreadLookup(thread=thread, already_received=bool(row[-1]))


async def receive_inbound(
    tx: Tx,
    *,
    sender: contacts_service.Sender,
    inbound: Inbound,
    known: ThreadLookup | None = None,
) -> Message | None:
    """Store a message from a contact. Returns None if the provider already delivered it.
    ``known``: the contact's thread, if already read (see sender_and_thread_by_phone).

    Every provider webhook ends here, at up to hundreds a second, so this works on rows
    (SQLAlchemy Core) rather than ORM objects: a handful of statements, no loading of the
    contact or thread as objects. The message returned is detached, for reading.
    """
    conn = await tx.session.connection()
    conv = await _thread_row(conn, sender=sender, inbound=inbound, known=known)
    if conv is None:
        return None
    at = inbound.received_at or utcnow()
    values: dict[str, Any] = {  # _INBOUND_FIELDS
        "account_id": sender.account_id,
        "conversation_id": conv.id,
        "direction": "in",
        "channel": inbound.channel,
        "sender_type": "contact",
        "body": inbound.body,
        "subject": inbound.subject,
        "html": sanitize_html(inbound.html) if inbound.html else None,
        "phone_number_id": inbound.phone_number_id,
        "mailbox_id": inbound.mailbox_id,
        "widget_id": inbound.widget_id,
        "contact_phone_id": inbound.contact_phone_id,
        "contact_email_id": inbound.contact_email_id,
        "from_address": inbound.from_address,
        "to_address": inbound.to_address,
        "provider_message_id": inbound.provider_message_id,
        "status": "received",
        "meta": inbound.meta,
        "created_at": at,
        "updated_at": at,
    }
    if conv.status == "closed":
        conv.status = "open"  # a contact writing again reopens the thread, as in Chatwoot
    attachments = [
        {
            "account_id": sender.account_id,
            "filename": item.filename,
            "content_type": item.content_type,
            "size": item.size,
            "remote_url": item.remote_url,
        }
        for item in inbound.attachments
    ]
    message = Message(**values, attachments=[Attachment(**att) for att in attachments])
    _apply_to_thread(conv, message)
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
    contact = sender.as_contact()
    tx.emit(
        Event(
            type="message.created",
            account_id=sender.account_id,
            data={
                "message": MessageOut.from_model(message, contact=contact).model_dump(mode="json"),
                "conversation": ConversationOut.from_model(
                    conv, contact, label=sender.label
                ).model_dump(mode="json"),
            },
        )
    )
    return message


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
    "phone_number_id",
    "mailbox_id",
    "widget_id",
    "contact_phone_id",
    "contact_email_id",
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
    "has_sms",
    "has_webchat",
    "has_email",
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
_THREAD_KEYS = tuple(Conversation.__table__.c.keys())
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


async def recompute_thread(tx: Tx, conv: Conversation) -> None:
    """Rebuild the denormalised panel fields from the messages (after a merge)."""
    conv.last_message_at = None
    conv.last_inbound_at = None
    conv.last_message_preview = ""
    conv.last_message_channel = None
    conv.last_message_direction = None
    conv.has_sms = conv.has_webchat = conv.has_email = False
    last = await tx.session.scalar(
        select(Message)
        .where(Message.conversation_id == conv.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last is not None:
        _apply_to_thread(conv, last)
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
    conv.has_sms, conv.has_webchat, conv.has_email = (
        "sms" in used,
        "webchat" in used,
        "email" in used,
    )
