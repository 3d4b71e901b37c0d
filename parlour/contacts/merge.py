"""Merging two contacts into one, as the CRM sees it: phones, emails, tags and notes move
to the kept contact, and the other is deleted. Their threads are merged first, by
conversations/merge.py, which calls this.

Everything happens in the caller's transaction, or nothing does.
"""

from __future__ import annotations

from sqlalchemy import update

from parlour.contacts import service
from parlour.contacts.models import ContactNote, ContactTag
from parlour.db.tx import Tx
from parlour.errors import InvalidInput
from parlour.realtime.events import Event


def check_mergeable(keep_id: int, other_id: int) -> None:
    if keep_id == other_id:
        raise InvalidInput("A contact cannot be merged with itself.", code="merge_same_contact")


async def merge_contacts(
    tx: Tx,
    *,
    account_id: int,
    keep_id: int,
    other_id: int,
    merged_conversation_id: int | None,
) -> None:
    """``merged_conversation_id``: the other contact's thread, merged into the kept one's
    (told to clients with the deletion, so they can drop it)."""
    check_mergeable(keep_id, other_id)
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
    await tx.session.flush()
    await tx.session.delete(other)
    await tx.session.flush()
    service.reindex(keep)
    await tx.session.flush()

    service.emit_contact_updated(tx, keep)
    tx.emit(
        Event(
            type="contact.deleted",
            account_id=account_id,
            data={
                "contact_id": other_id,
                "merged_into": keep.id,
                "conversation_id": merged_conversation_id,
            },
        )
    )
