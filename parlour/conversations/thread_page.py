"""A page of a thread: its messages newest last, shaped for the API in one pass (every
agent opening a thread reads one, so it works on rows, not ORM objects)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, bindparam, null, or_, select

from parlour.accounts.models import User
from parlour.contacts.models import Contact
from parlour.conversations.channel import Channels
from parlour.conversations.models import Attachment, Conversation, Message
from parlour.conversations.schemas import (
    OLDER_RECIPIENT_FIELDS,
    OLDER_SENDER_FIELDS,
    AttachmentOut,
    EmailDetailsOut,
    EndpointNames,
    MessageOut,
    sender_of,
)
from parlour.db.ids import in_ids
from parlour.db.tx import Tx
from parlour.errors import NotFound
from parlour.pagination import encode_cursor, time_id_cursor


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
    params: dict[str, Any] = {"thread": conversation_id, "account": account_id, "n": limit + 1}
    if before:
        params["at"], params["before_id"] = time_id_cursor(before)
    rows = list(await conn.execute(_PAGE_BEFORE if before else _PAGE, params))
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
    values_of = _field_values(channels)
    items = []
    for m in rows:
        key = _SENDER_KEY(m)
        sender = senders.get(key)
        if sender is None:
            sender = senders[key] = sender_of(
                m, contact=contact, user=users.get(m.user_id or 0)
            ).model_dump()
        v = values_of.get(m[_CHANNEL_AT], _NO_NAMES_VALUES)(m)
        values = (*v[:_SENDER_AT], sender, *v[_SENDER_AT:_FILES_AT], files.get(m.id, []))
        item = dict(zip(_MESSAGE_FIELDS, values + v[_FILES_AT:], strict=True))
        if item["channel"] == "email":
            urls = [f["url"] for f in item["attachments"]]
            item["email"] = EmailDetailsOut.of(m.id, item["email"], urls).model_dump()
        items.append(item)
    return items


_ATTACHMENTS_OF = Attachment.__table__.select().order_by(Attachment.id)
_MESSAGE_FIELDS = tuple(MessageOut.model_fields)


# A thread page reads ``client_id`` out of ``meta`` in SQL: decoding every message's JSON
# in Python cost 2 ms a page.
_THREAD_COLUMNS = [
    *(c for c in Message.__table__.c if c.key != "meta"),
    Message.meta["client_id"].as_string().label("client_id"),
    Message.meta["email"].label("email"),
    # What the endpoint fields of the other channels read: nothing.
    null().label("no_endpoint"),
]
_NEWEST_FIRST = (Message.created_at.desc(), Message.id.desc())
# Built once: constructing a statement of 25 columns and its cache key cost about as much
# as the shaping of its rows.
_PAGE = (
    select(*_THREAD_COLUMNS)
    .where(
        Message.conversation_id == bindparam("thread"),
        Message.account_id == bindparam("account"),
    )
    .order_by(*_NEWEST_FIRST)
    .limit(bindparam("n"))
)
_PAGE_BEFORE = _PAGE.where(
    Message.created_at <= bindparam("at"),
    or_(Message.created_at < bindparam("at"), Message.id < bindparam("before_id")),
)
# A message's MessageOut fields are read off its row by position, the sender and the
# attachments put in at their places: a dict of the row's columns for each message, then
# one of the fields, cost 1.4 ms a page (0.7 now).
_THREAD_KEYS = tuple(_PAGE.selected_columns.keys())
_CHANNEL_AT = _THREAD_KEYS.index("channel")
_SENDER_AT = _MESSAGE_FIELDS.index("sender")
_FILES_AT = _MESSAGE_FIELDS.index("attachments") - 1  # among the column fields
_SENDER_KEY = itemgetter(
    *(
        _THREAD_KEYS.index(c)
        for c in (
            "sender_type",
            "user_id",
            "workflow_id",
            "workflow_name",
            "workflow_run_id",
            "from_address",
        )
    )
)
assert _SENDER_AT <= _FILES_AT, "the sender comes before the attachments in MessageOut"


def _values_getter(names: EndpointNames) -> Callable[[Row[Any]], tuple[Any, ...]]:
    """Reads a message's MessageOut column fields off its row, in order: the endpoint
    fields ``names`` gives (a channel's) from the generic endpoint columns, the other
    channels' from the empty one."""
    source = {
        "sender_id": "endpoint_id",
        "recipient_id": "contact_endpoint_id",
        **dict.fromkeys(OLDER_SENDER_FIELDS + OLDER_RECIPIENT_FIELDS, "no_endpoint"),
    }
    if names.sender:
        source[names.sender] = "endpoint_id"
    if names.recipient:
        source[names.recipient] = "contact_endpoint_id"
    return itemgetter(
        *(
            _THREAD_KEYS.index(source.get(f, f))
            for f in _MESSAGE_FIELDS
            if f not in ("sender", "attachments")
        )
    )


_NO_NAMES_VALUES = _values_getter(EndpointNames())


@cache
def _field_values(channels: Channels) -> dict[str, Callable[[Row[Any]], tuple[Any, ...]]]:
    """Each served channel's reader of a row's fields (see ``_values_getter``)."""
    return {c.name: _values_getter(c.endpoint_names) for c in channels}
