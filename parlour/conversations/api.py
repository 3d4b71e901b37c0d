"""The contacts panel, threads, sending, and saved views."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile
from sqlalchemy import select

from parlour.accounts.deps import CurrentUser
from parlour.accounts.models import User
from parlour.conversations import attachments, outbound, panel, thread, thread_page
from parlour.conversations.channel import Author, Channels
from parlour.conversations.events import conversation_out
from parlour.conversations.models import SavedView
from parlour.conversations.schemas import (
    AttachmentOut,
    ChannelOptions,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    MessageIn,
    MessageOut,
    MessagePage,
    ViewFilters,
    ViewIn,
    ViewOut,
)
from parlour.conversations.views import builtin_views, stored_filters
from parlour.db.deps import TxDep
from parlour.db.tx import Tx
from parlour.errors import NotFound
from parlour.files.api import as_download, blob_response, read_upload
from parlour.http import json_response
from parlour.openapi import answers
from parlour.runtime import ChannelsDep, runtime_of
from parlour.types import MAX_ID, PathId

router = APIRouter(prefix="/conversations", tags=["conversations"])
views = APIRouter(prefix="/views", tags=["views"])
# A contact's thread and what may be sent to them, under the contact's URL.
contact_threads = APIRouter(prefix="/contacts", tags=["contacts"])


async def view_filters(tx: Tx, *, user: User, view: str, channels: Channels) -> ViewFilters:
    builtin = builtin_views(channels)
    if view in builtin:
        return builtin[view][1]
    saved = None
    if view.isdigit() and len(view) < 19:
        saved = await tx.session.scalar(
            select(SavedView).where(
                SavedView.id == int(view),
                SavedView.account_id == user.account_id,
                (SavedView.user_id == user.id) | SavedView.user_id.is_(None),
            )
        )
    if saved is None:
        raise NotFound(f"No view '{view}'.", code="unknown_view")
    return stored_filters(saved.id, saved.filters)


@router.get("", response_model=ConversationPage)
@answers({404: "`unknown_view`: no built-in or saved view of yours has this id."})
async def list_conversations(
    user: CurrentUser,
    tx: TxDep,
    channels: ChannelsDep,
    view: Annotated[str, Query(max_length=40)] = "all",
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """The contacts panel: contacts in a conversation, newest activity first."""
    filters = await view_filters(tx, user=user, view=view, channels=channels)
    items, next_cursor = await panel.list_panel(
        tx,
        account_id=user.account_id,
        user_id=user.id,
        filters=filters,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: PathId, user: CurrentUser, tx: TxDep
) -> ConversationOut:
    conv = await thread.get_conversation(
        tx, account_id=user.account_id, conversation_id=conversation_id
    )
    return await conversation_out(tx, conv, user_id=user.id)


@router.patch("/{conversation_id}")
async def update_conversation(
    conversation_id: PathId, body: ConversationPatch, user: CurrentUser, tx: TxDep
) -> ConversationOut:
    conv = await thread.update_conversation(
        tx,
        account_id=user.account_id,
        conversation_id=conversation_id,
        status=body.status,
        assignee_id=body.assignee_id,
        assignee_given="assignee_id" in body.model_fields_set,
    )
    # Read before COMMIT: a committed write must not answer an error (a read failing).
    out = await conversation_out(tx, conv, user_id=user.id)
    await tx.commit()
    return out


@router.post(
    "/{conversation_id}/read", status_code=204, response_class=Response, response_model=None
)
async def mark_read(conversation_id: PathId, user: CurrentUser, tx: TxDep) -> None:
    await thread.mark_read(
        tx, account_id=user.account_id, conversation_id=conversation_id, user_id=user.id
    )
    await tx.commit()


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    conversation_id: PathId,
    user: CurrentUser,
    tx: TxDep,
    channels: ChannelsDep,
    before: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    items, older = await thread_page.list_messages(
        tx,
        channels=channels,
        account_id=user.account_id,
        conversation_id=conversation_id,
        before=before,
        limit=limit,
    )
    # Serialised here: FastAPI would validate the whole page again before dumping it.
    return json_response({"items": items, "older_cursor": older})


@router.post("/{conversation_id}/messages", status_code=201)
async def send_message(
    conversation_id: PathId, body: MessageIn, user: CurrentUser, tx: TxDep, channels: ChannelsDep
) -> MessageOut:
    channel = channels[body.channel]
    sent = await outbound.send_message(
        tx,
        channel=channel,
        account_id=user.account_id,
        conversation_id=conversation_id,
        author=Author.user(user),
        draft=outbound.draft_of(body, channel),
    )
    await tx.commit()
    return sent


@router.post("/{conversation_id}/messages/{message_id}/retry")
async def retry_message(
    conversation_id: PathId,
    message_id: PathId,
    user: CurrentUser,
    tx: TxDep,
    channels: ChannelsDep,
) -> MessageOut:
    retried = await outbound.retry_message(
        tx,
        channels=channels,
        account_id=user.account_id,
        conversation_id=conversation_id,
        message_id=message_id,
    )
    await tx.commit()
    return retried


# The composer's choices. ``phone_number_id`` is ``sender_id``'s older name.
SenderQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("/{conversation_id}/channels")
async def channels(
    conversation_id: PathId,
    user: CurrentUser,
    tx: TxDep,
    channels: ChannelsDep,
    sender_id: SenderQuery = None,
    phone_number_id: SenderQuery = None,
) -> ChannelOptions:
    """What the composer may use; ``sender_id`` judges opt-outs against that number."""
    conv = await thread.get_conversation(
        tx, account_id=user.account_id, conversation_id=conversation_id
    )
    return await outbound.channel_options(
        tx,
        channels=channels,
        account_id=user.account_id,
        contact_id=conv.contact_id,
        sender_id=sender_id or phone_number_id,
    )


@contact_threads.post("/{contact_id}/conversation")
async def open_conversation(contact_id: PathId, user: CurrentUser, tx: TxDep) -> ConversationOut:
    """The contact's thread, created if needed: how a new conversation starts."""
    conv = await thread.get_or_open(tx, account_id=user.account_id, contact_id=contact_id)
    # Read before COMMIT: a committed write must not answer an error (a read failing).
    out = await conversation_out(tx, conv, user_id=user.id)
    await tx.commit()
    return out


@contact_threads.get("/{contact_id}/channels")
async def contact_channels(
    contact_id: PathId,
    user: CurrentUser,
    tx: TxDep,
    channels: ChannelsDep,
    sender_id: SenderQuery = None,
    phone_number_id: SenderQuery = None,
) -> ChannelOptions:
    return await outbound.channel_options(
        tx,
        channels=channels,
        account_id=user.account_id,
        contact_id=contact_id,
        sender_id=sender_id or phone_number_id,
    )


@views.get("")
async def list_views(user: CurrentUser, tx: TxDep, channels: ChannelsDep) -> list[ViewOut]:
    out = []
    for view_id, (name, filters) in builtin_views(channels).items():
        count = await panel.count_view(
            tx, account_id=user.account_id, user_id=user.id, filters=filters
        )
        out.append(ViewOut(id=view_id, name=name, builtin=True, filters=filters, count=count))
    saved = await tx.session.scalars(
        select(SavedView)
        .where(
            SavedView.account_id == user.account_id,
            (SavedView.user_id == user.id) | SavedView.user_id.is_(None),
        )
        .order_by(SavedView.name, SavedView.id)
    )
    for v in saved:
        filters = stored_filters(v.id, v.filters)
        count = await panel.count_view(
            tx, account_id=user.account_id, user_id=user.id, filters=filters
        )
        out.append(ViewOut(id=str(v.id), name=v.name, builtin=False, filters=filters, count=count))
    return out


@views.post("", status_code=201)
async def create_view(body: ViewIn, user: CurrentUser, tx: TxDep, channels: ChannelsDep) -> ViewOut:
    if body.filters.channel is not None:
        channels[body.filters.channel]  # refuses a channel this server does not serve
    view = SavedView(
        account_id=user.account_id,
        user_id=user.id,
        name=body.name,
        filters=body.filters.model_dump(mode="json"),
    )
    tx.session.add(view)
    await tx.commit()
    return ViewOut(id=str(view.id), name=view.name, builtin=False, filters=body.filters)


@views.delete("/{view_id}", status_code=204, response_class=Response, response_model=None)
async def delete_view(view_id: PathId, user: CurrentUser, tx: TxDep) -> None:
    view = await tx.session.scalar(
        select(SavedView).where(
            SavedView.id == view_id,
            SavedView.account_id == user.account_id,
            SavedView.user_id == user.id,
        )
    )
    if view is None:
        raise NotFound("No such view.")
    await tx.session.delete(view)
    await tx.commit()


# Files sent with messages: uploaded first, then named in ``attachment_ids`` when sending.
attachment_files = APIRouter(tags=["files"])


@attachment_files.post("/attachments", status_code=201)
async def upload_attachment(
    file: UploadFile, request: Request, user: CurrentUser, tx: TxDep
) -> AttachmentOut:
    """Upload a file to send with a message (``attachment_ids`` when sending)."""
    data = await read_upload(file, limit=runtime_of(request).settings.max_upload_bytes)
    att = await attachments.upload(
        tx,
        account_id=user.account_id,
        user_id=user.id,
        filename=file.filename or "file",
        content_type=file.content_type or "",
        data=data,
    )
    await tx.commit()
    return AttachmentOut.from_model(att)


@attachment_files.get("/attachments/{attachment_id}", response_class=Response)
async def get_attachment(attachment_id: PathId, user: CurrentUser, tx: TxDep) -> Response:
    att = await attachments.get_attachment(
        tx, account_id=user.account_id, attachment_id=attachment_id
    )
    blob = await blob_response(tx, account_id=user.account_id, blob_id=att.blob_id)
    return as_download(blob, att.filename)
