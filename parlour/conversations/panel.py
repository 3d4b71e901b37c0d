"""The contacts panel: a page of a view's threads, newest activity first, and its counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from parlour.accounts.models import User
from parlour.contacts import search
from parlour.contacts.models import Contact, ContactEmail, ContactPhone
from parlour.conversations.models import Conversation, Message, ReadMarker
from parlour.conversations.schemas import ViewFilters, contact_brief, last_sender, panel_item
from parlour.conversations.views import conditions
from parlour.db.ids import in_ids
from parlour.db.tx import Tx
from parlour.pagination import encode_cursor, time_id_cursor


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
        at, cid = time_id_cursor(cursor)
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
        rows = await _search_panel(conn, read, page, q, account_id=account_id, limit=limit)
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
            sender=last_sender(
                r.last_sender_type,
                user_id=r.last_user_id,
                user_name=r.last_user_name,
                workflow_name=r.last_workflow_name,
            ),
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
    limit: int,
) -> list[Row[Any]]:
    """A page of panel search (the plans and their measurements: contacts/search.py).

    A word is first looked for among the newest ``search.PANEL_FIRST_WALK`` threads. Then
    up to ``search.FEW`` matching contacts have their threads looked up by id. More are
    found by walking the panel index newest first: its entries end with the thread's
    contact and search head, so the walk reads no rows ("martin", 2,175 matches, fills a
    page after 2,625 entries, in about a millisecond). A thread's recency has nothing to do
    with its contact's name, so the walk needs no cap: with more than FEW matches in the
    account, a page is found within a few thousand entries."""
    if search.walk_first(q):
        # Many matches fill a page within the newest few thousand threads: walked first,
        # so the probe, whose trigram lookup reads every match (5-10 ms at a million
        # contacts on PostgreSQL), is left out.
        hits = search.walk(
            page.add_columns(Conversation.search_head, Conversation.contact_id).order_by(
                *_NEWEST_FIRST
            ),
            head="search_head",
            contact_id="contact_id",
            query=q,
            account_id=account_id,
            cap=search.PANEL_FIRST_WALK,
        )
        rows = await read(page.where(Conversation.id.in_(hits.limit(limit + 1))))
        if len(rows) > limit:
            return rows
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
    Conversation.channels,
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
# A thread's newest message (the one its last_message_* columns were copied from), for who
# wrote it: one step back along ix_messages_thread a row, as the thread orders messages.
_LAST = aliased(Message, name="last_message")
_LAST_ID = (
    select(Message.id)
    .where(Message.conversation_id == Conversation.id)
    .order_by(Message.created_at.desc(), Message.id.desc())
    .limit(1)
    .correlate(Conversation)
    .scalar_subquery()
)
_LAST_USER = aliased(User, name="last_user")
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
        _LAST.sender_type.label("last_sender_type"),
        _LAST.user_id.label("last_user_id"),
        _LAST.workflow_name.label("last_workflow_name"),
        _LAST_USER.name.label("last_user_name"),
    )
    .join(Contact, Contact.id == Conversation.contact_id)
    .outerjoin(ReadMarker, _read_marker_of(bindparam("panel_user")))
    .outerjoin(_LAST, _LAST.id == _LAST_ID)
    .outerjoin(_LAST_USER, _LAST_USER.id == _LAST.user_id)
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
