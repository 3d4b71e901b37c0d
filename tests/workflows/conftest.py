"""A tenant's workflows, made through the API as an admin would, and the thread a visitor
starts on the tenant's widget (the channel needs no provider)."""

from __future__ import annotations

from typing import Any

import httpx

from parlour.runtime import Runtime
from tests.channels.webchat.conftest import say, site_of, start
from tests.conftest import Tenant, wait_for


async def make_workflow(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/workflows", json={"name": "Front desk", **body}, headers=tenant.admin_headers
    )
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


class Visitor:
    """A visitor of the tenant's website, chatting through the widget."""

    def __init__(self, client: httpx.AsyncClient, tenant: Tenant, token: str) -> None:
        self.client, self.tenant, self.token = client, tenant, token
        self.conversation_id: int | None = None

    @classmethod
    async def arrive(cls, client: httpx.AsyncClient, rt: Runtime, tenant: Tenant) -> Visitor:
        site = await site_of(rt, tenant)
        return cls(client, tenant, (await start(client, site))["visitor_token"])

    async def says(self, body: str) -> None:
        await say(self.client, self.token, body)
        if self.conversation_id is None:
            resp = await self.client.get("/api/v1/conversations", headers=self.tenant.agent_headers)
            mine = [c for c in resp.json()["items"] if c["last_message_preview"] == body]
            assert mine, resp.json()
            self.conversation_id = int(mine[0]["id"])

    async def thread(self) -> list[dict[str, Any]]:
        resp = await self.client.get(
            f"/api/v1/conversations/{self.conversation_id}/messages",
            headers=self.tenant.agent_headers,
        )
        assert resp.status_code == 200, resp.text
        items: list[dict[str, Any]] = resp.json()["items"]
        return items

    async def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in await self.thread() if m["sender"]["type"] == "bot"]

    async def conversation(self) -> dict[str, Any]:
        resp = await self.client.get(
            f"/api/v1/conversations/{self.conversation_id}", headers=self.tenant.agent_headers
        )
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out


async def runs_of(
    client: httpx.AsyncClient, tenant: Tenant, workflow_id: int
) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/workflows/{workflow_id}/runs", headers=tenant.agent_headers)
    assert resp.status_code == 200, resp.text
    out: list[dict[str, Any]] = resp.json()
    return out


async def settled_runs(
    client: httpx.AsyncClient, tenant: Tenant, workflow_id: int, count: int, within: float = 10
) -> list[dict[str, Any]]:
    """The workflow's runs once ``count`` of them have ended."""

    async def ended() -> list[dict[str, Any]] | None:
        runs = await runs_of(client, tenant, workflow_id)
        done = [r for r in runs if r["status"] in ("completed", "cancelled", "failed")]
        return runs if len(done) >= count else None

    found: list[dict[str, Any]] = await wait_for(ended, within=within)
    return found
