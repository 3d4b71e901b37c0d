"""Company mailboxes."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from parlour.accounts.deps import AdminUser, CurrentUser, require_admin, user_of_request
from parlour.accounts.models import User
from parlour.channels.email import service
from parlour.channels.email.provider import OutgoingEmail
from parlour.channels.email.schemas import (
    MailboxIn,
    MailboxOut,
    MailboxPatch,
    SendTestIn,
    SendTestOut,
)
from parlour.channels.email.smtp import SmtpEmail
from parlour.conversations.models import Message
from parlour.db.deps import TxDep
from parlour.db.tx import Tx, transaction
from parlour.errors import Conflict, NotFound, ParlourError
from parlour.files.api import as_download, blob_response
from parlour.openapi import answers
from parlour.outbox.delivery import DeliveryError, TransientFailure
from parlour.runtime import runtime_of
from parlour.types import PathId

router = APIRouter(prefix="/mailboxes", tags=["mailboxes"])


@router.get("")
async def list_mailboxes(user: CurrentUser, tx: TxDep) -> list[MailboxOut]:
    return [
        MailboxOut.from_model(m, admin=user.role == "admin")
        for m in await service.list_mailboxes(tx, account_id=user.account_id)
    ]


@router.post("", status_code=201)
async def add_mailbox(body: MailboxIn, request: Request, admin: AdminUser, tx: TxDep) -> MailboxOut:
    box = await service.add_mailbox(
        tx,
        account_id=admin.account_id,
        data=body,
        secret_key=runtime_of(request).settings.secret_key,
    )
    await tx.commit()
    return MailboxOut.from_model(box)


@router.patch("/{mailbox_id}")
async def update_mailbox(
    mailbox_id: PathId, body: MailboxPatch, request: Request, admin: AdminUser, tx: TxDep
) -> MailboxOut:
    box = await service.update_mailbox(
        tx,
        account_id=admin.account_id,
        mailbox_id=mailbox_id,
        patch=body,
        secret_key=runtime_of(request).settings.secret_key,
    )
    await tx.commit()
    return MailboxOut.from_model(box)


@router.delete("/{mailbox_id}", status_code=204, response_class=Response, response_model=None)
async def remove_mailbox(mailbox_id: PathId, admin: AdminUser, tx: TxDep) -> None:
    await service.remove_mailbox(tx, account_id=admin.account_id, mailbox_id=mailbox_id)
    await tx.commit()


# The test email authenticates in a read-only transaction: on SQLite a write transaction
# holds the one write lock, which must never wait on a mail server's answer. It takes no
# Idempotency-Key (a second test email is harmless).
@answers(401, 403)
async def _reading_admin(request: Request) -> User:
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        return require_admin(await user_of_request(request, tx))


@router.post("/{mailbox_id}/test-email")
@answers(
    {409: "`no_relay`: the mailbox has no outgoing mail server."},
    {502: "`relay_refused` (the relay's code and text in `details`), `relay_unreachable`."},
)
async def send_test_email(
    mailbox_id: PathId,
    body: SendTestIn,
    request: Request,
    admin: Annotated[User, Depends(_reading_admin)],
) -> SendTestOut:
    """Sends a test email through the mailbox's relay and answers what the relay said.
    Refused: 502 ``relay_refused`` (its code and text in ``details``); not reached: 502
    ``relay_unreachable``."""
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        box = await service.get_mailbox(tx, account_id=admin.account_id, mailbox_id=mailbox_id)
        relay = service.relay_of(box, secret_key=rt.settings.secret_key)
    smtp = request.app.state.providers.email.get("smtp")
    if relay is None or not isinstance(smtp, SmtpEmail):
        raise Conflict("This mailbox has no outgoing mail server.", code="no_relay")
    domain = box.address.split("@")[-1]
    test = OutgoingEmail(
        from_address=box.address,
        from_name=box.name,
        to=body.to,
        subject="Parlour test email",
        text=f"This is a test email from {box.address}, sent by Parlour through {relay.host}.",
        html=None,
        message_id_header=f"<test.{secrets.token_hex(8)}@{domain}>",
        relay=relay,
    )
    try:
        reply = await smtp.submit(relay, test)
    except DeliveryError as exc:
        code = "relay_unreachable" if exc.code == "smtp_unreachable" else "relay_refused"
        raise ParlourError(
            exc.message,
            code=code,
            status=502,
            details={"smtp_error": exc.code, "temporary": isinstance(exc, TransientFailure)},
        ) from exc
    return SendTestOut(smtp_code=reply.code, smtp_message=reply.message)


messages = APIRouter(prefix="/messages", tags=["mailboxes"])


@messages.get("/{message_id}/raw", response_class=Response)
async def raw_email(message_id: PathId, user: CurrentUser, tx: TxDep) -> Response:
    """The email exactly as it arrived (message/rfc822), as a download."""
    message = await _email(tx, account_id=user.account_id, message_id=message_id)
    blob_id = ((message.meta or {}).get("email") or {}).get("raw_blob_id")
    resp = await blob_response(tx, account_id=user.account_id, blob_id=blob_id)
    return as_download(resp, f"message-{message_id}.eml")


@messages.get("/{message_id}/bounce", response_class=Response)
async def bounce_report(message_id: PathId, user: CurrentUser, tx: TxDep) -> Response:
    """The bounce report that failed this sent email (message/rfc822), as a download."""
    message = await _email(tx, account_id=user.account_id, message_id=message_id)
    bounce = ((message.meta or {}).get("email") or {}).get("bounce") or {}
    resp = await blob_response(tx, account_id=user.account_id, blob_id=bounce.get("raw_blob_id"))
    return as_download(resp, f"bounce-{message_id}.eml")


async def _email(tx: Tx, *, account_id: int, message_id: int) -> Message:
    message = await tx.session.scalar(
        select(Message).where(
            Message.id == message_id, Message.account_id == account_id, Message.channel == "email"
        )
    )
    if message is None:
        raise NotFound("No such email.")
    return message
