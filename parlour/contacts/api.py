"""Contacts: CRUD, endpoints, notes, merge, avatar, and starting a conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile

from parlour.accounts.deps import CurrentUser
from parlour.contacts import service
from parlour.contacts.schemas import (
    ContactDetailOut,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    EmailIn,
    EmailPatch,
    MergeIn,
    NoteIn,
    NoteOut,
    PhoneIn,
    PhonePatch,
)
from parlour.conversations import merge as conversations_merge
from parlour.conversations import thread as conversations_thread
from parlour.db.deps import TxDep
from parlour.db.tx import Tx
from parlour.files import service as files_service
from parlour.files.api import blob_response, read_upload
from parlour.http import json_response
from parlour.openapi import answers
from parlour.runtime import runtime_of
from parlour.types import PathId

router = APIRouter(prefix="/contacts", tags=["contacts"])


def region(request: Request) -> str:
    return runtime_of(request).settings.default_region


def _served(request: Request, channel: str | None) -> None:
    """A preferred channel must be one this server serves (422 ``unknown_channel``)."""
    if channel is not None:
        runtime_of(request).channels[channel]


async def detail(tx: Tx, contact_id: int, account_id: int) -> ContactDetailOut:
    contact = await service.get_contact(tx, account_id=account_id, contact_id=contact_id)
    notes = await service.list_notes(tx, account_id=account_id, contact_id=contact.id)
    conv_id = await conversations_thread.conversation_id_of(
        tx, account_id=account_id, contact_id=contact.id
    )
    return ContactDetailOut(
        **ContactOut.from_model(contact).model_dump(),
        notes=[NoteOut.from_model(n) for n in notes],
        conversation_id=conv_id,
    )


@router.get("", response_model=ContactPage)
async def list_contacts(
    user: CurrentUser,
    tx: TxDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Every contact of the account, by name. With ``q``: those matching it (name, company,
    email, phone digits; case and accents ignored), the ones whose name starts with it
    first, then the others by name."""
    items, next_cursor = await service.search_contacts(
        tx, account_id=user.account_id, q=q, cursor=cursor, limit=limit
    )
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get("/lookup")
@answers({404: "`not_found`: no contact has this phone or email."})
async def lookup(
    request: Request,
    user: CurrentUser,
    tx: TxDep,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> ContactOut:
    """Exact match by phone (any format; normalised to E.164) or email address."""
    from parlour.contacts.normalize import to_e164
    from parlour.errors import InvalidInput, NotFound

    if phone:
        found = await service.find_by_phone(
            tx, account_id=user.account_id, e164=to_e164(phone, region=region(request))
        )
    elif email:
        found = await service.find_by_email(tx, account_id=user.account_id, address=email)
    else:
        raise InvalidInput("Give a phone or an email.", code="lookup_needs_key")
    if found is None:
        raise NotFound("No contact has this phone or email.")
    return ContactOut.from_model(found)


@router.post("", status_code=201)
async def create_contact(
    body: ContactIn, request: Request, user: CurrentUser, tx: TxDep
) -> ContactDetailOut:
    _served(request, body.preferred_channel)
    contact = await service.create_contact(
        tx, account_id=user.account_id, data=body, region=region(request), author_id=user.id
    )
    # Read before COMMIT: a committed write must not answer an error (a read failing).
    out = await detail(tx, contact.id, user.account_id)
    await tx.commit()
    return out


@router.get("/{contact_id}")
async def get_contact(contact_id: PathId, user: CurrentUser, tx: TxDep) -> ContactDetailOut:
    return await detail(tx, contact_id, user.account_id)


@router.patch("/{contact_id}")
async def update_contact(
    contact_id: PathId, body: ContactPatch, request: Request, user: CurrentUser, tx: TxDep
) -> ContactDetailOut:
    _served(request, body.preferred_channel)
    await service.update_contact(
        tx, account_id=user.account_id, contact_id=contact_id, patch=body, region=region(request)
    )
    # Read before COMMIT: a committed write must not answer an error (a read failing).
    out = await detail(tx, contact_id, user.account_id)
    await tx.commit()
    return out


@router.delete("/{contact_id}", status_code=204, response_class=Response, response_model=None)
async def delete_contact(contact_id: PathId, user: CurrentUser, tx: TxDep) -> None:
    await service.delete_contact(tx, account_id=user.account_id, contact_id=contact_id)
    await tx.commit()


@router.post("/{contact_id}/phones", status_code=201)
async def add_phone(
    contact_id: PathId, body: PhoneIn, request: Request, user: CurrentUser, tx: TxDep
) -> ContactOut:
    contact = await service.add_phone(
        tx, account_id=user.account_id, contact_id=contact_id, item=body, region=region(request)
    )
    await tx.commit()
    return ContactOut.from_model(contact)


@router.patch("/{contact_id}/phones/{phone_id}")
async def update_phone(
    contact_id: PathId, phone_id: PathId, body: PhonePatch, user: CurrentUser, tx: TxDep
) -> ContactOut:
    contact = await service.update_phone(
        tx, account_id=user.account_id, contact_id=contact_id, phone_id=phone_id, patch=body
    )
    await tx.commit()
    return ContactOut.from_model(contact)


@router.delete("/{contact_id}/phones/{phone_id}")
async def remove_phone(
    contact_id: PathId, phone_id: PathId, user: CurrentUser, tx: TxDep
) -> ContactOut:
    contact = await service.remove_phone(
        tx, account_id=user.account_id, contact_id=contact_id, phone_id=phone_id
    )
    await tx.commit()
    return ContactOut.from_model(contact)


@router.post("/{contact_id}/emails", status_code=201)
async def add_email(contact_id: PathId, body: EmailIn, user: CurrentUser, tx: TxDep) -> ContactOut:
    contact = await service.add_email(
        tx, account_id=user.account_id, contact_id=contact_id, item=body
    )
    await tx.commit()
    return ContactOut.from_model(contact)


@router.patch("/{contact_id}/emails/{email_id}")
async def update_email(
    contact_id: PathId, email_id: PathId, body: EmailPatch, user: CurrentUser, tx: TxDep
) -> ContactOut:
    contact = await service.update_email(
        tx, account_id=user.account_id, contact_id=contact_id, email_id=email_id, patch=body
    )
    await tx.commit()
    return ContactOut.from_model(contact)


@router.delete("/{contact_id}/emails/{email_id}")
async def remove_email(
    contact_id: PathId, email_id: PathId, user: CurrentUser, tx: TxDep
) -> ContactOut:
    contact = await service.remove_email(
        tx, account_id=user.account_id, contact_id=contact_id, email_id=email_id
    )
    await tx.commit()
    return ContactOut.from_model(contact)


@router.post("/{contact_id}/notes", status_code=201)
async def add_note(contact_id: PathId, body: NoteIn, user: CurrentUser, tx: TxDep) -> NoteOut:
    note = await service.add_note(
        tx, account_id=user.account_id, contact_id=contact_id, author_id=user.id, body=body.body
    )
    await tx.commit()
    return NoteOut.from_model(note)


@router.delete(
    "/{contact_id}/notes/{note_id}", status_code=204, response_class=Response, response_model=None
)
async def delete_note(contact_id: PathId, note_id: PathId, user: CurrentUser, tx: TxDep) -> None:
    await service.delete_note(
        tx, account_id=user.account_id, contact_id=contact_id, note_id=note_id
    )
    await tx.commit()


@router.post("/{contact_id}/merge")
async def merge_contacts(
    contact_id: PathId, body: MergeIn, user: CurrentUser, tx: TxDep
) -> ContactDetailOut:
    # The threads are merged too: conversations does both halves, threads first.
    await conversations_merge.merge_contacts(
        tx, account_id=user.account_id, keep_id=contact_id, other_id=body.other_contact_id
    )
    # Read before COMMIT: a committed write must not answer an error (a read failing).
    out = await detail(tx, contact_id, user.account_id)
    await tx.commit()
    return out


@router.get("/{contact_id}/avatar", response_class=Response)
async def contact_avatar(contact_id: PathId, user: CurrentUser, tx: TxDep) -> Response:
    contact = await service.get_contact(tx, account_id=user.account_id, contact_id=contact_id)
    return await blob_response(tx, account_id=user.account_id, blob_id=contact.avatar_blob_id)


@router.put("/{contact_id}/avatar")
async def upload_contact_avatar(
    contact_id: PathId, file: UploadFile, request: Request, user: CurrentUser, tx: TxDep
) -> ContactOut:
    contact = await service.get_contact(tx, account_id=user.account_id, contact_id=contact_id)
    data = await read_upload(file, limit=runtime_of(request).settings.max_upload_bytes)
    blob = await files_service.store(
        tx, account_id=user.account_id, data=data, content_type=files_service.sniff_image(data)
    )
    contact.avatar_blob_id = blob.id
    service.emit_contact_updated(tx, contact)
    await tx.commit()
    return ContactOut.from_model(contact)
