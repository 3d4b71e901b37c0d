"""The `parlour` command: demo data, users and tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from parlour.channels.sms.models import PhoneNumber
from parlour.cli import app
from parlour.config import Settings
from parlour.conversations.models import Conversation, Message
from parlour.db.engine import make_database


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
