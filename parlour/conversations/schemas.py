"""Request and response shapes for the contacts panel, threads and sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from parlour.accounts.models import User
from parlour.contacts.models import Contact
from parlour.contacts.schemas import initials
from parlour.conversations.models import Attachment, Conversation, Message
from parlour.conversations.subjects import Subject
from parlour.types import ChannelName, Id, LongText

MAX_BODY = 20_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


EmailAddress = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=320,
        pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$",
    ),
]


class MessageIn(Strict):
    channel: ChannelName
    body: Annotated[str, StringConstraints(max_length=MAX_BODY)] = ""
    # Email only.
    subject: Subject | None = None
    html: LongText | None = None
    # Email only: more recipients, each shown (Cc) or not (Bcc) to the others.
    cc: list[EmailAddress] = Field(default_factory=list, max_length=50)
    bcc: list[EmailAddress] = Field(default_factory=list, max_length=50)
    # The company side (a number, a mailbox, a widget); omitted means the channel's
    # default. ``phone_number_id``, ``mailbox_id`` and ``widget_id`` are its older names.
    sender_id: Id | None = None
    # The contact side (a phone, an email); omitted means the contact's first usable one.
    # ``contact_phone_id`` and ``contact_email_id`` are its older names.
    recipient_id: Id | None = None
    phone_number_id: Id | None = None
    mailbox_id: Id | None = None
    widget_id: Id | None = None
    contact_phone_id: Id | None = None
    contact_email_id: Id | None = None
    # Uploaded first with POST /attachments (email and web chat).
    attachment_ids: list[Id] = Field(default_factory=list, max_length=10)
    # Echoed back so a client can swap its optimistic copy for the stored message.
    client_id: Annotated[str, StringConstraints(max_length=64)] | None = None


class ConversationPatch(Strict):
    status: Literal["open", "closed"] | None = None
    assignee_id: Id | None = None


class ReadIn(Strict):
    pass


class SenderOut(BaseModel):
    type: Literal["contact", "user", "bot"]
    user_id: int | None = None
    workflow_id: int | None = None
    # The run that sent it (a bot's message), to show it step by step.
    workflow_run_id: int | None = None
    name: str
    avatar_url: str | None = None
    initials: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str | None

    @classmethod
    def from_model(cls, a: Attachment | Any) -> AttachmentOut:
        """``a``: an Attachment or a row of the attachments table."""
        url = f"/api/v1/attachments/{a.id}" if a.blob_id else a.remote_url
        return cls(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, url=url)


class BounceOut(BaseModel):
    """Why a sent email came back, as the bounce notification said."""

    reason: str
    # The RFC 3463 status (e.g. "5.1.1") and the remote server's own words, when given.
    status: str | None = None
    diagnostic: str | None = None
    permanent: bool = True
    received_at: datetime | None = None
    raw_url: str | None = None


class EmailDetailsOut(BaseModel):
    """An email's own parts. The message's ``body`` and ``html`` are its new text and HTML
    (the quoted history cut off); the history is ``quoted_text``, the whole HTML
    ``full_html``."""

    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    # The name in the From header (incoming): who wrote, when not the contact themself.
    from_name: str = ""
    cc: list[str] = Field(default_factory=list)
    # Outgoing only.
    bcc: list[str] = Field(default_factory=list)
    signature: str = ""
    quoted_text: str = ""
    # The whole HTML, quoted history included: what "show quoted" shows.
    full_html: str | None = None
    # Auto-Submitted, X-Autoreply, Precedence: it did not reopen the thread.
    auto_reply: bool = False
    # What was wrong with a malformed mail that was stored as best it could be.
    defects: list[str] = Field(default_factory=list)
    # The mail exactly as it arrived (message/rfc822).
    raw_url: str | None = None
    # ``cid:`` names of inline images → their attachment's URL.
    inline_images: dict[str, str] = Field(default_factory=dict)
    # The HTML loads images from other servers (tracking pixels, too): shown once allowed.
    remote_images: bool = False
    bounce: BounceOut | None = None

    @classmethod
    def of(
        cls, message_id: int, meta: dict[str, Any] | None, attachment_urls: list[str | None]
    ) -> EmailDetailsOut:
        """From ``meta["email"]`` as the email channel stores it; ``attachment_urls``: the
        message's attachments' URLs, in order (``meta["cids"]`` names them by place)."""
        m = meta or {}
        bounce = m.get("bounce")
        return cls(
            message_id=m.get("message_id"),
            in_reply_to=m.get("in_reply_to"),
            references=m.get("references") or [],
            from_name=m.get("from_name") or "",
            cc=m.get("cc") or [],
            bcc=m.get("bcc") or [],
            signature=m.get("signature") or "",
            quoted_text=m.get("quoted_text") or "",
            full_html=m.get("full_html"),
            auto_reply=bool(m.get("auto_reply")),
            defects=m.get("defects") or [],
            raw_url=f"/api/v1/messages/{message_id}/raw" if m.get("raw_blob_id") else None,
            inline_images={
                cid: url
                for cid, at in (m.get("cids") or {}).items()
                if isinstance(at, int)
                and 0 <= at < len(attachment_urls)
                and (url := attachment_urls[at])
            },
            remote_images=bool(m.get("remote_images")),
            bounce=(
                BounceOut(
                    **{k: v for k, v in bounce.items() if k != "raw_blob_id"},
                    raw_url=(
                        f"/api/v1/messages/{message_id}/bounce"
                        if bounce.get("raw_blob_id")
                        else None
                    ),
                )
                if bounce
                else None
            ),
        )


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    direction: Literal["in", "out"]
    channel: ChannelName
    sender: SenderOut
    body: str
    subject: str | None
    html: str | None
    from_address: str | None
    to_address: str | None
    # The endpoints used (see MessageIn), under their generic and their older names.
    sender_id: int | None
    recipient_id: int | None
    phone_number_id: int | None
    mailbox_id: int | None
    widget_id: int | None
    contact_phone_id: int | None
    contact_email_id: int | None
    status: str
    error_code: str | None
    error_message: str | None
    attachments: list[AttachmentOut]
    client_id: str | None
    created_at: datetime
    updated_at: datetime
    # Email only.
    email: EmailDetailsOut | None = None

    @classmethod
    def from_model(
        cls,
        m: Message,
        *,
        names: EndpointNames,
        contact: Contact | Any | None = None,
        user: User | None = None,
    ) -> MessageOut:
        """``contact`` needs only ``id``, ``name`` and ``avatar_blob_id``; ``names``: the
        older names of the message's channel's endpoints. (A page of a thread is built from
        rows instead: conversations.thread_page.list_messages.)"""
        files = [AttachmentOut.from_model(a) for a in m.attachments]
        return cls(
            id=m.id,
            conversation_id=m.conversation_id,
            direction=m.direction,
            channel=m.channel,
            sender=sender_of(m, contact=contact, user=user),
            body=m.body,
            subject=m.subject,
            html=m.html,
            from_address=m.from_address,
            to_address=m.to_address,
            sender_id=m.endpoint_id,
            recipient_id=m.contact_endpoint_id,
            **endpoint_fields(names, m.endpoint_id, m.contact_endpoint_id),
            status=m.status,
            error_code=m.error_code,
            error_message=m.error_message,
            attachments=files,
            client_id=(m.meta or {}).get("client_id"),
            created_at=m.created_at,
            updated_at=m.updated_at,
            email=(
                EmailDetailsOut.of(m.id, (m.meta or {}).get("email"), [f.url for f in files])
                if m.channel == "email"
                else None
            ),
        )


@dataclass(frozen=True)
class EndpointNames:
    """What the API called a channel's endpoints before they were generic (``sender_id``,
    ``recipient_id``): kept for existing clients. A new channel has none."""

    sender: str | None = None
    recipient: str | None = None


# The older endpoint fields of MessageIn and MessageOut: frozen, no channel adds one.
OLDER_SENDER_FIELDS = ("phone_number_id", "mailbox_id", "widget_id")
OLDER_RECIPIENT_FIELDS = ("contact_phone_id", "contact_email_id")


def endpoint_fields(
    names: EndpointNames, sender_id: int | None, recipient_id: int | None
) -> dict[str, int | None]:
    """MessageOut's older endpoint fields: the channel's own set, the others None."""
    out: dict[str, int | None] = dict.fromkeys(OLDER_SENDER_FIELDS + OLDER_RECIPIENT_FIELDS)
    if names.sender:
        out[names.sender] = sender_id
    if names.recipient:
        out[names.recipient] = recipient_id
    return out


def sender_of(m: Any, *, contact: Contact | Any | None, user: User | None) -> SenderOut:
    """Who wrote ``m`` (a Message or a messages row), as the thread shows them."""
    if m.sender_type == "user":
        name = user.name if user else "Former user"
        return SenderOut(
            type="user",
            user_id=m.user_id,
            name=name,
            avatar_url=(
                f"/api/v1/users/{m.user_id}/avatar?v={user.avatar_blob_id}"
                if user and user.avatar_blob_id
                else None
            ),
            initials=initials(name),
        )
    if m.sender_type == "bot":
        name = m.workflow_name or "Automation"
        return SenderOut(
            type="bot",
            workflow_id=m.workflow_id,
            workflow_run_id=m.workflow_run_id,
            name=name,
            initials="🤖",
        )
    name = (contact.name if contact else "") or (m.from_address or "Contact")
    return SenderOut(
        type="contact",
        name=name,
        avatar_url=(
            f"/api/v1/contacts/{contact.id}/avatar?v={contact.avatar_blob_id}"
            if contact and contact.avatar_blob_id
            else None
        ),
        initials=initials(name),
    )


class ContactBrief(BaseModel):
    id: int
    name: str
    avatar_url: str | None
    initials: str

    @classmethod
    def from_model(cls, c: Contact, *, label: str | None = None) -> ContactBrief:
        """``label``: the display name when already known (the panel selects it in SQL)."""
        label = label or (
            c.name
            or (c.phones[0].e164 if c.phones else "")
            or (c.emails[0].address if c.emails else "Unknown")
        )
        return cls.of(id=c.id, name=c.name, label=label, avatar_blob_id=c.avatar_blob_id)

    @classmethod
    def of(cls, *, id: int, name: str, label: str, avatar_blob_id: int | None) -> ContactBrief:
        return cls.model_validate(
            contact_brief(id=id, name=name, label=label, avatar_blob_id=avatar_blob_id)
        )


def contact_brief(*, id: int, name: str, label: str, avatar_blob_id: int | None) -> dict[str, Any]:
    """A ContactBrief's fields: the panel shapes its rows as dicts (see ``panel_item``)."""
    return {
        "id": id,
        "name": label,
        "avatar_url": f"/api/v1/contacts/{id}/avatar?v={avatar_blob_id}"
        if avatar_blob_id
        else None,
        "initials": initials(name or label),
    }


class LastSender(BaseModel):
    """Who wrote a thread's newest message, for the panel's preview: the user asking sees
    "You:" on their own, a teammate's name on a teammate's, a workflow's on a bot's."""

    type: Literal["contact", "user", "bot"]
    user_id: int | None
    # The user's or the workflow's name (as the thread shows them); empty for the contact.
    name: str


def last_sender(
    sender_type: str | None,
    *,
    user_id: int | None,
    user_name: str | None,
    workflow_name: str | None,
) -> dict[str, Any] | None:
    """A LastSender's fields, named as ``sender_of`` names a message's sender."""
    if sender_type == "user":
        return {"type": "user", "user_id": user_id, "name": user_name or "Former user"}
    if sender_type == "bot":
        return {"type": "bot", "user_id": None, "name": workflow_name or "Automation"}
    if sender_type == "contact":
        return {"type": "contact", "user_id": None, "name": ""}
    return None


def last_sender_of(message: Message | None, user: User | None) -> dict[str, Any] | None:
    """The LastSender of a thread whose newest message is ``message`` (None: no message)."""
    if message is None:
        return None
    return last_sender(
        message.sender_type,
        user_id=message.user_id,
        user_name=user.name if user else None,
        workflow_name=message.workflow_name,
    )


class ConversationOut(BaseModel):
    id: int
    contact: ContactBrief
    status: Literal["open", "closed"]
    assignee_id: int | None
    last_message_at: datetime | None
    last_message_preview: str
    last_message_channel: ChannelName | None
    last_message_direction: Literal["in", "out"] | None
    last_message_sender: LastSender | None
    channels: list[ChannelName]
    # For the user asking; events carry 0 and clients keep their own count.
    unread_count: int

    @classmethod
    def from_model(
        cls,
        conv: Conversation | Any,
        contact: Contact | ContactBrief,
        *,
        sender: dict[str, Any] | None,
        unread: int = 0,
        label: str | None = None,
    ) -> ConversationOut:
        """``conv``: a Conversation, or a row with its panel columns; ``sender``: the
        ``last_sender`` of its newest message."""
        brief = (
            contact
            if isinstance(contact, ContactBrief)
            else ContactBrief.from_model(contact, label=label)
        )
        return cls.model_validate(
            panel_item(conv, brief.model_dump(), unread=unread, sender=sender)
        )


def panel_item(
    conv: Conversation | Any,
    contact: dict[str, Any],
    *,
    unread: int,
    sender: dict[str, Any] | None,
) -> dict[str, Any]:
    """A ConversationOut's fields, for ``conv`` (a Conversation or a row with its panel
    columns), ``contact`` (a ContactBrief's fields) and ``sender`` (the ``last_sender`` of
    its newest message). A panel page is 50 of these dicts serialised at once: validating
    50 models and their contacts cost 1-2 ms a page."""
    return {
        "id": conv.id,
        "contact": contact,
        "status": conv.status,
        "assignee_id": conv.assignee_id,
        "last_message_at": conv.last_message_at,
        "last_message_preview": conv.last_message_preview,
        "last_message_channel": conv.last_message_channel,
        "last_message_direction": conv.last_message_direction,
        "last_message_sender": sender,
        "channels": conv.channels.split(),
        "unread_count": unread,
    }


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessagePage(BaseModel):
    """A page of a thread in time order; ``older_cursor`` fetches the page before it."""

    items: list[MessageOut]
    older_cursor: str | None


class EndpointOption(BaseModel):
    id: int
    address: str
    label: str
    usable: bool
    reason: str | None = None
    reason_code: str | None = None


class ChannelOption(BaseModel):
    channel: ChannelName
    available: bool
    reason: str | None
    reason_code: str | None
    # Company side (numbers, mailboxes, widgets) and contact side (phones, emails).
    senders: list[EndpointOption]
    recipients: list[EndpointOption]
    default_sender_id: int | None
    default_recipient_id: int | None
    # For the send path, not the API. ``addressed``: a message goes from one address to
    # another (a number, an email address), both recorded; web chat is not (a visitor's
    # window has no endpoint to choose). ``recipient_problem``: the option is unavailable
    # only because of the contact's endpoints, so a chosen one is judged on its own.
    addressed: bool = Field(default=True, exclude=True)
    recipient_problem: bool = Field(default=False, exclude=True)


class ChannelOptions(BaseModel):
    conversation_id: int | None
    contact_id: int
    channels: list[ChannelOption]


class ViewFilters(Strict):
    status: Literal["open", "closed", "any"] = "open"
    assignee: Literal["me", "none", "any"] | Id = "any"
    channel: ChannelName | None = None
    unread: bool = False
    tag: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None


class ViewIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    filters: ViewFilters = Field(default_factory=ViewFilters)


class ViewOut(BaseModel):
    id: str
    name: str
    builtin: bool
    filters: ViewFilters
    count: int | None = None
