"""`parlour mailbox add`, for self-hosters' scripts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parlour.channels.crypto import unseal
from parlour.cli import app


def test_add_a_mailbox_with_its_relay_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("PARLOUR_REDIS_URL", "PARLOUR_SMTP_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    db = tmp_path / "cli.db"
    monkeypatch.setenv("PARLOUR_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("PARLOUR_SECRET_KEY", "cli-secret")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            *("user", "create", "--email", "o@example.com", "--password", "longenough1"),
            *("--role", "admin", "--account", "Acme"),
        ],
    )
    assert made.exit_code == 0, made.output
    relay = ["--smtp-host", "smtp.example.com", "--smtp-username", "help@acme.example"]

    added = runner.invoke(
        app,
        ["mailbox", "add", "--account", "Acme", "--address", "Help@Acme.example", *relay],
        env={"PARLOUR_SMTP_PASSWORD": "s3cret"},
    )
    assert added.exit_code == 0, added.output
    assert "help@acme.example to 'Acme', sending through smtp.example.com." in added.output
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT provider, smtp_host, smtp_port, smtp_security, smtp_username,"
            " smtp_password_sealed FROM mailboxes"
        ).fetchone()
    assert row[:5] == ("smtp", "smtp.example.com", 587, "starttls", "help@acme.example")
    assert unseal("cli-secret", row[5]) == {"password": "s3cret"}

    again = runner.invoke(
        app, ["mailbox", "add", "--account", "Acme", "--address", "help@acme.example"]
    )
    assert again.exit_code == 1
    assert "help@acme.example is already in use." in again.output
    bad = runner.invoke(
        app,
        [
            *("mailbox", "add", "--account", "Acme", "--address", "b@acme.example", *relay),
            *("--smtp-port", "70000", "--smtp-security", "ssl"),
        ],
    )
    assert bad.exit_code == 1
    assert "--smtp-port:" in bad.output and "--smtp-security:" in bad.output
    nobody = runner.invoke(
        app, ["mailbox", "add", "--account", "Nope", "--address", "c@acme.example"]
    )
    assert nobody.exit_code == 1
    assert "no account named 'Nope'" in nobody.output
