"""Two `parlour serve` processes on PostgreSQL + Redis: an event committed in one reaches a
WebSocket held by the other."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.conftest import REDIS_URL, need_service
from tests.services import free_port, parlour

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def cluster_env(postgres_url: str) -> dict[str, str]:
    need_service("Redis", "127.0.0.1", 6379)
    return {
        **os.environ,
        "PARLOUR_DATABASE_URL": postgres_url,
        "PARLOUR_REDIS_URL": REDIS_URL,
        "PARLOUR_REDIS_PREFIX": f"parlour-test-{uuid.uuid4().hex[:8]}:",
        "PARLOUR_LOG_LEVEL": "warning",
    }


@pytest.fixture
def two_servers(cluster_env: dict[str, str]) -> Iterator[tuple[int, int]]:
    ports = (free_port(), free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port), *extra],
            env={**cluster_env, "PARLOUR_PUBLIC_URL": f"http://127.0.0.1:{port}"},
        )
        for port, extra in zip(ports, ([], ["--no-worker"]), strict=True)
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"server on {port} did not start")
                time.sleep(0.2)
        yield ports
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)


def test_a_message_posted_to_one_process_reaches_a_socket_on_the_other(
    cluster_env: dict[str, str], two_servers: tuple[int, int]
) -> None:
    email = f"two-{uuid.uuid4().hex[:8]}@example.com"
    parlour(
        "user",
        "create",
        "--email",
        email,
        "--password",
        "two processes!",
        "--role",
        "admin",
        "--account",
        f"Two {email}",
        env=cluster_env,
    )
    token = parlour("token", "create", "--email", email, env=cluster_env)
    port_a, port_b = two_servers
    headers = {"Authorization": f"Bearer {token}"}

    async def scenario() -> list[dict[str, object]]:
        async with websockets.connect(f"ws://127.0.0.1:{port_b}/api/v1/ws?token={token}") as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello"
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_a}") as api:
                c = await api.post(
                    "/api/v1/contacts",
                    json={"name": "Cross", "phones": [{"number": "+16505550111"}]},
                    headers=headers,
                )
                assert c.status_code == 201, c.text
                conv = await api.post(
                    f"/api/v1/contacts/{c.json()['id']}/conversation", headers=headers
                )
                num = await api.post(
                    "/api/v1/phone-numbers",
                    json={"number": f"+1650555{uuid.uuid4().int % 9000 + 1000}"},
                    headers=headers,
                )
                assert num.status_code == 201, num.text
                sent = await api.post(
                    f"/api/v1/conversations/{conv.json()['id']}/messages",
                    json={"channel": "sms", "body": "across processes"},
                    headers=headers,
                )
                assert sent.status_code == 201, sent.text
            seen: list[dict[str, object]] = []
            while not any(
                e["type"] == "message.updated" and e["data"]["message"]["status"] == "delivered"  # type: ignore[index]
                for e in seen
            ):
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
            return seen

    events = asyncio.run(scenario())
    kinds = [e["type"] for e in events]
    assert kinds[0] == "contact.updated"
    assert "message.created" in kinds
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)


def test_an_agent_on_one_process_is_online_for_a_widget_served_by_the_other(
    cluster_env: dict[str, str], two_servers: tuple[int, int]
) -> None:
    email = f"presence-{uuid.uuid4().hex[:8]}@example.com"
    parlour(
        *("user", "create", "--email", email, "--password", "two processes!"),
        *("--role", "admin", "--account", f"Presence {email}"),
        env=cluster_env,
    )
    token = parlour("token", "create", "--email", email, env=cluster_env)
    port_a, port_b = two_servers
    site = "https://shop.example"

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_a}") as a:
            made = await a.post(
                "/api/v1/widgets",
                json={"name": "Shop", "allowed_origins": [site], "offline_mode": "no_agent_online"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert made.status_code == 201, made.text
            url = f"/widget/v1/{made.json()['public_token']}/config"

            async def online() -> bool:
                conf = await a.get(url, headers={"Origin": site})
                assert conf.status_code == 200, conf.text
                return bool(conf.json()["online"])

            async def becomes(value: bool) -> None:
                deadline = time.monotonic() + 10
                while await online() is not value:
                    assert time.monotonic() < deadline, f"online never became {value}"
                    await asyncio.sleep(0.2)

            assert not await online()
            async with websockets.connect(f"ws://127.0.0.1:{port_b}/api/v1/ws?token={token}") as ws:
                await ws.recv()  # hello: the agent is connected to the other process
                await becomes(True)
            await becomes(False)

    asyncio.run(scenario())
