"""Redis stopped under two `parlour serve` processes: writes answer as if nothing
happened, and a socket on the other process receives every event once, in order, soon
after Redis returns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from tests.services import RedisServer, Serve, parlour, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(postgres_url: str, redis_server: RedisServer) -> dict[str, str]:
    return {
        **os.environ,
        "PARLOUR_DATABASE_URL": postgres_url,
        "PARLOUR_REDIS_URL": redis_server.url,
        "PARLOUR_REDIS_PREFIX": f"parlour-test-{uuid.uuid4().hex[:8]}:",
        "PARLOUR_LOG_LEVEL": "warning",
        "PARLOUR_WORKER_POLL_SECONDS": "0.2",
    }


def make_admin(env: dict[str, str]) -> str:
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    parlour(
        *("user", "create", "--email", email, "--password", "redis went away!"),
        *("--role", "admin", "--account", f"Outage {email}"),
        env=env,
    )
    return parlour("token", "create", "--email", email, env=env)


def test_writes_answer_201_through_a_redis_outage_and_the_other_socket_misses_nothing(
    env: dict[str, str], redis_server: RedisServer
) -> None:
    a, b = Serve(env), Serve(env, "--no-worker")
    try:
        a.wait_up()
        b.wait_up()
        token = make_admin(env)
        headers = {"Authorization": f"Bearer {token}"}
        asyncio.run(_scenario(a, b, headers, token, redis_server))
        # One line when Redis went and one when it came back, not one per request.
        for server in (a, b):
            assert server.output().count("Traceback") == 0, server.output()[-3000:]
    finally:
        a.stop()
        b.stop()


async def _scenario(
    a: Serve, b: Serve, headers: dict[str, str], token: str, redis_server: RedisServer
) -> None:
    async with httpx.AsyncClient(base_url=a.base, headers=headers, timeout=10) as api:
        number = await api.post(
            "/api/v1/phone-numbers",
            json={"number": f"+1650555{uuid.uuid4().int % 9000 + 1000}"},
        )
        assert number.status_code == 201, number.text
        contact = await api.post(
            "/api/v1/contacts", json={"name": "Outage", "phones": [{"number": "+16505550142"}]}
        )
        assert contact.status_code == 201, contact.text
        conv = await api.post(f"/api/v1/contacts/{contact.json()['id']}/conversation")
        assert conv.status_code in (200, 201), conv.text
        messages = f"/api/v1/conversations/{conv.json()['id']}/messages"

        async with websockets.connect(f"ws://127.0.0.1:{b.port}/api/v1/ws?token={token}") as ws:
            hello = json.loads(await ws.recv())
            received: list[dict[str, Any]] = []
            sent_ids: list[int] = []

            async def send(n: int, label: str) -> None:
                for i in range(n):
                    r = await api.post(messages, json={"channel": "sms", "body": f"{label} {i}"})
                    assert r.status_code == 201, (label, i, r.status_code, r.text)
                    sent_ids.append(r.json()["id"])

            latest = 1 << 62  # known once the sends are done
            all_in = asyncio.Event()

            async def listen() -> None:
                while True:
                    received.append(json.loads(await ws.recv()))
                    if received[-1].get("seq", 0) >= latest:
                        all_in.set()

            listener = asyncio.create_task(listen())
            await send(5, "before")
            redis_server.stop()
            await send(20, "during")
            r = await api.post("/api/v1/contacts", json={"name": "Made meanwhile", "phones": []})
            assert r.status_code == 201, r.text
            await asyncio.sleep(1)
            redis_server.start()
            back = time.monotonic()
            await send(5, "after")

            async with websockets.connect(
                f"ws://127.0.0.1:{a.port}/api/v1/ws?token={token}"
            ) as other:
                latest = json.loads(await other.recv())["seq"]

            def seqs() -> list[int]:
                return [e["seq"] for e in received if e.get("seq")]

            if seqs() and seqs()[-1] >= latest:
                all_in.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), timeout=10)
            caught_up = time.monotonic() - back
            listener.cancel()

    # The worker goes on sending meanwhile: delivery updates numbered after ``latest`` may
    # arrive before the listener stops, and are not what this checks.
    numbers = [n for n in seqs() if n <= latest]
    assert numbers == list(range(hello["seq"] + 1, latest + 1)), "missed or doubled events"
    created = {e["data"]["message"]["id"] for e in received if e["type"] == "message.created"}
    assert set(sent_ids) <= created
    # Within a second of Redis returning, the five sends after it included (measured
    # 0.27 s here); the margin is for a loaded machine.
    assert caught_up < 2, caught_up


def test_a_server_started_while_redis_is_down_serves_and_goes_live_when_it_comes(
    env: dict[str, str], redis_server: RedisServer
) -> None:
    redis_server.stop()
    server = Serve(env)
    try:
        server.wait_up()  # ready: the database answers
        ready = httpx.get(server.base + "/readyz").json()
        assert ready == {"status": "degraded", "database": "ok", "redis": "redis_unavailable"}
        token = make_admin(env)
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.post(
            server.base + "/api/v1/contacts",
            json={"name": "No Redis", "phones": []},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        redis_server.start()
        wait_until(
            lambda: httpx.get(server.base + "/readyz").json()["redis"] == "ok",
            timeout=10,
            what="the hub did not connect",
        )

        async def live_event() -> dict[str, Any]:
            async with websockets.connect(
                f"ws://127.0.0.1:{server.port}/api/v1/ws?token={token}"
            ) as ws:
                await ws.recv()  # hello
                async with httpx.AsyncClient(base_url=server.base, headers=headers) as api:
                    made = await api.post("/api/v1/contacts", json={"name": "With Redis"})
                    assert made.status_code == 201, made.text
                event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
                return event

        event = asyncio.run(live_event())
        assert event["type"] == "contact.updated"
        assert event["data"]["contact"]["name"] == "With Redis"
    finally:
        server.stop()
