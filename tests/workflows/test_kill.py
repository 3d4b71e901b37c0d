"""`kill -9` of a real `parlour serve` while a run waits: its timer is a row, so after a
restart that spanned the due time the step fires within seconds, and once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.channels.sms.test_crash import Server
from tests.channels.webchat.conftest import site_of
from tests.conftest import make_tenant
from tests.outbox.test_kill_serve import runtime

WAIT_MINUTES = 0.05  # 3 s


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    s = Server(database_url, "http://127.0.0.1:9")  # no SMS here: web chat only
    yield s
    s.stop()


async def test_a_timer_that_fell_due_while_the_server_was_dead_fires_once_after(
    server: Server, database_url: str
) -> None:
    server.start()  # migrates the database
    async with runtime(database_url) as rt:
        tenant = await make_tenant(rt)
        site = await site_of(rt, tenant)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as c:
        made = await c.post(
            "/api/v1/workflows",
            json={
                "name": "Order status",
                "trigger": {"type": "message_received", "keywords": ["order"]},
                "steps": [
                    {"type": "wait", "minutes": WAIT_MINUTES},
                    {"type": "send_message", "body": "Your order left the roastery."},
                ],
            },
            headers=tenant.admin_headers,
        )
        assert made.status_code == 201, made.text
        visitor = await c.post(
            f"/widget/v1/{site.public_token}/visitors",
            json={"visitor_token": None, "identity": None},
            headers={"Origin": "https://shop.example"},
        )
        token = visitor.json()["visitor_token"]
        said = await c.post(
            "/widget/v1/messages",
            json={"body": "Where is my order?"},
            headers={"Authorization": f"Bearer {token}", "Origin": "https://shop.example"},
        )
        assert said.status_code == 201, said.text
        conversation_id = said.json().get("conversation_id")

        async def waiting() -> bool:
            runs = await c.get(
                f"/api/v1/workflows/{made.json()['id']}/runs", headers=tenant.admin_headers
            )
            return bool(runs.json()) and runs.json()[0]["status"] == "waiting"

        deadline = time.monotonic() + 5
        while not await waiting():
            assert time.monotonic() < deadline, "the run did not start"
            await asyncio.sleep(0.05)
    server.kill()
    await asyncio.sleep(WAIT_MINUTES * 60 + 1)  # the timer falls due while it is dead
    server.start()
    restarted = time.monotonic()
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as c:
        threads = await c.get("/api/v1/conversations", headers=tenant.agent_headers)
        (thread,) = threads.json()["items"]
        assert conversation_id in (None, thread["id"])

        async def bot_messages() -> list[dict[str, object]]:
            page = await c.get(
                f"/api/v1/conversations/{thread['id']}/messages", headers=tenant.agent_headers
            )
            return [m for m in page.json()["items"] if m["sender"]["type"] == "bot"]

        while not await bot_messages():
            assert time.monotonic() - restarted < 10, "the timer did not fire after the restart"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        (bot,) = await bot_messages()
        assert bot["body"] == "Your order left the roastery."
        runs = await c.get(
            f"/api/v1/workflows/{made.json()['id']}/runs", headers=tenant.admin_headers
        )
        assert [r["status"] for r in runs.json()] == ["completed"]
