"""What a channel's CLI commands share (`parlour twilio ...`, `parlour mailbox ...`): a
migrated database and a hub for one command, and a failure printed as one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from parlour.config import Settings

T = TypeVar("T")


def run_with_database(settings: Settings, fn: Callable[..., Awaitable[T]]) -> T:
    """Runs ``fn(db, hub)`` on the migrated database, then closes both."""
    from parlour.db.engine import make_database
    from parlour.db.migrate import migrate
    from parlour.realtime.hub import make_hub

    async def go() -> T:
        await migrate(settings.database_url)
        db, hub = make_database(settings), make_hub(settings)
        await hub.start()
        try:
            return await fn(db, hub)
        finally:
            await hub.stop()
            await db.dispose()

    return asyncio.run(go())


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)
