"""Request and response shapes for contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from parlour.contacts.models import Contact, ContactEmail, ContactNote, ContactPhone
from parlour.types import ChannelName, Id, Label, LongText, ShortText

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
RawPhone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
RawEmail = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhoneIn(Strict):
    id: Id | None = None
    number: RawPhone
    label: Label = ""
    sms_opt_out: bool | None = None


class EmailIn(Strict):
    id: Id | None = None
    address: RawEmail
    label: Label = ""
    bounced: bool | None = None


class ContactIn(Strict):
    name: ShortText = ""
    company: ShortText = ""
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    preferred_channel: ChannelName | None = None
    note: LongText | None = None


class ContactPatch(Strict):
    """Only the fields given change. ``phones``/``emails`` are the full new lists: items
    with an ``id`` are kept (and updated), items without one are added, the rest removed."""

    name: ShortText | None = None
    company: ShortText | None = None
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    emails: list[EmailIn] | None = Field(default=None, max_length=20)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    preferred_channel: ChannelName | None = None


class PhonePatch(Strict):
    label: Label | None = None
    sms_opt_out: bool | None = None


class EmailPatch(Strict):
    label: Label | None = None
    bounced: bool | None = None


class NoteIn(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class MergeIn(Strict):
    other_contact_id: Id


class PhoneOut(BaseModel):
    id: int
    e164: str
    label: str
    sms_opt_out: bool
    sms_opt_out_at: datetime | None
    sms_opt_out_number: str | None

    @classmethod
    def from_model(cls, p: ContactPhone) -> PhoneOut:
        return cls(
            id=p.id,
            e164=p.e164,
            label=p.label,
            sms_opt_out=p.sms_opt_out,
            sms_opt_out_at=p.sms_opt_out_at,
            sms_opt_out_number=p.sms_opt_out_number,
        )


class EmailOut(BaseModel):
    id: int
    address: str
    label: str
    bounced: bool

    @classmethod
    def from_model(cls, e: ContactEmail) -> EmailOut:
        return cls(id=e.id, address=e.address, label=e.label, bounced=e.bounced)


class ContactOut(BaseModel):
    id: int
    name: str
    company: str
    avatar_url: str | None
    initials: str
    preferred_channel: ChannelName | None
    phones: list[PhoneOut]
    emails: list[EmailOut]
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, c: Contact) -> ContactOut:
        return cls.model_validate(
            contact_item(
                c,
                phones=[PhoneOut.from_model(p).model_dump() for p in c.phones],
                emails=[EmailOut.from_model(e).model_dump() for e in c.emails],
                tags=[t.tag for t in c.tags],
            )
        )


def contact_item(
    row: Any, *, phones: list[dict[str, Any]], emails: list[dict[str, Any]], tags: list[str]
) -> dict[str, Any]:
    """A ContactOut's fields, from a Contact or a row with its columns, and the fields of its
    PhoneOuts and EmailOuts. A list page is 50 of these dicts serialised at once:
    validating 50 models and their endpoints cost as much as the search."""
    return {
        "id": row.id,
        "name": row.name,
        "company": row.company,
        "avatar_url": f"/api/v1/contacts/{row.id}/avatar?v={row.avatar_blob_id}"
        if row.avatar_blob_id
        else None,
        "initials": initials(row.name or (emails[0]["address"] if emails else "?")),
        "preferred_channel": row.preferred_channel,
        "phones": phones,
        "emails": emails,
        "tags": tags,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class NoteOut(BaseModel):
    id: int
    body: str
    author_id: int | None
    created_at: datetime

    @classmethod
    def from_model(cls, n: ContactNote) -> NoteOut:
        return cls(id=n.id, body=n.body, author_id=n.author_id, created_at=n.created_at)


class ContactDetailOut(ContactOut):
    notes: list[NoteOut]
    conversation_id: int | None


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


def initials(name: str) -> str:
    words = [w for w in name.replace("@", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    first = words[0][0]
    last = words[-1][0] if len(words) > 1 else ""
    return (first + last).upper()
