"""Contacts: create, read, update, delete, look up by endpoint, search."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Row,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    inspect,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key

from parlour.contacts import lookalikes, search
from parlour.contacts.models import Contact, ContactEmail, ContactNote, ContactPhone, ContactTag
from parlour.contacts.normalize import normalize_email, search_text, to_e164
from parlour.contacts.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    EmailIn,
    EmailOut,
    EmailPatch,
    PhoneIn,
    PhoneOut,
    PhonePatch,
    contact_item,
)
from parlour.db.base import utcnow
from parlour.db.ids import in_ids
from parlour.db.tx import Tx
from parlour.errors import Conflict, InvalidInput, NotFound
from parlour.pagination import encode_cursor, text_id_cursor
from parlour.realtime.events import Event


def emit_contact_updated(
    tx: Tx, contact: Contact, *, created: bool = False, tags_added: Sequence[str] = ()
) -> None:
    """``created``: the contact is new; ``tags_added``: tags it did not have before. Both
    are for the event log's consumers (workflows' triggers, outgoing webhooks)."""
    data: dict[str, object] = {"contact": ContactOut.from_model(contact).model_dump(mode="json")}
    if created:
        data["created"] = True
    if tags_added:
        data["tags_added"] = list(tags_added)
    tx.emit(Event(type="contact.updated", account_id=contact.account_id, data=data))


def reindex(contact: Contact) -> None:
    contact.search_text = search_text(
        name=contact.name,
        company=contact.company,
        emails=[e.address for e in contact.emails],
        phones=[p.e164 for p in contact.phones],
    )
    contact.updated_at = utcnow()


async def get_contact(tx: Tx, *, account_id: int, contact_id: int) -> Contact:
    # The session's identity map answers repeated lookups within one request (an inbound
    # text looks the contact up several times) without a query each time.
    contact = await tx.session.get(Contact, contact_id)
    if contact is None or contact.account_id != account_id:
        raise NotFound("No such contact.", details={"contact_id": contact_id})
    return contact


async def find_by_phone(tx: Tx, *, account_id: int, e164: str) -> Contact | None:
    found: Contact | None = await tx.session.scalar(
        select(Contact)
        .join(ContactPhone, ContactPhone.contact_id == Contact.id)
        .where(ContactPhone.account_id == account_id, ContactPhone.e164 == e164)
    )
    return found


async def find_by_email(tx: Tx, *, account_id: int, address: str) -> Contact | None:
    found: Contact | None = await tx.session.scalar(
        select(Contact)
        .join(ContactEmail, ContactEmail.contact_id == Contact.id)
        .where(
            ContactEmail.account_id == account_id,
            ContactEmail.address == normalize_email(address),
        )
    )
    return found


@dataclass(frozen=True)
class Sender:
    """The contact behind an inbound message's endpoint, as plain values.

    Provider webhooks are the hottest path in Parlour; they need these few fields, not the
    contact with its phones, emails and tags (four queries as ORM objects).
    """

    contact_id: int
    account_id: int
    name: str
    # What the panel shows for the contact: the name, or else its first phone.
    label: str
    avatar_blob_id: int | None
    # The contact's phone the message came from, when it came by SMS.
    phone_id: int | None = None
    sms_opt_out: bool = False

    @classmethod
    def of(cls, contact: Contact, phone: ContactPhone | None = None) -> Sender:
        first = contact.phones[0].e164 if contact.phones else ""
        return cls(
            contact_id=contact.id,
            account_id=contact.account_id,
            name=contact.name,
            label=contact.name or first or (contact.emails[0].address if contact.emails else ""),
            avatar_blob_id=contact.avatar_blob_id,
            phone_id=phone.id if phone else None,
            sms_opt_out=phone.sms_opt_out if phone else False,
        )

    def as_contact(self) -> Contact:
        """A detached Contact holding just what the message and thread shapes read."""
        return Contact(
            id=self.contact_id,
            account_id=self.account_id,
            name=self.name,
            avatar_blob_id=self.avatar_blob_id,
        )


def sender_by_phone_query() -> Select[tuple[int, bool, int, str, int | None, str]]:
    """The columns of a Sender (see sender_of_row), found by ``account_id`` and ``e164``;
    other queries add their own columns to it to save a round trip."""
    other = aliased(ContactPhone)
    first_phone = (
        select(other.e164)
        .where(other.contact_id == Contact.id)
        .order_by(other.id)
        .limit(1)
        .correlate(Contact)
        .scalar_subquery()
    )
    return (
        select(
            ContactPhone.id,
            ContactPhone.sms_opt_out,
            Contact.id,
            Contact.name,
            Contact.avatar_blob_id,
            first_phone,
        )
        .join(Contact, Contact.id == ContactPhone.contact_id)
        .where(
            ContactPhone.account_id == bindparam("account_id"),
            ContactPhone.e164 == bindparam("e164"),
        )
    )


def sender_of_row(row: Sequence[Any], *, account_id: int, e164: str) -> Sender:
    """The Sender in the first columns of a row of sender_by_phone_query()."""
    phone_id, opt_out, contact_id, name, avatar, first = row[:6]
    return Sender(
        contact_id=contact_id,
        account_id=account_id,
        name=name,
        label=name or first or e164,
        avatar_blob_id=avatar,
        phone_id=phone_id,
        sms_opt_out=bool(opt_out),
    )


async def create_sender_by_phone(tx: Tx, *, account_id: int, e164: str) -> Sender:
    """A new contact for a number no contact has (the caller just looked). Should another
    transaction add the number meanwhile, the unique index refuses this one."""
    contact = await _create_by_phone(tx, account_id, e164)
    return Sender.of(contact, contact.phones[0])


async def sender_by_email(tx: Tx, *, account_id: int, address: str) -> tuple[Sender, int] | None:
    """The contact writing from ``address`` and the id of that address's row; None if no
    contact has it. One query: every incoming mail asks it."""
    address = normalize_email(address)
    row = (
        await tx.session.execute(_SENDER_BY_EMAIL, {"account_id": account_id, "address": address})
    ).first()
    if row is None:
        return None
    return sender_of_email_row(row, account_id=account_id, address=address), row[0]


def sender_of_email_row(row: Sequence[Any], *, account_id: int, address: str) -> Sender:
    """The Sender in the first columns of a row of sender_by_email_query()."""
    _email_id, contact_id, name, avatar, first_phone = row[:5]
    return Sender(
        contact_id=contact_id,
        account_id=account_id,
        name=name,
        label=name or first_phone or address,
        avatar_blob_id=avatar,
    )


def sender_by_email_query() -> Select[tuple[int, int, str, int | None, str]]:
    """The email's row id, then a Sender's columns (see sender_by_email), found by
    ``account_id`` and ``address``; other queries add their own columns to it."""
    first_phone = (
        select(ContactPhone.e164)
        .where(ContactPhone.contact_id == Contact.id)
        .order_by(ContactPhone.id)
        .limit(1)
        .correlate(Contact)
        .scalar_subquery()
    )
    return (
        select(ContactEmail.id, Contact.id, Contact.name, Contact.avatar_blob_id, first_phone)
        .join(Contact, Contact.id == ContactEmail.contact_id)
        .where(
            ContactEmail.account_id == bindparam("account_id"),
            ContactEmail.address == bindparam("address"),
        )
    )


_SENDER_BY_EMAIL = sender_by_email_query()


async def create_sender_by_email(
    tx: Tx, *, account_id: int, address: str, name: str
) -> tuple[Sender, int]:
    """A new contact for an address no contact has (the caller just looked), named as the
    mail's From header names its sender. Should another transaction add the address
    meanwhile, the unique index refuses this one."""
    contact = Contact(
        account_id=account_id, name=name[:200], company="", phones=[], emails=[], tags=[]
    )
    email = ContactEmail(account_id=account_id, address=normalize_email(address), label="")
    contact.emails.append(email)
    reindex(contact)
    tx.session.add(contact)
    await tx.session.flush()
    emit_contact_updated(tx, contact, created=True)
    return Sender.of(contact), email.id


async def _create_by_phone(tx: Tx, account_id: int, e164: str) -> Contact:
    contact = Contact(account_id=account_id, name="", company="", phones=[], emails=[], tags=[])
    contact.phones.append(ContactPhone(account_id=account_id, e164=e164, label="mobile"))
    reindex(contact)
    tx.session.add(contact)
    await tx.session.flush()
    emit_contact_updated(tx, contact, created=True)
    return contact


def _normalise_phones(items: Sequence[PhoneIn], region: str) -> list[tuple[PhoneIn, str]]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        try:
            e164 = to_e164(item.number, region=region)
        except InvalidInput as exc:
            exc.details = {"field": f"phones.{i}.number", "phone": item.number}
            raise
        if e164 in seen:
            raise InvalidInput(
                f"{e164} is listed twice.",
                code="duplicate_phone",
                details={"field": f"phones.{i}.number"},
            )
        seen.add(e164)
        out.append((item, e164))
    return out


def _normalise_emails(items: Sequence[EmailIn]) -> list[tuple[EmailIn, str]]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        address = normalize_email(item.address)
        if address in seen:
            raise InvalidInput(
                f"{address} is listed twice.",
                code="duplicate_email",
                details={"field": f"emails.{i}.address"},
            )
        seen.add(address)
        out.append((item, address))
    return out


async def _check_phones_free(
    tx: Tx, *, account_id: int, e164s: list[str], contact_id: int | None
) -> None:
    if not e164s:
        return
    taken = (
        await tx.session.execute(
            select(ContactPhone.e164, ContactPhone.contact_id).where(
                ContactPhone.account_id == account_id,
                ContactPhone.e164.in_(e164s),
                ContactPhone.contact_id != (contact_id or 0),
            )
        )
    ).first()
    if taken:
        raise Conflict(
            f"{taken[0]} already belongs to another contact.",
            code="duplicate_phone",
            details={"phone": taken[0], "contact_id": taken[1]},
        )


async def _check_emails_free(
    tx: Tx, *, account_id: int, addresses: list[str], contact_id: int | None
) -> None:
    if not addresses:
        return
    taken = (
        await tx.session.execute(
            select(ContactEmail.address, ContactEmail.contact_id).where(
                ContactEmail.account_id == account_id,
                ContactEmail.address.in_(addresses),
                ContactEmail.contact_id != (contact_id or 0),
            )
        )
    ).first()
    if taken:
        raise Conflict(
            f"{taken[0]} already belongs to another contact.",
            code="duplicate_email",
            details={"email": taken[0], "contact_id": taken[1]},
        )


def _non_ascii(column: Any, dialect: str) -> ColumnElement[bool]:
    """Whether a text column holds a character outside ASCII (more bytes than characters)."""
    if dialect == "postgresql":
        return func.octet_length(column) != func.char_length(column)
    return func.length(cast(column, LargeBinary)) != func.length(column)


async def _refuse_lookalikes(tx: Tx, *, account_id: int, addresses: Iterable[str]) -> None:
    """Refuses an address that could be taken for another contact's (see lookalikes.py).
    Only addresses that could be confused are read: those the new one reads as, and the
    account's few with characters outside ASCII."""
    for address in addresses:
        readings = lookalikes.ascii_readings(address)
        near = _non_ascii(ContactEmail.address, tx.dialect)
        if readings:
            near = or_(near, ContactEmail.address.in_(sorted(readings)))
        rows = (
            await tx.session.execute(
                select(ContactEmail.address, ContactEmail.contact_id).where(
                    ContactEmail.account_id == account_id, near
                )
            )
        ).all()
        twin = lookalikes.lookalike_of(address, (row[0] for row in rows))
        if twin is not None:
            owner = next(row[1] for row in rows if row[0] == twin)
            raise Conflict(
                f"{address} looks like {twin}, a contact's email: check the letters.",
                code="lookalike_email",
                details={"email": twin, "contact_id": owner},
            )


def _set_tags(contact: Contact, tags: Sequence[str]) -> None:
    wanted = sorted({t.strip() for t in tags if t.strip()})
    existing = {t.tag: t for t in contact.tags}
    contact.tags = [
        existing.get(t) or ContactTag(account_id=contact.account_id, tag=t) for t in wanted
    ]


async def create_contact(
    tx: Tx, *, account_id: int, data: ContactIn, region: str, author_id: int | None = None
) -> Contact:
    phones = _normalise_phones(data.phones, region)
    emails = _normalise_emails(data.emails)
    await _check_phones_free(
        tx, account_id=account_id, e164s=[e for _, e in phones], contact_id=None
    )
    await _check_emails_free(
        tx, account_id=account_id, addresses=[a for _, a in emails], contact_id=None
    )
    await _refuse_lookalikes(tx, account_id=account_id, addresses=[a for _, a in emails])
    contact = Contact(
        account_id=account_id,
        name=data.name,
        company=data.company,
        preferred_channel=data.preferred_channel,
        phones=[
            ContactPhone(
                account_id=account_id,
                e164=e164,
                label=item.label,
                sms_opt_out=bool(item.sms_opt_out),
                sms_opt_out_at=utcnow() if item.sms_opt_out else None,
            )
            for item, e164 in phones
        ],
        emails=[
            ContactEmail(
                account_id=account_id, address=addr, label=item.label, bounced=bool(item.bounced)
            )
            for item, addr in emails
        ],
        tags=[],
    )
    _set_tags(contact, data.tags)
    reindex(contact)
    tx.session.add(contact)
    await tx.session.flush()
    if data.note:
        tx.session.add(
            ContactNote(
                account_id=account_id, contact_id=contact.id, author_id=author_id, body=data.note
            )
        )
    emit_contact_updated(tx, contact, created=True, tags_added=[t.tag for t in contact.tags])
    return contact


def _apply_phone_flags(phone: ContactPhone, item: PhoneIn | PhonePatch) -> None:
    if item.label is not None:
        phone.label = item.label
    if item.sms_opt_out is not None and item.sms_opt_out != phone.sms_opt_out:
        phone.sms_opt_out = item.sms_opt_out
        phone.sms_opt_out_at = utcnow() if item.sms_opt_out else None
        if not item.sms_opt_out:
            phone.sms_opt_out_number = None


def _apply_email_flags(email: ContactEmail, item: EmailIn | EmailPatch) -> None:
    if item.label is not None:
        email.label = item.label
    if item.bounced is not None:
        email.bounced = item.bounced


async def update_contact(
    tx: Tx, *, account_id: int, contact_id: int, patch: ContactPatch, region: str
) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    if patch.phones is not None:
        contact.phones = await _replaced_phones(tx, contact, patch.phones, region=region)
    if patch.emails is not None:
        contact.emails = await _replaced_emails(tx, contact, patch.emails)
    if patch.name is not None:
        contact.name = patch.name
    if patch.company is not None:
        contact.company = patch.company
    if "preferred_channel" in patch.model_fields_set:
        contact.preferred_channel = patch.preferred_channel
    tags_before = {t.tag for t in contact.tags}
    if patch.tags is not None:
        _set_tags(contact, patch.tags)
    reindex(contact)
    await tx.session.flush()
    added = [t.tag for t in contact.tags if t.tag not in tags_before]
    emit_contact_updated(tx, contact, tags_added=added)
    return contact


async def _replaced_phones(
    tx: Tx, contact: Contact, items: list[PhoneIn], *, region: str
) -> list[ContactPhone]:
    """The contact's phones as ``items`` list them: rows kept by id, or by number."""
    phones = _normalise_phones(items, region)
    await _check_phones_free(
        tx, account_id=contact.account_id, e164s=[e for _, e in phones], contact_id=contact.id
    )
    by_id = {p.id: p for p in contact.phones}
    by_number = {p.e164: p for p in contact.phones}
    new_list: list[ContactPhone] = []
    for i, (item, e164) in enumerate(phones):
        if item.id is not None:
            phone = by_id.get(item.id)
            if phone is None:
                raise InvalidInput(
                    "That phone is not this contact's.",
                    code="unknown_phone",
                    details={"field": f"phones.{i}.id"},
                )
            phone.e164 = e164
        else:
            # Re-adding a number the contact already has keeps its row (and opt-out).
            phone = by_number.get(e164) or ContactPhone(account_id=contact.account_id, e164=e164)
        _apply_phone_flags(phone, item)
        new_list.append(phone)
    return new_list


async def _replaced_emails(tx: Tx, contact: Contact, items: list[EmailIn]) -> list[ContactEmail]:
    """The contact's emails as ``items`` list them: rows kept by id, or by address."""
    emails = _normalise_emails(items)
    await _check_emails_free(
        tx, account_id=contact.account_id, addresses=[a for _, a in emails], contact_id=contact.id
    )
    by_id = {e.id: e for e in contact.emails}
    by_address = {e.address: e for e in contact.emails}
    await _refuse_lookalikes(
        tx, account_id=contact.account_id, addresses=[a for _, a in emails if a not in by_address]
    )
    new_emails: list[ContactEmail] = []
    for i, (item, address) in enumerate(emails):
        if item.id is not None:
            email = by_id.get(item.id)
            if email is None:
                raise InvalidInput(
                    "That email is not this contact's.",
                    code="unknown_email",
                    details={"field": f"emails.{i}.id"},
                )
            email.address = address
        else:
            email = by_address.get(address) or ContactEmail(
                account_id=contact.account_id, address=address
            )
        _apply_email_flags(email, item)
        new_emails.append(email)
    return new_emails


async def add_phone(
    tx: Tx, *, account_id: int, contact_id: int, item: PhoneIn, region: str
) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    ((_, e164),) = _normalise_phones([item], region)
    if any(p.e164 == e164 for p in contact.phones):
        raise Conflict(f"{e164} is already this contact's.", code="duplicate_phone")
    await _check_phones_free(tx, account_id=account_id, e164s=[e164], contact_id=contact.id)
    phone = ContactPhone(account_id=account_id, e164=e164, label="", sms_opt_out=False)
    _apply_phone_flags(phone, item)
    contact.phones.append(phone)
    reindex(contact)
    await tx.session.flush()
    emit_contact_updated(tx, contact)
    return contact


async def add_email(tx: Tx, *, account_id: int, contact_id: int, item: EmailIn) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    ((_, addr),) = _normalise_emails([item])
    if any(e.address == addr for e in contact.emails):
        raise Conflict(f"{addr} is already this contact's.", code="duplicate_email")
    await _check_emails_free(tx, account_id=account_id, addresses=[addr], contact_id=contact.id)
    await _refuse_lookalikes(tx, account_id=account_id, addresses=[addr])
    email = ContactEmail(account_id=account_id, address=addr, label="", bounced=False)
    _apply_email_flags(email, item)
    contact.emails.append(email)
    reindex(contact)
    await tx.session.flush()
    emit_contact_updated(tx, contact)
    return contact


async def update_phone(
    tx: Tx, *, account_id: int, contact_id: int, phone_id: int, patch: PhonePatch
) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    phone = next((p for p in contact.phones if p.id == phone_id), None)
    if phone is None:
        raise NotFound("No such phone on this contact.")
    _apply_phone_flags(phone, patch)
    contact.updated_at = utcnow()
    await tx.session.flush()
    emit_contact_updated(tx, contact)
    return contact


async def update_email(
    tx: Tx, *, account_id: int, contact_id: int, email_id: int, patch: EmailPatch
) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    email = next((e for e in contact.emails if e.id == email_id), None)
    if email is None:
        raise NotFound("No such email on this contact.")
    _apply_email_flags(email, patch)
    contact.updated_at = utcnow()
    await tx.session.flush()
    emit_contact_updated(tx, contact)
    return contact


async def remove_phone(tx: Tx, *, account_id: int, contact_id: int, phone_id: int) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    phone = next((p for p in contact.phones if p.id == phone_id), None)
    if phone is None:
        raise NotFound("No such phone on this contact.")
    contact.phones.remove(phone)
    reindex(contact)
    await tx.session.flush()
    emit_contact_updated(tx, contact)
    return contact


async def remove_email(tx: Tx, *, account_id: int, contact_id: int, email_id: int) -> Contact:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    email = next((e for e in contact.emails if e.id == email_id), None)
    if email is None:
        raise NotFound("No such email on this contact.")
    contact.emails.remove(email)
    reindex(contact)
    await tx.session.flush()
    emit_contact_updated(tx, contact)
    return contact


async def delete_contact(tx: Tx, *, account_id: int, contact_id: int) -> None:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    await tx.session.delete(contact)
    await tx.session.flush()
    tx.emit(Event(type="contact.deleted", account_id=account_id, data={"contact_id": contact_id}))


async def add_note(
    tx: Tx, *, account_id: int, contact_id: int, author_id: int | None, body: str
) -> ContactNote:
    contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    note = ContactNote(account_id=account_id, contact_id=contact.id, author_id=author_id, body=body)
    tx.session.add(note)
    await tx.session.flush()
    return note


async def list_notes(tx: Tx, *, account_id: int, contact_id: int) -> list[ContactNote]:
    rows = await tx.session.scalars(
        select(ContactNote)
        .where(ContactNote.account_id == account_id, ContactNote.contact_id == contact_id)
        .order_by(ContactNote.created_at.desc(), ContactNote.id.desc())
    )
    return list(rows)


async def delete_note(tx: Tx, *, account_id: int, contact_id: int, note_id: int) -> None:
    result = await tx.session.execute(
        delete(ContactNote).where(
            ContactNote.id == note_id,
            ContactNote.contact_id == contact_id,
            ContactNote.account_id == account_id,
        )
    )
    if result.rowcount == 0:
        raise NotFound("No such note.")


async def search_contacts(
    tx: Tx, *, account_id: int, q: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Every contact of the account (not only those in a conversation), by name; with a
    query, its prefix matches first (see contacts/search.py). ContactOut-shaped dicts, and
    the next page's cursor."""
    conn = await tx.session.connection()
    if q and q.strip():
        after = search.search_cursor(cursor) if cursor else None
        found = await _search(conn, q, account_id=account_id, after=after, limit=limit)
        next_cursor = None
        if len(found) > limit:
            found = found[:limit]
            row, tier = found[-1]
            key = row.head_key if tier == 1 else row.name
            next_cursor = encode_cursor(tier, key, row.id)
        return await _shape(conn, [row for row, _ in found]), next_cursor
    start = text_id_cursor(cursor) if cursor else None
    stmt = select(*_LIST_COLUMNS).where(
        Contact.account_id == account_id, *_after_key(Contact.name, Contact.id, start)
    )
    rows = list(await conn.execute(stmt.order_by(*_BY_NAME).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].name, rows[-1].id)
    return await _shape(conn, rows), next_cursor


def _after_key(key: Any, row_id: Any, start: tuple[str, int] | None) -> list[ColumnElement[bool]]:
    """After ``start`` in (key, id) order (a name, or a head key), written so that an index
    on the key serves it."""
    if start is None:
        return []
    return [key >= start[0], or_(key > start[0], row_id > start[1])]


async def _search(
    conn: AsyncConnection,
    q: str,
    *,
    account_id: int,
    after: search.SearchCursor | None,
    limit: int,
) -> list[tuple[Row[Any], int]]:
    """Up to ``limit`` + 1 of the account's contacts matching ``q``, after the cursor, in
    the search's order, each with its tier (1: a prefix match; 2: the others, by name).
    The plans and their measurements: contacts/search.py."""
    dialect = conn.dialect.name
    key = search.head_key(Contact.search_head, dialect=dialect)
    columns = (*_LIST_COLUMNS, key.label("head_key"))
    leads = search.leads(Contact.search_head, q)
    found: list[tuple[Row[Any], int]] = []
    if after is None or after.tier == 1:
        # The prefix matches: one range of the head-key index (migration 0015), in order.
        # A page of them needs nothing else: not even the probe, whose trigram lookup
        # reads every match (5-10 ms at a million contacts on PostgreSQL).
        start = (after.key, after.id) if after is not None else None
        # Where a prefix match is a match, the trigram condition is left out: PostgreSQL
        # combined both indexes' bitmaps and sorted all 11,700 "priya" at a million
        # contacts (34 ms), instead of reading 51 entries of the range in order.
        matched = (
            [] if search.leads_imply_match(q) else [search.text_matches(Contact.search_text, q)]
        )
        prefix = (
            select(*columns)
            .where(
                Contact.account_id == account_id,
                *search.prefix_range(q, key),
                leads,
                *matched,
                *_after_key(key, Contact.id, start),
            )
            .order_by(key, Contact.id)
            .limit(limit + 1)
        )
        found = [(row, 1) for row in await conn.execute(prefix)]
        if len(found) > limit:
            return found
    start = (after.key, after.id) if after is not None and after.tier == 2 else None
    need = limit + 1 - len(found)

    def page(rest: list[Row[Any]]) -> list[tuple[Row[Any], int]]:
        return found + [(row, 2) for row in rest[:need]]

    # Then the other matches, by name. One word ("fernandez") is walked for first: a
    # surname is 1% of contacts at any size, found within the walk, while the probe's
    # trigram lookup reads every match (6-8 ms at a million contacts on PostgreSQL).
    others = _Others(conn, q, columns, account_id=account_id, start=start, limit=limit)
    walked = search.walk_first(q)
    if walked:
        rest = await others.walk()
        if len(rest) >= need:
            return page(rest)
    probe = await search.probe(conn, q, account_id=account_id, with_leads=True)
    if probe.few is not None:
        # Few matches: all of them, sorted by tier then by the tier's key.
        tier = case((leads, 1), else_=2)
        stmt = (
            select(*columns, tier.label("tier"))
            .where(
                Contact.account_id == account_id,
                in_ids(Contact.id, "few", dialect=dialect, value=probe.few),
                *_after_in_tiers(tier, key, after),
            )
            .order_by(
                tier,
                case((leads, key), else_=null()),
                case((leads, null()), else_=Contact.name),
                Contact.id,
            )
            .limit(limit + 1)
        )
        return [(row, row.tier) for row in await conn.execute(stmt)]
    # Not walked for when nearly all matches are prefix matches ("priya"): the others are
    # too rare for it.
    if not walked and not probe.lead_by_name:
        rest = await others.walk()
        if len(rest) >= need:
            return page(rest)
    return page(await others.sort())


def _after_in_tiers(
    tier: ColumnElement[int], key: ColumnElement[str], after: search.SearchCursor | None
) -> list[ColumnElement[bool]]:
    if after is None:
        return []
    if after.tier == 1:
        beyond = and_(tier == 1, *_after_key(key, Contact.id, (after.key, after.id)))
        return [or_(tier == 2, beyond)]
    return [tier == 2, *_after_key(Contact.name, Contact.id, (after.key, after.id))]


@dataclass(frozen=True)
class _Others:
    """The matches of ``q`` that are not prefix matches, by name, after ``start``: up to
    ``limit`` + 1 of them, read one way or another."""

    conn: AsyncConnection
    q: str
    columns: Sequence[Any]
    account_id: int
    start: tuple[str, int] | None
    limit: int

    async def read(self, condition: ColumnElement[bool]) -> list[Row[Any]]:
        """Those that also meet ``condition``."""
        stmt = select(*self.columns).where(
            Contact.account_id == self.account_id,
            ~search.leads(Contact.search_head, self.q),
            condition,
            *_after_key(Contact.name, Contact.id, self.start),
        )
        return list(await self.conn.execute(stmt.order_by(*_BY_NAME).limit(self.limit + 1)))

    async def walk(self) -> list[Row[Any]]:
        """Found by walking the name index, testing the search head it keeps, for at most
        search.WALK_CAP entries ("jo" or "martin" fill a page within a thousand or two).
        Fewer than ``limit`` + 1: the first ones all the same, but there may be more."""
        walked = search.walk(
            select(Contact.id, Contact.name, Contact.search_head)
            .where(
                Contact.account_id == self.account_id,
                *_after_key(Contact.name, Contact.id, self.start),
            )
            .order_by(*_BY_NAME)
            # The walk is in name order, index only: SQLite without statistics for the
            # other indexes on (account_id, ...) could take one of them and sort the account.
            .with_hint(Contact, "INDEXED BY ix_contacts_account_name", "sqlite"),
            head="search_head",
            contact_id="id",
            query=self.q,
            account_id=self.account_id,
            exclude_leading=True,
        )
        return await self.read(Contact.id.in_(walked.limit(self.limit + 1)))

    async def sort(self) -> list[Row[Any]]:
        """All of them looked up and sorted."""
        dialect = self.conn.dialect.name
        if dialect != "postgresql":
            return await self.read(search.matches(self.q, dialect=dialect))
        # PostgreSQL guesses how many contacts a LIKE matches, and walked the name index
        # from A to P, 60,000 rows, instead of asking the trigram index for the 1,200
        # "priya" (115 ms against 5). Materialising the matches makes it ask the index,
        # then sort only those.
        matched = (
            select(Contact.id, Contact.name)
            .where(
                Contact.account_id == self.account_id,
                search.matches(self.q, dialect=dialect),
                ~search.leads(Contact.search_head, self.q),
            )
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
        return await self.read(
            Contact.id.in_(
                select(matched.c.id)
                .where(*_after_key(matched.c.name, matched.c.id, self.start))
                .order_by(matched.c.name, matched.c.id)
                .limit(self.limit + 1)
            )
        )


# The contacts list's order, and its cursor's.
_BY_NAME = (Contact.name, Contact.id)
# A page of contacts is read as rows: 50 contacts with their phones, emails and tags as
# ORM objects took longer to load than the search itself.
_LIST_COLUMNS = (
    Contact.id,
    Contact.name,
    Contact.company,
    Contact.avatar_blob_id,
    Contact.preferred_channel,
    Contact.created_at,
    Contact.updated_at,
)


@functools.cache
def _endpoints_of(dialect: str) -> Select[Any]:
    """The phones, emails and tags of a page of contacts (the parameter ``ids``) in one
    statement (three cost two more round trips a page): each row is its kind ("p", "e" or
    "t"), its contact's id, then the PhoneOut fields, the EmailOut fields or the tag, padded
    with NULLs to the phones' columns. Phones and emails come in id order, tags by name."""
    phone, email, tag = ContactPhone.__table__, ContactEmail.__table__, ContactTag.__table__

    def of(table: Any, kind: str, columns: list[Any]) -> Select[Any]:
        return select(literal(kind).label("kind"), table.c.contact_id, *columns).where(
            in_ids(table.c.contact_id, "ids", dialect=dialect)
        )

    phones = [phone.c[name] for name in PhoneOut.model_fields]
    nulls = [null().cast(c.type).label(f"_{i}") for i, c in enumerate(phones)]
    union = union_all(
        of(phone, "p", phones),
        of(email, "e", [email.c[name] for name in EmailOut.model_fields] + nulls[4:]),
        of(tag, "t", [nulls[0], tag.c.tag, *nulls[2:]]),
    ).subquery("endpoints")
    # Tags have no id: they sort by their text, in the second column.
    return select(union).order_by(union.c.kind, union.c.id, union.c.e164)


async def _shape(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """ContactOut-shaped dicts for a page of ``_LIST_COLUMNS`` rows."""
    if not rows:
        return []
    phone_fields, email_fields = tuple(PhoneOut.model_fields), tuple(EmailOut.model_fields)
    phones: dict[int, list[dict[str, Any]]] = {}
    emails: dict[int, list[dict[str, Any]]] = {}
    tags: dict[int, list[str]] = {}
    found = await conn.execute(_endpoints_of(conn.dialect.name), {"ids": [r.id for r in rows]})
    for kind, contact_id, *values in found.tuples():
        if kind == "p":
            phones.setdefault(contact_id, []).append(dict(zip(phone_fields, values, strict=True)))
        elif kind == "e":
            fields = zip(email_fields, values[: len(email_fields)], strict=True)
            emails.setdefault(contact_id, []).append(dict(fields))
        else:
            tags.setdefault(contact_id, []).append(values[1])
    return [
        contact_item(
            r,
            phones=phones.get(r.id, []),
            emails=emails.get(r.id, []),
            tags=tags.get(r.id, []),
        )
        for r in rows
    ]


async def load_contacts(tx: Tx, contact_ids: Sequence[int]) -> list[Contact]:
    """Loads these contacts with their phones, emails and tags, in four queries however
    many: for a batch of work about many contacts (the workflow engine's tag steps).
    Keep the list while working: the session holds loaded objects only weakly."""
    if not contact_ids:
        return []
    return list(
        await tx.session.scalars(
            select(Contact).where(
                in_ids(Contact.id, "contact_ids", dialect=tx.dialect, value=list(contact_ids))
            )
        )
    )


def _loaded(tx: Tx, contact_id: int) -> Contact | None:
    """The contact if this session has it loaded with its tags: no query needed."""
    contact = tx.session.identity_map.get(identity_key(Contact, contact_id))
    if isinstance(contact, Contact) and "tags" not in inspect(contact).unloaded:
        return contact
    return None


async def set_tag(tx: Tx, *, account_id: int, contact_id: int, tag: str, present: bool) -> bool:
    """Adds (``present``) or removes one tag; returns whether anything changed."""
    contact = _loaded(tx, contact_id)
    if contact is None:
        has = await tx.session.scalar(
            select(ContactTag.tag).where(
                ContactTag.contact_id == contact_id,
                ContactTag.account_id == account_id,
                ContactTag.tag == tag,
            )
        )
        if (has is not None) == present:
            # Already so: one look at the index rather than the whole contact loaded (a
            # tag row says the contact is the account's; without one, make sure it is).
            if has is None:
                await get_contact(tx, account_id=account_id, contact_id=contact_id)
            return False
    if contact is None or contact.account_id != account_id:
        contact = await get_contact(tx, account_id=account_id, contact_id=contact_id)
    tags = [t.tag for t in contact.tags]
    if (tag in tags) == present:
        return False
    _set_tags(contact, [*tags, tag] if present else [t for t in tags if t != tag])
    reindex(contact)
    # Written with the transaction's other changes (a batch's tag steps in a few
    # statements rather than three each), not flushed here.
    emit_contact_updated(tx, contact, tags_added=[tag] if present else ())
    return True
