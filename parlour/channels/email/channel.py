"""Email as a channel: the company's mailboxes to the contact's addresses. Every email
sent is an Email Task owned by its author, which the outbox worker executes."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from parlour.accounts.models import Account
from parlour.channels.email import reply_token
from parlour.channels.email import service as mailboxes
from parlour.channels.email.models import Mailbox
from parlour.channels.email.provider import EmailAttachment, EmailProvider, OutgoingEmail
from parlour.contacts.models import Contact
from parlour.conversations.channel import (
    Author,
    Draft,
    LastUsed,
    Outgoing,
    Why,
    configured,
    endpoint,
    option,
    pick,
    sender_deleted,
)
from parlour.conversations.models import Attachment, Conversation, Message
from parlour.conversations.schemas import ChannelOption, EndpointNames
from parlour.conversations.subjects import check_subject, one_line
from parlour.db.tx import Tx
from parlour.errors import InvalidInput
from parlour.files import service as files_service
from parlour.outbox.delivery import PermanentFailure
from parlour.tasks import service as tasks_service

NAME = "email"
ENDPOINT_NAMES = EndpointNames(sender="mailbox_id", recipient="contact_email_id")

NO_MAILBOX = Why("no_mailbox", "No mailbox is set up. Add one in Settings → Mailboxes.")
MAILBOX_DISABLED = Why("mailbox_disabled", "This mailbox is disabled.")
NO_CONTACT_EMAIL = Why("no_contact_email", "This contact has no email address.")
BOUNCED = Why(
    "email_bounced",
    "Mail to this address bounced. Clear the bounce in Communication options to send again.",
)
# How many of the thread's earlier Message-IDs a reply's References carries.
REFERENCES = 10


class EmailChannel:
    name = NAME
    label = "Email"
    endpoint_names = ENDPOINT_NAMES

    def __init__(
        self,
        providers: dict[str, EmailProvider],
        *,
        secret_key: str,
        max_attachment_bytes: int = 18 * 1024 * 1024,
    ) -> None:
        # Keyed by the ``provider`` stored on a mailbox.
        self.providers = providers
        self._secret_key = secret_key
        self._max_attachment_bytes = max_attachment_bytes

    async def sender_ids(self, tx: Tx, *, account_id: int) -> set[int]:
        return set(
            await tx.session.scalars(select(Mailbox.id).where(Mailbox.account_id == account_id))
        )

    async def option(
        self,
        tx: Tx,
        *,
        account_id: int,
        contact: Contact,
        thread: Conversation | None,
        last: LastUsed,
        sender_id: int | None,
    ) -> ChannelOption:
        mailboxes = list(
            await tx.session.scalars(
                select(Mailbox).where(Mailbox.account_id == account_id).order_by(Mailbox.id)
            )
        )
        senders = [
            endpoint(
                id=m.id,
                address=m.address,
                label=m.name,
                unavailable=None if m.enabled else MAILBOX_DISABLED,
            )
            for m in mailboxes
        ]
        recipients = [
            endpoint(
                id=e.id,
                address=e.address,
                label=e.label,
                unavailable=BOUNCED if e.bounced else None,
            )
            for e in contact.emails
        ]
        default_sender = pick(senders, last.sender_id)
        default_recipient = pick(recipients, last.recipient_id)
        why = None
        if default_sender is None:
            why = NO_MAILBOX
        elif not recipients:
            why = NO_CONTACT_EMAIL
        elif default_recipient is None:
            why = BOUNCED
        return option(
            NAME,
            senders=senders,
            recipients=recipients,
            unavailable=why,
            default_sender=default_sender,
            default_recipient=default_recipient,
            recipient_problem=why is BOUNCED,
        )

    async def check(self, tx: Tx, *, thread: Conversation, draft: Draft) -> Draft:
        if draft.attachment_ids:
            total = await tx.session.scalar(
                select(func.coalesce(func.sum(Attachment.size), 0)).where(
                    Attachment.id.in_(draft.attachment_ids),
                    Attachment.account_id == thread.account_id,
                )
            )
            if (total or 0) > self._max_attachment_bytes:
                mb = self._max_attachment_bytes / 1024 / 1024
                raise InvalidInput(
                    f"The files of one email can be at most {mb:.0f} MB together; "
                    "send some in another email.",
                    code="attachments_too_large",
                    details={"field": "attachment_ids"},
                )
        check_subject(draft.subject)
        subject = draft.subject or await _reply_subject(tx, thread)
        if not subject:
            raise InvalidInput(
                "An email needs a subject.", code="subject_required", details={"field": "subject"}
            )
        return replace(draft, subject=subject)

    async def queued(self, tx: Tx, *, message: Message, author: Author, draft: Draft) -> None:
        await tasks_service.create_email_task(tx, message=message, owner_id=author.user_id)
        await _mint_headers(tx, message, cc=list(draft.cc), bcc=list(draft.bcc))

    async def outgoing(self, tx: Tx, *, message: Message) -> Outgoing:
        mailbox = await tx.session.get(Mailbox, message.endpoint_id or 0)
        if (
            mailbox is None
            or mailbox.account_id != message.account_id
            or mailbox.address != message.from_address
        ):
            raise sender_deleted("mailbox")
        email = configured(self.providers, mailbox.provider)
        try:
            relay = mailboxes.relay_of(mailbox, secret_key=self._secret_key)
        except mailboxes.CannotReadPassword as exc:
            raise PermanentFailure(exc.message, code=exc.code) from exc
        account = await tx.session.get(Account, message.account_id)
        domain = mailbox.address.split("@")[-1]
        headers = _headers(message)
        out = OutgoingEmail(
            from_address=mailbox.address,
            from_name=mailbox.name or (account.name if account else ""),
            to=message.to_address or "",
            cc=tuple(headers.get("cc") or ()),
            bcc=tuple(headers.get("bcc") or ()),
            subject=message.subject or "",
            text=message.body,
            html=message.html,
            # Messages queued before Message-IDs were minted keep their old fixed one.
            message_id_header=headers.get("message_id") or f"<parlour-{message.id}@{domain}>",
            in_reply_to=headers.get("in_reply_to"),
            references=list(headers.get("references") or []),
            attachments=await _attachments(tx, message),
            reply_to=reply_token.reply_address(
                mailbox.address, message.conversation_id, secret_key=self._secret_key
            ),
            date=message.created_at,
            automatic=message.sender_type == "bot",
            relay=relay,
        )
        return Outgoing(
            idempotent=email.idempotent, send=lambda key: email.send(out, idempotency_key=key)
        )

    async def failed(self, tx: Tx, *, message: Message, error_code: str) -> None:
        return None


def _headers(message: Message) -> dict[str, Any]:
    headers: dict[str, Any] = (message.meta or {}).get("email") or {}
    return headers


async def _mint_headers(tx: Tx, message: Message, *, cc: list[str], bcc: list[str]) -> None:
    """Fixes the email's Message-ID, and its In-Reply-To and References from the thread's
    earlier emails, when it is queued: every retry sends the same headers. Kept in
    ``meta["email"]``, where an email received into the thread keeps its own Message-ID."""
    domain = (message.from_address or "parlour.invalid").split("@")[-1]
    earlier = await tx.session.scalars(
        select(Message.meta)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.channel == NAME,
            Message.id < message.id,
        )
        .order_by(Message.id.desc())
        .limit(50)
    )
    ids = [i for meta in earlier if (i := ((meta or {}).get("email") or {}).get("message_id"))]
    references = list(reversed(ids[:REFERENCES]))
    message.meta = {
        **(message.meta or {}),
        "email": {
            "message_id": f"<msg-{message.id}.{secrets.token_hex(8)}@{domain}>",
            "in_reply_to": references[-1] if references else None,
            "references": references,
            "cc": cc,
            "bcc": bcc,
        },
    }
    await tx.session.flush()


async def _attachments(tx: Tx, message: Message) -> tuple[EmailAttachment, ...]:
    return tuple(
        [
            EmailAttachment(
                filename=att.filename,
                content_type=att.content_type,
                data=(
                    await files_service.load(tx, account_id=message.account_id, blob_id=att.blob_id)
                ).data,
            )
            for att in message.attachments
            if att.blob_id is not None
        ]
    )


async def _reply_subject(tx: Tx, thread: Conversation) -> str | None:
    """The subject of the thread's newest email, as a reply's ("Re: ...")."""
    last = await tx.session.scalar(
        select(Message.subject)
        .where(
            Message.conversation_id == thread.id,
            Message.channel == NAME,
            Message.subject.is_not(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if not last:
        return None
    # A received mail's subject may hold line breaks (an encoded word can carry any
    # character): ours must not.
    last = one_line(last)
    return last if last.lower().startswith("re:") else f"Re: {last}"
