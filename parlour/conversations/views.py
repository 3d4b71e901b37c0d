"""The contacts panel's views: built-in ones and users' saved filters."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, func, literal, select

from parlour.contacts.models import ContactTag
from parlour.conversations.models import Conversation, ReadMarker
from parlour.conversations.schemas import ViewFilters
from parlour.db.base import UtcDateTime
from parlour.edge import FORBIDDEN

if TYPE_CHECKING:
    # Only named: the channel module imports the schemas these views use.
    from parlour.conversations.channel import Channels

log = logging.getLogger(__name__)

_BEFORE_CHANNELS: dict[str, tuple[str, ViewFilters]] = {
    "all": ("All", ViewFilters(status="open")),
    "mine": ("Mine", ViewFilters(status="open", assignee="me")),
    "unassigned": ("Unassigned", ViewFilters(status="open", assignee="none")),
    "unread": ("Unread", ViewFilters(status="open", unread=True)),
}
_AFTER_CHANNELS: dict[str, tuple[str, ViewFilters]] = {
    "closed": ("Closed", ViewFilters(status="closed")),
}


def stored_filters(view_id: int, raw: dict[str, Any]) -> ViewFilters:
    """A saved view's filters as stored, readable whatever was stored: text kept before the
    edge refused control characters (parlour/edge.py) has them replaced, so the view still
    lists and counts (PostgreSQL cannot compare with a NUL), and filters this release no
    longer reads leave the view listed with the defaults rather than the list unreadable."""
    clean = {k: FORBIDDEN.sub("\ufffd", v) if isinstance(v, str) else v for k, v in raw.items()}
    try:
        return ViewFilters.model_validate(clean)
    except ValidationError as exc:
        log.warning("saved view %s has filters this release cannot read: %s", view_id, exc)
        return ViewFilters()


@cache
def builtin_views(channels: Channels) -> dict[str, tuple[str, ViewFilters]]:
    """The views every user has, by id: one per channel (named by it) among them."""
    return {
        **_BEFORE_CHANNELS,
        **{c.name: (c.label, ViewFilters(status="open", channel=c.name)) for c in channels},
        **_AFTER_CHANNELS,
    }


_EPOCH = literal(datetime(1970, 1, 1, tzinfo=UTC), UtcDateTime())


def unread_condition(user_id: int) -> ColumnElement[bool]:
    """True for conversations with an inbound message newer than the user's read marker."""
    marker = (
        select(ReadMarker.last_read_at)
        .where(ReadMarker.conversation_id == Conversation.id, ReadMarker.user_id == user_id)
        .scalar_subquery()
    )
    return and_(
        Conversation.last_inbound_at.is_not(None),
        Conversation.last_inbound_at > func.coalesce(marker, _EPOCH),
    )


def used_channel(name: str) -> ColumnElement[bool]:
    """True for threads that have used channel ``name`` (``channels`` is space-separated)."""
    return (literal(" ") + Conversation.channels + " ").contains(f" {name} ", autoescape=True)


def conditions(filters: ViewFilters, *, user_id: int) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if filters.status != "any":
        conds.append(Conversation.status == filters.status)
    if filters.assignee == "me":
        conds.append(Conversation.assignee_id == user_id)
    elif filters.assignee == "none":
        conds.append(Conversation.assignee_id.is_(None))
    elif isinstance(filters.assignee, int):
        conds.append(Conversation.assignee_id == filters.assignee)
    if filters.channel:
        conds.append(used_channel(filters.channel))
    if filters.unread:
        conds.append(unread_condition(user_id))
    if filters.tag:
        conds.append(
            Conversation.contact_id.in_(
                select(ContactTag.contact_id).where(ContactTag.tag == filters.tag)
            )
        )
    return conds
