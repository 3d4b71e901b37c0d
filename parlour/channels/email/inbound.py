"""Mail that comes in, by any of its three ways (the SMTP receiver, IMAP polling, raw MIME
over HTTP), parsed once and stored once, in the thread it belongs to.

Which thread: the sender's, as on every channel — a contact has one thread. The headers
(In-Reply-To, any of References, the signed reply address in To or Cc) matter when the
sender is not yet a contact: a reply from someone the contact forwarded our mail to, or
who was copied, joins the thread it answers, as in Chatwoot and Intercom. Except when
what it answers was the bot's (a workflow's mailing to many): then it is that person's
own mail, and they get their own contact and thread, never another person's (chatwoot
PR #13502).

Every email, in or out, is known by its Message-ID in ``messages.provider_message_id``
(an incoming one prefixed with its account, so that two accounts given the same mail
each keep it): the same mail twice (IMAP and a forward, a relay's retry) stores once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError

from parlour.channels.email import bounces, mime, reply_token
from parlour.channels.email.channel import ENDPOINT_NAMES
from parlour.channels.email.models import Mailbox
from parlour.contacts import service as contacts_service
from parlour.contacts.models import ContactEmail
from parlour.conversations.attachments import clean_filename
from parlour.conversations.events import emit_message_event
from parlour.conversations.inbound import (
    Inbound,
    InboundAttachment,
    ThreadLookup,
    receive_inbound,
    sender_and_thread_by_email,
)
from parlour.conversations.models import Conversation, Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx, transaction
from parlour.errors import InvalidInput, NotFound
from parlour.files import service as files_service
from parlour.runtime import Runtime
from parlour.tasks import service as tasks_service

log = logging.getLogger(__name__)

Via = Literal["smtp", "imap", "http"]
# What a mail became: a message ("stored"), nothing new ("duplicate"), the failure of a
# mail we sent ("bounce"), or nothing at all ("ignored": our own mail coming back).
Outcome = Literal["stored", "duplicate", "bounce", "ignored"]
# The longest provider id a row keeps; a longer Message-ID is kept as its hash.
_MAX_KEY = 200
# Remote images in sanitised HTML: a src (or background) that is not cid: or data:.
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$", re.I)
_REMOTE_IMAGE = re.compile(r"""(?:src|background)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


_ACCOUNTS_MAILBOXES = select(Mailbox).where(
    Mailbox.account_id
    == select(Mailbox.account_id).where(Mailbox.id == bindparam("id")).scalar_subquery()
)


@dataclass(frozen=True)
class Received:
    outcome: Outcome
    # The message stored, or the one a bounce failed, or the earlier copy of a duplicate.
    message_id: int | None


class NoSender(InvalidInput):
    """A mail naming no sender at all (no From, no envelope sender): there is nobody to
    thread it to or answer."""

    code = "no_sender"


async def receive(
    rt: Runtime,
    *,
    mailbox_id: int,
    raw: bytes,
    via: Via,
    envelope_from: str | None = None,
    envelope_to: tuple[str, ...] = (),
) -> Received:
    """Parses and stores one mail that reached ``mailbox_id``. Raises mime.MailTooLarge,
    NoSender, NotFound (no such mailbox)."""
    parsed = mime.parse(raw, max_bytes=rt.settings.email_max_bytes)
    bounce = bounces.detect(raw, parsed)
    for attempt in range(2):
        try:
            async with transaction(rt.db, rt.hub) as tx:
                # The mailbox and its account's others (is the sender one of ours?) at once.
                boxes = list(await tx.session.scalars(_ACCOUNTS_MAILBOXES, {"id": mailbox_id}))
                mailbox = next((b for b in boxes if b.id == mailbox_id), None)
                if mailbox is None:
                    raise NotFound("No such mailbox.")
                received = await store(
                    tx,
                    mailbox=mailbox,
                    ours={b.address for b in boxes},
                    raw=raw,
                    parsed=parsed,
                    bounce=bounce,
                    via=via,
                    secret_key=rt.settings.secret_key,
                    envelope_from=envelope_from,
                    envelope_to=envelope_to,
                )
                await tx.commit()
                return received
        except IntegrityError:
            # Two copies of one mail, or two first mails from one new address, at once
            # (PostgreSQL): the unique indexes refused the later; once more finds the
            # earlier's rows.
            if attempt:
                raise
    raise AssertionError("unreachable")


async def store(
    tx: Tx,
    *,
    mailbox: Mailbox,
    raw: bytes,
    parsed: mime.ParsedMail,
    bounce: bounces.Bounce | None,
    via: Via,
    secret_key: str,
    envelope_from: str | None = None,
    envelope_to: tuple[str, ...] = (),
    ours: set[str] | None = None,
) -> Received:
    """``ours``: the addresses of the account's mailboxes, if already read."""
    account_id = mailbox.account_id
    sender_address = (parsed.sender.address if parsed.sender else "") or (envelope_from or "")
    sender_address = sender_address.strip().lower()
    if ours is None:
        ours = set(
            await tx.session.scalars(
                select(Mailbox.address).where(Mailbox.account_id == account_id)
            )
        )
    if sender_address and reply_token.base_address(sender_address) in ours and bounce is None:
        # Our own mail come back (a copy in the polled folder, a loop): never a message.
        return Received("ignored", None)
    key = message_key(account_id, parsed.message_id, raw)
    usable = bool(sender_address) and "@" in sender_address and len(sender_address) <= 320
    # A known sender, their thread and whether this mail is stored already: one round trip,
    # as for texts. Everyone else needs the looks one by one.
    known = (
        await sender_and_thread_by_email(
            tx,
            account_id=account_id,
            address=sender_address,
            channel="email",
            provider_message_id=key,
        )
        if usable and bounce is None
        else None
    )
    if known is not None:
        if known[2].already_received:
            return Received("duplicate", await _stored_as(tx, key))
    elif (earlier := await _stored_as(tx, key)) is not None:
        return Received("duplicate", earlier)
    raw_blob = await files_service.store(
        tx, account_id=account_id, data=raw, content_type="message/rfc822"
    )
    if bounce is not None:
        return await _bounced(tx, account_id=account_id, bounce=bounce, raw_blob_id=raw_blob.id)
    if not usable:
        raise NoSender("The mail names no usable sender address.", details={"field": "from"})
    thread_id: int | None = None
    lookup: ThreadLookup | None = None
    contact_email_id: int | None
    if known is not None:
        sender, contact_email_id, lookup = known
    else:
        thread_id, answers_bot = await _thread_answered(
            tx,
            account_id=account_id,
            parsed=parsed,
            secret_key=secret_key,
            envelope_to=envelope_to,
        )
        thread = await tx.session.get(Conversation, thread_id) if thread_id else None
        if thread is not None and thread.account_id == account_id and not answers_bot:
            # Someone the contact copied or forwarded to: their reply joins the thread.
            contact = await contacts_service.get_contact(
                tx, account_id=account_id, contact_id=thread.contact_id
            )
            sender = contacts_service.Sender.of(contact)
            contact_email_id = None
        else:
            thread_id = None
            sender, contact_email_id = await contacts_service.create_sender_by_email(
                tx,
                account_id=account_id,
                address=sender_address,
                name=parsed.sender.name if parsed.sender else "",
            )
    attachments, cids = await _attachments(tx, account_id=account_id, parsed=parsed)
    html = parsed.new_html or parsed.html
    inbound = Inbound(
        channel="email",
        body=(parsed.new_text or parsed.text).strip(),
        subject=parsed.subject.strip()[:998] or None,
        html=html,
        html_sanitized=True,
        from_address=sender_address[:320],
        to_address=mailbox.address,
        provider_message_id=key,
        endpoint_id=mailbox.id,
        contact_endpoint_id=contact_email_id,
        reopens=not parsed.auto_reply,
        attachments=attachments,
        meta={
            "email": {
                **details_of(parsed),
                "raw_blob_id": raw_blob.id,
                "cids": cids,
                "via": via,
                "thread_match": thread_id,
            }
        },
    )
    message = await receive_inbound(
        tx, sender=sender, inbound=inbound, names=ENDPOINT_NAMES, known=lookup
    )
    if message is None:  # stored by another transaction since the look above
        return Received("duplicate", None)
    return Received("stored", message.id)


def details_of(parsed: mime.ParsedMail) -> dict[str, Any]:
    """What ``meta["email"]`` keeps of a parsed mail (conversations.schemas.EmailDetailsOut
    shows it): its ids, the parts the thread folds away, and what was wrong with it."""
    html = parsed.new_html or parsed.html
    return {
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references[-50:],
        "from_name": parsed.sender.name if parsed.sender else "",
        "cc": [m.address for m in parsed.cc][:50],
        "signature": parsed.signature,
        "quoted_text": parsed.quoted_text,
        "full_html": parsed.html if parsed.html != html else None,
        "auto_reply": parsed.auto_reply,
        "defects": parsed.defects,
        "remote_images": bool(parsed.html and _REMOTE_IMAGE.search(parsed.html)),
        "date": parsed.date.isoformat() if parsed.date else None,
    }


async def _stored_as(tx: Tx, key: str) -> int | None:
    """The message already stored under this provider id, if any."""
    found: int | None = await tx.session.scalar(
        select(Message.id).where(Message.channel == "email", Message.provider_message_id == key)
    )
    return found


def message_key(account_id: int, message_id: str | None, raw: bytes) -> str:
    """How an incoming mail is known: its account and Message-ID, or the hash of the whole
    mail when it has none (so the same bytes twice still store once)."""
    if not message_id:
        return f"{account_id}:sha256:{hashlib.sha256(raw).hexdigest()}"
    key = f"{account_id}:{message_id}"
    if len(key) > _MAX_KEY:
        return f"{account_id}:sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"
    return key


def emails_by_id(keys: list[str]) -> Select[tuple[str | None, int, str, int]]:
    """The emails stored under these provider ids, with their account. No account_id in
    the WHERE: with it, SQLite's planner (on a database never ANALYZEd) scans the account's
    messages by ix_messages_account_id instead of taking the unique index: 308 ms at a
    million messages (bench/email/thread_lookup.py)."""
    return select(
        Message.provider_message_id,
        Message.conversation_id,
        Message.sender_type,
        Message.account_id,
    ).where(Message.channel == "email", Message.provider_message_id.in_(keys))


def _known_keys(account_id: int, ids: list[str]) -> list[str]:
    """The provider ids of ``ids`` as stored: ours as we minted them (outgoing), received
    ones under the account."""
    keys: list[str] = []
    for i in ids:
        keys.append(i)
        keys.append(message_key(account_id, i, b""))
    return keys


async def _thread_answered(
    tx: Tx,
    *,
    account_id: int,
    parsed: mime.ParsedMail,
    secret_key: str,
    envelope_to: tuple[str, ...],
) -> tuple[int | None, bool]:
    """The thread the mail answers, by its headers or reply address, and whether what it
    answers was the bot's. The direct parent (In-Reply-To) first, then the reply address,
    then the newest of References."""
    ids = [i for i in (parsed.in_reply_to, *reversed(parsed.references)) if i][:60]
    if ids:
        rows = list(await tx.session.execute(emails_by_id(_known_keys(account_id, ids))))
        # Another account's rows are dropped here, not in SQL: see emails_by_id.
        by_key = {r.provider_message_id: r for r in rows if r.account_id == account_id}
        if parsed.in_reply_to:
            parent = by_key.get(parsed.in_reply_to) or by_key.get(
                message_key(account_id, parsed.in_reply_to, b"")
            )
            if parent is not None:
                return parent.conversation_id, parent.sender_type == "bot"
    addresses = [m.address for m in (*parsed.to, *parsed.cc)] + list(envelope_to)
    for address in addresses:
        thread_id = reply_token.thread_of(address, secret_key=secret_key)
        if thread_id is not None:
            return thread_id, False
    if ids:
        for i in ids:
            row = by_key.get(i) or by_key.get(message_key(account_id, i, b""))
            if row is not None:
                return row.conversation_id, row.sender_type == "bot"
    return None, False


async def _attachments(
    tx: Tx, *, account_id: int, parsed: mime.ParsedMail
) -> tuple[tuple[InboundAttachment, ...], dict[str, int]]:
    """The mail's files stored as blobs, and its inline images' ``cid:`` names → their
    place among them."""
    stored: list[InboundAttachment] = []
    cids: dict[str, int] = {}
    for att in parsed.attachments:
        blob = await files_service.store(
            tx,
            account_id=account_id,
            data=att.content,
            content_type=_checked_type(att.content_type, att.content),
        )
        if att.content_id:
            cids[att.content_id] = len(stored)
        ctype = _checked_type(att.content_type, att.content)
        stored.append(
            InboundAttachment(
                filename=clean_filename(att.filename or _default_name(ctype)),
                content_type=ctype,
                size=len(att.content),
                blob_id=blob.id,
            )
        )
    return tuple(stored), cids


def _checked_type(declared: str, data: bytes) -> str:
    """The declared type, unless it claims an image the bytes are not (or SVG, which can
    carry script): then a plain download. Everything is served as a download with
    ``nosniff`` anyway (parlour/files/api.py)."""
    ctype = declared.lower()[:100] if _MIME.match(declared or "") else "application/octet-stream"
    if ctype.startswith("image/"):
        try:
            return files_service.sniff_image(data)
        except InvalidInput:
            return "application/octet-stream"
    return ctype


def _default_name(content_type: str) -> str:
    kind, _, sub = content_type.partition("/")
    return f"{kind or 'file'}.{sub or 'bin'}" if kind == "image" else "attachment"


async def _bounced(
    tx: Tx, *, account_id: int, bounce: bounces.Bounce, raw_blob_id: int
) -> Received:
    """A report that mail we sent did not arrive: that message fails with the reason, and
    the addresses are marked bounced (sending to them is refused until an agent clears
    it). It is not a message from the contact."""
    sent: Message | None = None
    if bounce.original_message_id:
        # By the unique index alone (see _thread_answered), the account checked after.
        sent = await tx.session.scalar(
            select(Message).where(
                Message.channel == "email",
                Message.provider_message_id == bounce.original_message_id,
            )
        )
        if sent is not None and (sent.account_id != account_id or sent.direction != "out"):
            sent = None
    recipients = list(bounce.recipients)
    if sent is not None and not recipients and sent.to_address:
        recipients = [sent.to_address]
    if bounce.permanent and recipients:
        for email in await tx.session.scalars(
            select(ContactEmail).where(
                ContactEmail.account_id == account_id,
                ContactEmail.address.in_([r.lower() for r in recipients]),
            )
        ):
            if not email.bounced:
                email.bounced = True
                contact = await contacts_service.get_contact(
                    tx, account_id=account_id, contact_id=email.contact_id
                )
                contacts_service.emit_contact_updated(tx, contact)
    if sent is None:
        log.info("a bounce for mail not sent from here (recipients %s)", recipients)
        return Received("bounce", None)
    details: dict[str, Any] = {
        "reason": bounce.reason,
        "status": bounce.status,
        "diagnostic": bounce.diagnostic,
        "permanent": bounce.permanent,
        "received_at": utcnow().isoformat(),
        "raw_blob_id": raw_blob_id,
    }
    email_meta = {**((sent.meta or {}).get("email") or {}), "bounce": details}
    sent.meta = {**(sent.meta or {}), "email": email_meta}
    if bounce.permanent:
        sent.status = "failed"
        sent.error_code = "email_bounced"
        sent.error_message = bounce.reason[:500]
        await tasks_service.finish_for_message(tx, message_id=sent.id, error=bounce.reason)
    sent.updated_at = utcnow()
    await tx.session.flush()
    await emit_message_event(tx, "message.updated", sent, names=ENDPOINT_NAMES)
    return Received("bounce", sent.id)
