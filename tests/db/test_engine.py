"""The PostgreSQL pool survives its connections being cut (a restart, a killed backend)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from parlour.config import Settings
from parlour.db.engine import make_database


async def test_requests_after_the_servers_connections_were_terminated_succeed(
    settings: Settings,
) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite has no server connections to lose")
    db = make_database(settings)

    async def backend() -> int:
        async with db.sessions(write=True)() as session:
            return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)

    try:
        # Fill the pool with a few connections, then have the server end them.
        pids = set(await asyncio.gather(*(backend() for _ in range(4))))
        async with db.lookups() as conn:
            me = await conn.scalar(text("SELECT pg_backend_pid()"))
            killed = pids - {me}
            for pid in killed:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.2)  # the terminated backends' sockets close
        after = await asyncio.gather(*(backend() for _ in range(4)))
        assert killed and not killed & set(after)
    finally:
        await db.dispose()
