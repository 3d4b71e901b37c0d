"""A tenant's widget, its visitors and their tokens, as the widget script holds them."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from parlour.channels.webchat.models import Widget
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from tests.conftest import Tenant

ORIGIN = "https://shop.example"


@dataclass
class Site:
    widget_id: int
    public_token: str
    secret: str


async def site_of(rt: Runtime, tenant: Tenant, **changes: Any) -> Site:
    """The tenant's widget (tests/conftest.py adds one), changed as asked."""
    async with transaction(rt.db, rt.hub) as tx:
        widget = await tx.session.scalar(
            select(Widget).where(Widget.account_id == tenant.account_id)
        )
        assert widget is not None
        for name, value in changes.items():
            setattr(widget, name, value)
        site = Site(widget.id, widget.public_token, widget.identity_secret)
        await tx.commit()
    return site


def vouch(site: Site, identifier: str, *, at: int | None = None, **extra: str) -> dict[str, Any]:
    ts = int(time.time()) if at is None else at
    digest = hmac.new(site.secret.encode(), f"{identifier}:{ts}".encode(), hashlib.sha256)
    return {"identifier": identifier, "timestamp": ts, "hash": digest.hexdigest(), **extra}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Origin": ORIGIN}


async def start(client: httpx.AsyncClient, site: Site, **body: Any) -> dict[str, Any]:
    resp = await client.post(
        f"/widget/v1/{site.public_token}/visitors",
        json={"visitor_token": None, "identity": None, **body},
        headers={"Origin": ORIGIN},
    )
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def say(client: httpx.AsyncClient, token: str, body: str, **extra: Any) -> dict[str, Any]:
    resp = await client.post(
        "/widget/v1/messages", json={"body": body, **extra}, headers=bearer(token)
    )
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def visitor_messages(
    client: httpx.AsyncClient, token: str, after: int | None = None, limit: int = 50
) -> dict[str, Any]:
    query = f"limit={limit}" + ("" if after is None else f"&after={after}")
    resp = await client.get(f"/widget/v1/messages?{query}", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def thread_of_agent(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """The tenant's one thread, as the agents' inbox shows it."""
    resp = await client.get("/api/v1/conversations", headers=tenant.agent_headers)
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert len(items) == 1, items
    out: dict[str, Any] = items[0]
    return out
