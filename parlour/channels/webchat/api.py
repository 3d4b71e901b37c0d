"""Web-chat widgets."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parlour.accounts.deps import AdminUser, CurrentUser
from parlour.channels.webchat import service
from parlour.channels.webchat.schemas import (
    IdentitySecretOut,
    WidgetIn,
    WidgetOut,
    WidgetPatch,
)
from parlour.conversations.models import Conversation
from parlour.db.deps import TxDep
from parlour.errors import NotFound
from parlour.realtime.events import Event
from parlour.runtime import runtime_of
from parlour.types import PathId

router = APIRouter(prefix="/widgets", tags=["widgets"])


def _url(request: Request) -> str:
    return runtime_of(request).settings.public_url


@router.get("")
async def list_widgets(request: Request, user: CurrentUser, tx: TxDep) -> list[WidgetOut]:
    widgets = await service.list_widgets(tx, account_id=user.account_id)
    return [WidgetOut.from_model(w, public_url=_url(request)) for w in widgets]


@router.post("", status_code=201)
async def add_widget(body: WidgetIn, request: Request, admin: AdminUser, tx: TxDep) -> WidgetOut:
    widget = await service.add_widget(tx, account_id=admin.account_id, data=body)
    await tx.commit()
    return WidgetOut.from_model(widget, public_url=_url(request))


@router.patch("/{widget_id}")
async def update_widget(
    widget_id: PathId, body: WidgetPatch, request: Request, admin: AdminUser, tx: TxDep
) -> WidgetOut:
    widget = await service.update_widget(
        tx, account_id=admin.account_id, widget_id=widget_id, patch=body
    )
    await tx.commit()
    return WidgetOut.from_model(widget, public_url=_url(request))


@router.delete("/{widget_id}", status_code=204, response_class=Response, response_model=None)
async def remove_widget(widget_id: PathId, admin: AdminUser, tx: TxDep) -> None:
    await service.remove_widget(tx, account_id=admin.account_id, widget_id=widget_id)
    await tx.commit()


@router.get("/{widget_id}/identity-secret")
async def identity_secret(widget_id: PathId, admin: AdminUser, tx: TxDep) -> IdentitySecretOut:
    """The key the website signs its visitors' identities with (HMAC-SHA256 of
    ``f"{identifier}:{timestamp}"``, see /widget/v1 visitors). Admins only: whoever
    holds it can chat as any of the website's users."""
    widget = await service.get_widget(tx, account_id=admin.account_id, widget_id=widget_id)
    return IdentitySecretOut(identity_secret=widget.identity_secret)


@router.post("/{widget_id}/identity-secret")
async def rotate_identity_secret(
    widget_id: PathId, admin: AdminUser, tx: TxDep
) -> IdentitySecretOut:
    """A new signing key, for a secret that leaked: identities signed with the old one are
    refused from now on, so the website must switch to the new one."""
    widget = await service.rotate_identity_secret(
        tx, account_id=admin.account_id, widget_id=widget_id
    )
    await tx.commit()
    return IdentitySecretOut(identity_secret=widget.identity_secret)


# An agent typing in a thread: the visitor's chat window shows it (channels/webchat/socket).
typing = APIRouter(tags=["widgets"])


@typing.post(
    "/conversations/{conversation_id}/typing",
    status_code=204,
    response_class=Response,
    response_model=None,
)
async def agent_typing(
    conversation_id: PathId, request: Request, user: CurrentUser, tx: TxDep
) -> None:
    conv = await tx.session.get(Conversation, conversation_id)
    if conv is None or conv.account_id != user.account_id:
        raise NotFound("No such conversation.")
    await runtime_of(request).hub.publish(
        Event(
            type="typing",
            account_id=user.account_id,
            data={"conversation_id": conv.id, "from": "user", "name": user.name},
        )
    )
