"""SIGKILL a real `parlour serve` while it is sending through the local Twilio, restart
it, and the contact gets the text exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from parlour.channels.registry import make_channels, make_providers
from parlour.config import Settings
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.engine import make_database
from parlour.outbox.models import OutboxItem
from parlour.realtime.hub import make_hub
from parlour.runtime import Runtime
from tests.conftest import make_tenant
from tests.fakes.twilio import FakeTwilio, new_number


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, database_url: str, twilio_base: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")},
            "PARLOUR_DATABASE_URL": database_url,
            "PARLOUR_PUBLIC_URL": self.url,
            "PARLOUR_SECRET_KEY": "crash-test-secret",
            "PARLOUR_TWILIO_API_BASE": twilio_base,
            "PARLOUR_WORKER_POLL_SECONDS": "0.1",
            "PARLOUR_LOG_LEVEL": "warning",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parlour.cli", "serve", "--port", str(self.port)],
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("parlour serve did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    f = FakeTwilio().start()
    f.post_callbacks = True
    yield f
    f.stop()


@pytest.fixture
def server(database_url: str, fake: FakeTwilio) -> Iterator[Server]:
    s = Server(database_url, fake.base_url)
    yield s
    s.stop()


async def expire_lease(database_url: str, message_id: int) -> tuple[str, str, str | None]:
    """Time passes: the dead worker's lease runs out. Returns what the crash left behind."""
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        async with db.sessions(write=True)() as session:
            state = await session.scalar(
                select(OutboxItem.state).where(OutboxItem.message_id == message_id)
            )
            msg = (
                await session.execute(
                    select(Message.status, Message.provider_message_id).where(
                        Message.id == message_id
                    )
                )
            ).one()
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.message_id == message_id)
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
            return str(state), msg[0], msg[1]
    finally:
        await db.dispose()


async def prepare(
    server: Server, fake: FakeTwilio, database_url: str
) -> tuple[dict[str, str], int, int]:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    rt = Runtime(
        settings=settings,
        db=make_database(settings),
        hub=make_hub(settings),
        channels=make_channels(settings, make_providers(settings)),
    )
    try:
        tenant = await make_tenant(rt, with_channels=False)
    finally:
        await rt.db.dispose()
    h = tenant.admin_headers
    acct = fake.add_account(numbers=[new_number()])
    async with httpx.AsyncClient(base_url=server.url, headers=h, timeout=20) as c:
        r = await c.put(
            "/api/v1/sms/providers/twilio",
            json={"account_sid": acct.sid, "auth_token": acct.auth_token},
        )
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/sms/providers/twilio/numbers/import", json={})
        number_id = r.json()["imported"][0]["id"]
        made = await c.post(
            "/api/v1/contacts", json={"name": "Kim", "phones": [{"number": new_number()}]}
        )
        conv = await c.post(f"/api/v1/contacts/{made.json()['id']}/conversation")
    return h, number_id, conv.json()["id"]


async def send_and_kill(
    server: Server, fake: FakeTwilio, h: dict[str, str], number_id: int, conv_id: int, body: str
) -> int:
    async with httpx.AsyncClient(base_url=server.url, headers=h, timeout=20) as c:
        r = await c.post(
            f"/api/v1/conversations/{conv_id}/messages",
            json={"channel": "sms", "body": body, "phone_number_id": number_id},
        )
        assert r.status_code == 201
    assert await asyncio.to_thread(fake.hanging.wait, 20), "the worker never called Twilio"
    server.kill()
    return int(r.json()["id"])


async def status_after_restart(
    server: Server, h: dict[str, str], conv_id: int, msg_id: int, want: str | None = None
) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers=h, timeout=20) as c:
        for _ in range(200):
            thread = await c.get(f"/api/v1/conversations/{conv_id}/messages")
            m = next(x for x in thread.json()["items"] if x["id"] == msg_id)
            if m["status"] == want or (not want and m["status"] in ("sent", "delivered", "failed")):
                return str(m["status"])
            await asyncio.sleep(0.1)
    raise AssertionError("the message was never settled after the restart")


async def test_killed_after_twilio_accepted_the_contact_gets_it_once(
    server: Server, fake: FakeTwilio, database_url: str
) -> None:
    server.start()
    h, number_id, conv_id = await prepare(server, fake, database_url)
    fake.hang_after_accept = True
    msg_id = await send_and_kill(server, fake, h, number_id, conv_id, "Exactly once, please")
    fake.hang_after_accept = False
    fake.release.set()  # Twilio's answer now goes nowhere; its callbacks find no server
    state, status, sid = await expire_lease(database_url, msg_id)
    assert (state, status, sid) == ("sending", "queued", None)

    server.start()
    assert await status_after_restart(server, h, conv_id, msg_id) in ("sent", "delivered")
    bodies = [m.body for m in fake.messages if m.body == "Exactly once, please"]
    assert bodies == ["Exactly once, please"]


async def test_killed_before_twilio_took_it_the_message_goes_out_once(
    server: Server, fake: FakeTwilio, database_url: str
) -> None:
    server.start()
    h, number_id, conv_id = await prepare(server, fake, database_url)
    fake.hang_before_accept = True
    msg_id = await send_and_kill(server, fake, h, number_id, conv_id, "Did it go?")
    fake.hang_before_accept = False
    fake.release.set()
    state, status, _ = await expire_lease(database_url, msg_id)
    assert (state, status) == ("sending", "queued")
    assert [m for m in fake.messages if m.body == "Did it go?"] == []

    server.start()
    assert await status_after_restart(server, h, conv_id, msg_id) in ("sent", "delivered")
    assert [m.body for m in fake.messages if m.body == "Did it go?"] == ["Did it go?"]
    # Twilio's status callbacks reach the running server over HTTP, signed.
    assert await status_after_restart(server, h, conv_id, msg_id, want="delivered")
    assert set(fake.callback_answers) == {204}
