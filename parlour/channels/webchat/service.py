"""Web-chat widgets: add, list, change, remove."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from parlour.channels.webchat.models import Widget
from parlour.channels.webchat.schemas import WidgetIn, WidgetPatch
from parlour.db.tx import Tx
from parlour.errors import NotFound


def new_identity_secret() -> str:
    # Hex so that it pastes into any config file; websites sign with its UTF-8 bytes.
    return secrets.token_hex(32)


async def list_widgets(tx: Tx, *, account_id: int) -> list[Widget]:
    rows = await tx.session.scalars(
        select(Widget).where(Widget.account_id == account_id).order_by(Widget.id)
    )
    return list(rows)


async def get_widget(tx: Tx, *, account_id: int, widget_id: int) -> Widget:
    widget = await tx.session.scalar(
        select(Widget).where(Widget.id == widget_id, Widget.account_id == account_id)
    )
    if widget is None:
        raise NotFound("No such widget.")
    return widget


async def add_widget(tx: Tx, *, account_id: int, data: WidgetIn) -> Widget:
    widget = Widget(
        account_id=account_id,
        name=data.name,
        public_token="wgt_" + secrets.token_urlsafe(18),
        enabled=data.enabled,
        allowed_origins=list(data.allowed_origins),
        greeting=data.greeting,
        color=data.color,
        offline_mode=data.offline_mode,
        office_hours={day: span for day, span in data.office_hours.items()},
        timezone=data.timezone,
        identity_secret=new_identity_secret(),
    )
    tx.session.add(widget)
    await tx.session.flush()
    return widget


async def update_widget(tx: Tx, *, account_id: int, widget_id: int, patch: WidgetPatch) -> Widget:
    widget = await get_widget(tx, account_id=account_id, widget_id=widget_id)
    for field in ("name", "enabled", "greeting", "color", "offline_mode", "timezone"):
        value = getattr(patch, field)
        if value is not None:
            setattr(widget, field, value)
    if patch.allowed_origins is not None:
        widget.allowed_origins = list(patch.allowed_origins)
    if patch.office_hours is not None:
        widget.office_hours = {day: span for day, span in patch.office_hours.items()}
    await tx.session.flush()
    return widget


async def rotate_identity_secret(tx: Tx, *, account_id: int, widget_id: int) -> Widget:
    widget = await get_widget(tx, account_id=account_id, widget_id=widget_id)
    widget.identity_secret = new_identity_secret()
    await tx.session.flush()
    return widget


async def remove_widget(tx: Tx, *, account_id: int, widget_id: int) -> None:
    widget = await get_widget(tx, account_id=account_id, widget_id=widget_id)
    await tx.session.delete(widget)
    await tx.session.flush()
