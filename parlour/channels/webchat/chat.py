"""The visitor's side of a web-chat thread: what they see (the thread's web-chat
messages, never another channel's), what they send (an inbound message, like any
channel's), and what they have read."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from parlour.accounts.models import User
from parlour.channels.webchat.channel import ENDPOINT_NAMES, NAME
from parlour.channels.webchat.models import Visitor, VisitorUpload, Widget
from parlour.channels.webchat.visitors import contact_of
from parlour.contacts.models import Contact
from parlour.contacts.service import Sender
from parlour.conversations import outbound
from parlour.conversations.attachments import clean_filename
from parlour.conversations.inbound import Inbound, InboundAttachment, receive_inbound
from parlour.conversations.models import Attachment, Conversation, Message, ReadMarker
from parlour.db.tx import Tx
from parlour.errors import InvalidInput, ParlourError
from parlour.files import service as files_service

MAX_PER_MESSAGE = 10
# What a visitor may upload: pictures and the documents people send support. Anything
# else (HTML, SVG, scripts, archives) is refused: agents open what visitors send.
ALLOWED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
    }
)
_IMAGE = re.compile(r"^image/")
READ_AT_ONCE = 500


class VisitorAttachment(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class VisitorSender(BaseModel):
    type: Literal["contact", "user", "bot"]
    name: str
    avatar_url: str | None = None


class VisitorMessage(BaseModel):
    id: int
    direction: Literal["in", "out"]
    body: str
    sender: VisitorSender
    attachments: list[VisitorAttachment]
    created_at: datetime
    read: bool
    client_id: str | None = None


def _file_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"parlour webchat files v1", "sha256").digest()


def file_signature(secret_key: str, attachment_id: int) -> str:
    return hmac.new(
        _file_key(secret_key), f"att:{attachment_id}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def file_url(public_url: str, secret_key: str, attachment_id: int) -> str:
    """A capability URL (an <img> cannot send the visitor's token): the signature is
    only ever given to the visitor whose thread holds the file."""
    sig = file_signature(secret_key, attachment_id)
    return f"{public_url.rstrip('/')}/widget/v1/files/{attachment_id}/{sig}"


def attachment_out(att: Attachment, *, public_url: str, secret_key: str) -> VisitorAttachment:
    return VisitorAttachment(
        id=att.id,
        filename=att.filename,
        content_type=att.content_type,
        size=att.size,
        url=file_url(public_url, secret_key, att.id),
    )


async def thread_of(tx: Tx, visitor: Visitor) -> Conversation | None:
    if visitor.contact_id is None:
        return None
    conv: Conversation | None = await tx.session.scalar(
        select(Conversation).where(
            Conversation.account_id == visitor.account_id,
            Conversation.contact_id == visitor.contact_id,
        )
    )
    return conv


def _visible(conversation_id: int) -> list[object]:
    return [
        Message.conversation_id == conversation_id,
        Message.channel == NAME,
        Message.direction.in_(("in", "out")),
    ]


class Shaper:
    """Turns messages into VisitorMessages: only what a visitor may see."""

    def __init__(self, *, public_url: str, secret_key: str) -> None:
        self.public_url = public_url
        self.secret_key = secret_key

    async def shape(
        self, tx: Tx, messages: list[Message], *, conv: Conversation
    ) -> list[VisitorMessage]:
        user_ids = {m.user_id for m in messages if m.user_id}
        users = (
            {u.id: u for u in await tx.session.scalars(select(User).where(User.id.in_(user_ids)))}
            if user_ids
            else {}
        )
        contact = await tx.session.get(Contact, conv.contact_id)
        agent_read = await tx.session.scalar(
            select(func.max(ReadMarker.last_read_at)).where(ReadMarker.conversation_id == conv.id)
        )
        out = []
        for m in messages:
            if m.direction == "in":
                sender = VisitorSender(type="contact", name=contact.name if contact else "")
                read = agent_read is not None and m.created_at <= agent_read
            elif m.sender_type == "bot":
                sender = VisitorSender(type="bot", name=m.workflow_name or "Automation")
                read = m.status == "read"
            else:
                user = users.get(m.user_id or 0)
                sender = VisitorSender(type="user", name=user.name if user else "Support")
                read = m.status == "read"
            out.append(
                VisitorMessage(
                    id=m.id,
                    direction="in" if m.direction == "in" else "out",
                    body=m.body,
                    sender=sender,
                    attachments=[
                        attachment_out(a, public_url=self.public_url, secret_key=self.secret_key)
                        for a in m.attachments
                    ],
                    created_at=m.created_at,
                    read=read,
                    client_id=(m.meta or {}).get("client_id"),
                )
            )
        return out


async def list_messages(
    tx: Tx, visitor: Visitor, shaper: Shaper, *, after: int | None, limit: int
) -> tuple[list[VisitorMessage], int]:
    """The ``limit`` messages after ``after``, oldest first; without ``after`` (the window
    opening), the newest ``limit``, still oldest first."""
    conv = await thread_of(tx, visitor)
    if conv is None:
        return [], 0
    query = select(Message).where(*_visible(conv.id))  # type: ignore[arg-type]
    if after is None:
        query = query.order_by(Message.id.desc())
    else:
        query = query.where(Message.id > after).order_by(Message.id)
    rows = list(
        await tx.session.scalars(query.limit(limit).options(selectinload(Message.attachments)))
    )
    rows.sort(key=lambda m: m.id)
    return await shaper.shape(tx, rows, conv=conv), await unread(tx, conv.id)


async def unread(tx: Tx, conversation_id: int) -> int:
    count = await tx.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            *_visible(conversation_id),  # type: ignore[arg-type]
            Message.direction == "out",
            Message.status != "read",
        )
    )
    return int(count or 0)


async def one_message(
    tx: Tx, visitor: Visitor, shaper: Shaper, message_id: int
) -> VisitorMessage | None:
    """The message as this visitor sees it; None if it is not theirs to see."""
    conv = await thread_of(tx, visitor)
    if conv is None:
        return None
    m = await tx.session.scalar(
        select(Message)
        .where(*_visible(conv.id), Message.id == message_id)  # type: ignore[arg-type]
        .options(selectinload(Message.attachments))
    )
    if m is None:
        return None
    return (await shaper.shape(tx, [m], conv=conv))[0]


async def _claim_uploads(tx: Tx, visitor: Visitor, ids: list[int]) -> list[Attachment]:
    if not ids:
        return []
    if len(set(ids)) > MAX_PER_MESSAGE:
        raise InvalidInput(
            f"At most {MAX_PER_MESSAGE} attachments per message.", code="too_many_attachments"
        )
    found = list(
        await tx.session.scalars(
            select(Attachment)
            .join(VisitorUpload, VisitorUpload.attachment_id == Attachment.id)
            .where(
                VisitorUpload.visitor_id == visitor.id,
                Attachment.id.in_(set(ids)),
                Attachment.message_id.is_(None),
            )
            .order_by(Attachment.id)
        )
    )
    missing = sorted(set(ids) - {a.id for a in found})
    if missing:
        raise InvalidInput(
            "Some attachments do not exist or were already sent.",
            code="unknown_attachment",
            details={"attachment_ids": missing},
        )
    return found


async def send(
    tx: Tx,
    widget: Widget,
    visitor: Visitor,
    *,
    body: str,
    client_id: str | None,
    key: str | None,
    attachment_ids: list[int],
) -> int:
    """Store the visitor's message as an inbound web-chat message (live in the agents'
    inbox like any channel's). Returns its id; sent again with the same key (or
    client id), it is stored once and the first one's id returned."""
    if not body.strip() and not attachment_ids:
        raise InvalidInput("Write something, or attach a file.", code="empty_message")
    uploads = await _claim_uploads(tx, visitor, attachment_ids)
    contact = await contact_of(tx, visitor)
    dedupe = key or client_id
    provider_id = f"wv{visitor.id}:{dedupe}"[:200] if dedupe else None
    if provider_id is not None:
        existing = await tx.session.scalar(
            select(Message.id).where(
                Message.channel == NAME, Message.provider_message_id == provider_id
            )
        )
        if existing is not None:
            return int(existing)
    sender = Sender(
        contact_id=contact.id,
        account_id=contact.account_id,
        name=contact.name,
        label=contact.name,
        avatar_blob_id=contact.avatar_blob_id,
    )
    inbound = Inbound(
        channel=NAME,
        body=body,
        from_address=f"visitor-{visitor.id}",
        to_address=widget.name[:320],
        provider_message_id=provider_id,
        endpoint_id=widget.id,
        contact_endpoint_id=visitor.id,
        meta={"client_id": client_id, "visitor_id": visitor.id},
        attachments=tuple(
            InboundAttachment(
                filename=a.filename, content_type=a.content_type, size=a.size, blob_id=a.blob_id
            )
            for a in uploads
        ),
    )
    message = await receive_inbound(tx, sender=sender, inbound=inbound, names=ENDPOINT_NAMES)
    # The message holds copies of the uploads now; the uploads themselves go.
    if uploads:
        await tx.session.execute(
            delete(VisitorUpload).where(VisitorUpload.attachment_id.in_([a.id for a in uploads]))
        )
    for a in uploads:
        await tx.session.delete(a)
    await tx.session.flush()
    assert message is not None  # not delivered before: looked up above
    return message.id


async def mark_read(tx: Tx, visitor: Visitor, *, up_to: int) -> int:
    """The agents' replies up to ``up_to`` become "read" (agents see it, live)."""
    conv = await thread_of(tx, visitor)
    if conv is None:
        return 0
    rows = list(
        await tx.session.scalars(
            select(Message)
            .where(
                *_visible(conv.id),  # type: ignore[arg-type]
                Message.direction == "out",
                Message.id <= up_to,
                Message.status.in_(("sent", "delivered")),
            )
            .order_by(Message.id)
            .limit(READ_AT_ONCE)
        )
    )
    for m in rows:
        await outbound.set_status(tx, message=m, status="read", names=ENDPOINT_NAMES)
    return len(rows)


async def store_upload(
    tx: Tx, visitor: Visitor, *, filename: str, content_type: str, data: bytes
) -> Attachment:
    """A file the visitor will send: kept as an upload only they may send."""
    ctype = content_type.split(";")[0].strip().lower()
    if _IMAGE.match(ctype):
        ctype = files_service.sniff_image(data)  # the bytes say what it is, not the name
    if ctype not in ALLOWED_TYPES:
        raise ParlourError(
            "Send a picture, a PDF or a text file.", code="unsupported_file_type", status=415
        )
    blob = await files_service.store(
        tx, account_id=visitor.account_id, data=data, content_type=ctype
    )
    att = Attachment(
        account_id=visitor.account_id,
        message_id=None,
        uploaded_by=None,
        blob_id=blob.id,
        filename=clean_filename(filename),
        content_type=ctype,
        size=len(data),
    )
    tx.session.add(att)
    await tx.session.flush()
    tx.session.add(VisitorUpload(attachment_id=att.id, visitor_id=visitor.id))
    await tx.session.flush()
    return att
