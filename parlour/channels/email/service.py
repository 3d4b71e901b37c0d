"""Mailboxes: add, list, change, remove."""

from __future__ import annotations

from sqlalchemy import select

from parlour.channels.email.models import Mailbox
from parlour.channels.email.schemas import MailboxIn, MailboxPatch
from parlour.db.tx import Tx
from parlour.errors import Conflict, NotFound


async def list_mailboxes(tx: Tx, *, account_id: int) -> list[Mailbox]:
    rows = await tx.session.scalars(
        select(Mailbox).where(Mailbox.account_id == account_id).order_by(Mailbox.id)
    )
    return list(rows)


async def get_mailbox(tx: Tx, *, account_id: int, mailbox_id: int) -> Mailbox:
    box = await tx.session.scalar(
        select(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.account_id == account_id)
    )
    if box is None:
        raise NotFound("No such mailbox.")
    return box


async def add_mailbox(tx: Tx, *, account_id: int, data: MailboxIn) -> Mailbox:
    address = data.address.lower()
    if await tx.session.scalar(select(Mailbox.id).where(Mailbox.address == address)):
        raise Conflict(f"{address} is already in use.", code="duplicate_mailbox")
    box = Mailbox(
        account_id=account_id,
        address=address,
        name=data.name,
        provider=data.provider,
        enabled=data.enabled,
    )
    tx.session.add(box)
    await tx.session.flush()
    return box


async def update_mailbox(
    tx: Tx, *, account_id: int, mailbox_id: int, patch: MailboxPatch
) -> Mailbox:
    box = await get_mailbox(tx, account_id=account_id, mailbox_id=mailbox_id)
    if patch.name is not None:
        box.name = patch.name
    if patch.enabled is not None:
        box.enabled = patch.enabled
    await tx.session.flush()
    return box


async def remove_mailbox(tx: Tx, *, account_id: int, mailbox_id: int) -> None:
    box = await get_mailbox(tx, account_id=account_id, mailbox_id=mailbox_id)
    await tx.session.delete(box)
    await tx.session.flush()
