"""The hard way: a real `parlour serve` commits a message and answers, the answer is lost
on the way back (a proxy drops the connection), and the client sends the message again
with its Idempotency-Key. It gets the first answer; one message exists, sent once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    next_company_number,
    wait_for,
)
from tests.realtime.test_two_processes import free_port, parlour


@dataclass
class Served:
    url: str
    port: int
    token: str
    log: Path


@pytest.fixture
def served(fresh_url: str, tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    env = {
        **os.environ,
        "PARLOUR_DATABASE_URL": fresh_url,
        "PARLOUR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PARLOUR_SECRET_KEY": "lost-answer",
        "PARLOUR_LOG_LEVEL": "info",  # the console provider logs each text it sends
        "PARLOUR_WORKER_POLL_SECONDS": "0.1",
    }
    env.pop("PARLOUR_REDIS_URL", None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc, log)
        email = f"lost-{uuid.uuid4().hex[:8]}@example.com"
        account = ["--account", f"Lost {email}"]
        parlour(
            "user",
            "create",
            "--email",
            email,
            "--password",
            "lost answers!",
            "--role",
            "admin",
            *account,
            env=env,
        )
        token = parlour("token", "create", "--email", email, env=env)
        yield Served(url=f"http://127.0.0.1:{port}", port=port, token=token, log=log)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"parlour exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"parlour did not start:\n{log.read_text()[-3000:]}")


class AnswerLosingProxy:
    """Forwards requests to the server, and hangs up on the client as soon as the
    server's answer arrives, keeping the answer to itself."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.lost: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        up_in, upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def forward() -> None:
            while data := await client_in.read(65536):
                upstream.write(data)
                await upstream.drain()

        forwarding = asyncio.create_task(forward())
        try:
            head = await up_in.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            self.lost.append(head + await up_in.readexactly(length))
        finally:
            client.close()  # the answer never reaches the client
            forwarding.cancel()
            upstream.close()


async def test_a_send_whose_answer_was_lost_is_answered_again_and_sent_once(
    served: Served,
) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    async with httpx.AsyncClient(base_url=f"{served.url}/api/v1", headers=headers) as api:
        number = await api.post("/phone-numbers", json={"number": next_company_number()})
        assert number.status_code == 201, number.text
        contact = await api.post(
            "/contacts", json={"name": "Lou Lost", "phones": [{"number": "+16505550180"}]}
        )
        conv = await api.post(f"/contacts/{contact.json()['id']}/conversation")
        conv_id = conv.json()["id"]
        body = f"Only once {uuid.uuid4().hex[:8]}"
        send: dict[str, Any] = {"channel": "sms", "body": body}
        key = str(uuid.uuid4())
        keyed = {"Idempotency-Key": key}

        proxy = AnswerLosingProxy(served.port)
        async with proxy as proxy_port:
            through = httpx.AsyncClient(base_url=f"http://127.0.0.1:{proxy_port}/api/v1")
            async with through:
                with pytest.raises(httpx.TransportError):
                    await through.post(
                        f"/conversations/{conv_id}/messages",
                        json=send,
                        headers={**headers, **keyed},
                    )
        [lost] = proxy.lost
        assert lost.startswith(b"HTTP/1.1 201 ")

        retried = await api.post(f"/conversations/{conv_id}/messages", json=send, headers=keyed)
        assert retried.status_code == 201, retried.text
        assert retried.headers["idempotent-replayed"] == "true"
        assert retried.content == lost.split(b"\r\n\r\n", 1)[1]

        async def delivered() -> list[Any] | None:
            page = (await api.get(f"/conversations/{conv_id}/messages")).json()
            items: list[Any] = page["items"]
            return items if all(m["status"] == "delivered" for m in items) else None

        items = await wait_for(delivered, within=15)
        assert [(m["id"], m["body"]) for m in items] == [(retried.json()["id"], body)]
    sent = [line for line in served.log.read_text().splitlines() if line.endswith(f": {body}")]
    assert len(sent) == 1, sent
    assert "parlour.sms.console" in sent[0]
