"""The `parlour` command: demo data, users and tokens."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from parlour.channels.sms.models import PhoneNumber
from parlour.cli import app
from parlour.config import Settings
from parlour.conversations.models import Conversation, Message
from parlour.db.engine import make_database
from tests.services import Serve


def test_demo_creates_a_full_inbox_and_prints_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com / parlour-demo" in result.output
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db}", _env_file=None)  # type: ignore[call-arg]

    async def facts() -> dict[str, object]:
        database = make_database(settings)
        try:
            async with database.reader.connect() as conn:
                convs = await conn.scalar(
                    select(func.count()).where(Conversation.last_message_at.is_not(None))
                )
                channels = set(await conn.scalars(select(Message.channel).distinct()))
                senders = set(await conn.scalars(select(Message.sender_type).distinct()))
                failed = await conn.scalar(select(func.count()).where(Message.status == "failed"))
                no_sms = await conn.scalar(
                    select(func.count()).where(PhoneNumber.sms_enabled.is_(False))
                )
            return {
                "convs": convs,
                "channels": channels,
                "senders": senders,
                "failed": failed,
                "no_sms": no_sms,
            }
        finally:
            await database.dispose()

    got = asyncio.run(facts())
    assert int(got["convs"]) >= 30  # type: ignore[call-overload]
    assert got["channels"] == {"sms", "webchat", "email"}
    assert got["senders"] == {"contact", "user", "bot"}
    assert int(got["failed"]) >= 1  # type: ignore[call-overload]
    assert got["no_sms"] == 1


def test_user_and_token_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLOUR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "Boss@Example.com",
            "--password",
            "long password",
            "--role",
            "admin",
            "--account",
            "Acme",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "Created admin boss@example.com in account 'Acme'" in made.output
    again = runner.invoke(
        app, ["user", "create", "--email", "boss@example.com", "--password", "long password"]
    )
    assert again.exit_code == 1
    assert "user_exists" in again.output
    token = runner.invoke(app, ["token", "create", "--email", "boss@example.com"])
    assert token.exit_code == 0
    assert token.output.strip().startswith("plr_")
    missing = runner.invoke(app, ["token", "create", "--email", "nobody@example.com"])
    assert missing.exit_code == 1


def test_serve_keeps_an_idle_connection_open_longer_than_uvicorns_five_seconds(
    tmp_path: Path,
) -> None:
    # Closed by the server after 5 s idle, a connection a load balancer or a webhook's
    # sender was about to reuse failed the request sent on it (bench/load.py saw it).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    env |= {"PARLOUR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'idle.db'}"}
    server = Serve(env)
    try:
        server.wait_up()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
            conn.sendall(request)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            time.sleep(6.5)
            conn.sendall(request)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")  # b"" once closed
    finally:
        server.stop()
