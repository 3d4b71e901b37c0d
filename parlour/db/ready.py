"""Waiting for the database at start-up, so a process can start during an outage.

A deploy or a restart while PostgreSQL is down used to end the process at once. Now it
starts, answers ``/readyz`` with 503 (and every other request with 503
``database_unavailable``) and tries again each second; once the database answers (and is
migrated, for ``parlour serve``), it serves, and its worker starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text

from parlour.db.engine import Database
from parlour.db.migrate import SchemaTooNew
from parlour.db.migrate import migrate as run_migrate
from parlour.db.outage import describe, is_unavailable

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


async def wait_for_database(
    db: Database,
    *,
    url: str,
    migrate: bool,
    stop: asyncio.Event,
    failed_once: asyncio.Event | None = None,
    pool: int = 0,
) -> bool:
    """Returns True once the database answers (migrated first if ``migrate``), or False
    when ``stop`` is set first or its schema is a newer release's. ``failed_once`` is set
    when an attempt fails (so a caller can serve 503 meanwhile rather than wait); ``pool``
    connections are opened at once once it answers (``Database.open_connections``)."""
    failures = 0
    while not stop.is_set():
        try:
            if migrate:
                await run_migrate(url)
            async with db.writer.connect() as conn:
                await conn.execute(text("SELECT 1"))
            await db.open_connections(pool)
        except SchemaTooNew as exc:
            # Not something waiting mends: never serve (/readyz stays 503), and say why.
            # `parlour serve` checks this before it starts, and exits; this is for a
            # database that was away then.
            log.error("%s Not serving.", exc)
            return False
        except Exception as exc:
            failures += 1
            if failed_once is not None:
                failed_once.set()
            if failures == 1:
                if is_unavailable(exc) or isinstance(exc, OSError | TimeoutError):
                    log.warning("database not reachable (%s); waiting for it", describe(exc))
                else:  # not an outage: say exactly what, once, and keep trying
                    log.exception("database not ready; trying again each second")
        else:
            if failures:
                log.warning("database reachable after %d attempts; starting", failures + 1)
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=RETRY_SECONDS)
    return False
