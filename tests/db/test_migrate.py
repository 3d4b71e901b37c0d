"""`parlour migrate` never goes back: a database a newer release migrated is left alone."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from parlour.cli import app
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.migrate import SchemaTooNew, check_schema, migrate
from parlour.db.ready import wait_for_database

NEWER = "0099_from_a_newer_release"


async def _pretend_newer(url: str) -> list[str]:
    """Migrated to head, then stamped as a newer release would leave it; returns the
    tables, to show that nothing is changed afterwards."""
    await migrate(url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
            await conn.execute(text("CREATE TABLE from_the_future (id INTEGER PRIMARY KEY)"))
        async with engine.connect() as conn:
            return sorted(await conn.run_sync(lambda c: c.dialect.get_table_names(c)))
    finally:
        await engine.dispose()


async def _state(url: str) -> tuple[str, list[str]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).one()
            tables = sorted(await conn.run_sync(lambda c: c.dialect.get_table_names(c)))
            return version[0], tables
    finally:
        await engine.dispose()


async def test_a_newer_releases_database_is_refused_and_left_as_it_was(fresh_url: str) -> None:
    tables = await _pretend_newer(fresh_url)
    with pytest.raises(SchemaTooNew) as refused:
        await migrate(fresh_url)
    assert NEWER in str(refused.value)
    assert "newer release" in str(refused.value)
    with pytest.raises(SchemaTooNew):
        await check_schema(fresh_url)
    assert await _state(fresh_url) == (NEWER, tables)


async def test_a_server_meeting_a_newer_schema_never_serves_and_says_why(
    fresh_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _pretend_newer(fresh_url)
    settings = Settings(database_url=fresh_url, _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        with caplog.at_level(logging.ERROR, logger="parlour.db.ready"):
            ready = await asyncio.wait_for(
                wait_for_database(db, url=fresh_url, migrate=True, stop=asyncio.Event()),
                timeout=10,
            )
    finally:
        await db.dispose()
    assert ready is False
    assert [r.message for r in caplog.records if NEWER in r.message]


async def test_an_unreachable_database_is_left_to_the_start_up_wait() -> None:
    await check_schema("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")


def test_the_commands_stop_with_a_message_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}"
    asyncio.run(_pretend_newer(url))
    monkeypatch.setenv("PARLOUR_DATABASE_URL", url)
    runner = CliRunner()
    for args in (["migrate"], ["serve", "--port", "1"], ["worker"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert "a newer release has migrated it" in result.output
        assert "Traceback" not in result.output
    assert asyncio.run(_state(url))[0] == NEWER
