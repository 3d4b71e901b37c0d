"""Merging two contacts, as the thread sees it: one thread afterwards, holding both
contacts' messages and the earlier of each user's read markers (Chatwoot's most asked-for
gap, #258). The contact half (phones, emails, tags, notes) is contacts/merge.py.

Everything happens in the caller's transaction, or nothing does.
"""

from __future__ import annotations

from sqlalchemy import select, update

from parlour.contacts import merge as contacts_merge
from parlour.contacts import service as contacts_service
from parlour.conversations.events import emit_conversation_updated
from parlour.conversations.models import Conversation, Message, ReadMarker
from parlour.conversations.thread import recompute_thread
from parlour.db.tx import Tx


async def merge_contacts(tx: Tx, *, account_id: int, keep_id: int, other_id: int) -> None:
    """Merge contact ``other_id`` into ``keep_id``, their threads first: deleting the other
    contact deletes whatever thread it still has."""
    contacts_merge.check_mergeable(keep_id, other_id)
    for contact_id in (keep_id, other_id):
        await contacts_service.get_contact(tx, account_id=account_id, contact_id=contact_id)
    keep_conv, merged_conv_id = await _merge_threads(tx, account_id, keep_id, other_id)
    await contacts_merge.merge_contacts(
        tx,
        account_id=account_id,
        keep_id=keep_id,
        other_id=other_id,
        merged_conversation_id=merged_conv_id,
    )
    if keep_conv is not None:
        await recompute_thread(tx, keep_conv)
        await tx.session.flush()
        await emit_conversation_updated(tx, keep_conv)


async def _merge_threads(
    tx: Tx, account_id: int, keep_id: int, other_id: int
) -> tuple[Conversation | None, int | None]:
    """The kept contact's thread afterwards, and the id of the thread merged away."""
    keep_conv = await _conversation_of(tx, account_id, keep_id)
    other_conv = await _conversation_of(tx, account_id, other_id)
    if other_conv is None:
        return keep_conv, None
    if keep_conv is None:
        other_conv.contact_id = keep_id
        await tx.session.flush()
        return other_conv, None
    await tx.session.execute(
        update(Message)
        .where(Message.conversation_id == other_conv.id)
        .values(conversation_id=keep_conv.id)
    )
    await _merge_read_markers(tx, keep_conv.id, other_conv.id)
    if other_conv.status == "open":
        keep_conv.status = "open"
    keep_conv.assignee_id = keep_conv.assignee_id or other_conv.assignee_id
    await tx.session.flush()
    # Deleted (and flushed) before its contact: no relationship tells the unit of work the
    # order, and the contact's ON DELETE CASCADE, when it went first, left this DELETE
    # matching no row (an error).
    await tx.session.delete(other_conv)
    await tx.session.flush()
    return keep_conv, other_conv.id


async def _conversation_of(tx: Tx, account_id: int, contact_id: int) -> Conversation | None:
    found: Conversation | None = await tx.session.scalar(
        select(Conversation).where(
            Conversation.account_id == account_id, Conversation.contact_id == contact_id
        )
    )
    return found


async def _merge_read_markers(tx: Tx, keep_conv_id: int, other_conv_id: int) -> None:
    """A user keeps the earlier of their two markers: nothing unread may turn read."""
    others = list(
        await tx.session.scalars(
            select(ReadMarker).where(ReadMarker.conversation_id == other_conv_id)
        )
    )
    for marker in others:
        mine = await tx.session.get(ReadMarker, (keep_conv_id, marker.user_id))
        if mine is not None and marker.last_read_at < mine.last_read_at:
            mine.last_read_at = marker.last_read_at
        await tx.session.delete(marker)
