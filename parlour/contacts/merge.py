"""Merging two contacts into one, with one thread (Chatwoot's most asked-for gap, #258).

Everything happens in the caller's transaction: phones, emails, tags, notes, read markers
and messages move to the kept contact, or nothing does.
"""

from __future__ import annotations

from sqlalchemy import select, update

from parlour.contacts import service
from parlour.contacts.models import ContactNote, ContactTag
from parlour.conversations import thread as conversations_thread
from parlour.conversations.events import emit_conversation_updated
from parlour.conversations.models import Conversation, Message, ReadMarker
from parlour.db.tx import Tx
from parlour.errors import InvalidInput
from parlour.realtime.events import Event


async def merge_contacts(tx: Tx, *, account_id: int, keep_id: int, other_id: int) -> None:
    if keep_id == other_id:
        raise InvalidInput("A contact cannot be merged with itself.", code="merge_same_contact")
    keep = await service.get_contact(tx, account_id=account_id, contact_id=keep_id)
    other = await service.get_contact(tx, account_id=account_id, contact_id=other_id)

    keep.name = keep.name or other.name
    keep.company = keep.company or other.company
    keep.preferred_channel = keep.preferred_channel or other.preferred_channel
    keep.avatar_blob_id = keep.avatar_blob_id or other.avatar_blob_id
    # Endpoints are unique per account, so they cannot both exist; move the rows themselves
    # so that messages keep pointing at the endpoint they used.
    for phone in list(other.phones):
        other.phones.remove(phone)
        keep.phones.append(phone)
    for email in list(other.emails):
        other.emails.remove(email)
        keep.emails.append(email)
    have = {t.tag for t in keep.tags}
    for tag in other.tags:
        if tag.tag not in have:
            keep.tags.append(ContactTag(account_id=account_id, tag=tag.tag))
    await tx.session.execute(
        update(ContactNote)
        .where(ContactNote.contact_id == other.id, ContactNote.account_id == account_id)
        .values(contact_id=keep.id)
    )

    keep_conv = await _conversation_of(tx, account_id, keep.id)
    other_conv = await _conversation_of(tx, account_id, other.id)
    if other_conv is not None:
        if keep_conv is None:
            other_conv.contact_id = keep.id
            keep_conv = other_conv
            other_conv = None
        else:
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
    merged_conv_id = other_conv.id if other_conv else None
    if other_conv is not None:
        # Deleted (and flushed) before its contact: no relationship tells the unit of work
        # the order, and the contact's ON DELETE CASCADE, when it went first, left this
        # DELETE matching no row (an error).
        await tx.session.delete(other_conv)
        await tx.session.flush()
    await tx.session.delete(other)
    await tx.session.flush()
    service.reindex(keep)
    if keep_conv is not None:
        await conversations_thread.recompute_thread(tx, keep_conv)
    await tx.session.flush()

    service.emit_contact_updated(tx, keep)
    tx.emit(
        Event(
            type="contact.deleted",
            account_id=account_id,
            data={
                "contact_id": other_id,
                "merged_into": keep.id,
                "conversation_id": merged_conv_id,
            },
        )
    )
    if keep_conv is not None:
        await emit_conversation_updated(tx, keep_conv)


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
