"""Company mailboxes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from parlour.accounts.deps import AdminUser, CurrentUser
from parlour.channels.email import service
from parlour.channels.email.schemas import MailboxIn, MailboxOut, MailboxPatch
from parlour.db.deps import TxDep
from parlour.types import PathId

router = APIRouter(prefix="/mailboxes", tags=["mailboxes"])


@router.get("")
async def list_mailboxes(user: CurrentUser, tx: TxDep) -> list[MailboxOut]:
    return [
        MailboxOut.from_model(m)
        for m in await service.list_mailboxes(tx, account_id=user.account_id)
    ]


@router.post("", status_code=201)
async def add_mailbox(body: MailboxIn, admin: AdminUser, tx: TxDep) -> MailboxOut:
    box = await service.add_mailbox(tx, account_id=admin.account_id, data=body)
    await tx.commit()
    return MailboxOut.from_model(box)


@router.patch("/{mailbox_id}")
async def update_mailbox(
    mailbox_id: PathId, body: MailboxPatch, admin: AdminUser, tx: TxDep
) -> MailboxOut:
    box = await service.update_mailbox(
        tx, account_id=admin.account_id, mailbox_id=mailbox_id, patch=body
    )
    await tx.commit()
    return MailboxOut.from_model(box)


@router.delete("/{mailbox_id}", status_code=204, response_class=Response, response_model=None)
async def remove_mailbox(mailbox_id: PathId, admin: AdminUser, tx: TxDep) -> None:
    await service.remove_mailbox(tx, account_id=admin.account_id, mailbox_id=mailbox_id)
    await tx.commit()
