"""`parlour twilio connect` and `parlour twilio import-numbers`, for self-hosters' scripts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parlour.cli import app
from tests.fakes.twilio import FakeTwilio, new_number


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    f = FakeTwilio().start()
    yield f
    f.stop()


def test_connect_and_import_from_the_command_line(
    tmp_path: Path, fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("PARLOUR_REDIS_URL", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PARLOUR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PARLOUR_TWILIO_API_BASE", fake.base_url)
    monkeypatch.setenv("PARLOUR_PUBLIC_URL", "https://inbox.example.com")
    monkeypatch.setenv("PARLOUR_SECRET_KEY", "cli-secret")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "o@example.com",
            "--password",
            "longenough1",
            "--role",
            "admin",
            "--account",
            "Acme",
        ],
    )
    assert made.exit_code == 0, made.output
    a, b = new_number(), new_number()
    acct = fake.add_account(numbers=[a, b])

    wrong = runner.invoke(
        app,
        ["twilio", "connect", "--account", "Acme", "--account-sid", acct.sid],
        env={"TWILIO_AUTH_TOKEN": "0" * 32},
    )
    assert wrong.exit_code == 1
    assert "Twilio refused" in wrong.output

    nobody = runner.invoke(
        app,
        [
            "twilio",
            "connect",
            "--account",
            "Nobody",
            "--account-sid",
            acct.sid,
            "--auth-token",
            acct.auth_token,
        ],
    )
    assert nobody.exit_code == 1
    assert "no account named 'Nobody'" in nobody.output

    ok = runner.invoke(
        app,
        ["twilio", "connect", "--account", "Acme", "--account-sid", acct.sid],
        env={"TWILIO_AUTH_TOKEN": acct.auth_token},
    )
    assert ok.exit_code == 0, ok.output
    assert "https://inbox.example.com/webhooks/twilio/sms" in ok.output

    one = runner.invoke(
        app,
        ["twilio", "import-numbers", "--account", "Acme", "--number", b, "--configure-webhooks"],
    )
    assert one.exit_code == 0, one.output
    assert one.output.splitlines() == [f"Imported {b}"]
    assert acct.numbers[1].sms_url == "https://inbox.example.com/webhooks/twilio/sms"
    rest = runner.invoke(app, ["twilio", "import-numbers", "--account", "Acme"])
    assert rest.output.splitlines() == [f"Imported {a}", f"Already there: {b}"]
