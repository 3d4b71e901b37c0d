"""Bringing a database to the newest schema (``parlour migrate``)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from parlour import __version__

MIGRATIONS = Path(__file__).parent / "migrations"
# How long `parlour serve` gives the database to answer before it starts anyway.
CHECK_SECONDS = 5.0
# Any fixed number: several processes starting at once take turns migrating.
_LOCK_KEY = 7_405_112


class SchemaTooNew(Exception):
    """The database was migrated by a release newer than this one (or by another branch).

    Alembic would stop at the unknown revision anyway, but with a traceback, and a server
    kept retrying every second; worse, an older release's migrations have no business
    writing to a newer schema. So nothing is done, and the admin is told why."""

    def __init__(self, revisions: list[str]) -> None:
        self.revisions = revisions
        super().__init__(
            f"The database's schema is at revision {', '.join(revisions)}, which this release "
            f"of Parlour ({__version__}) does not know: a newer release has migrated it. "
            "Nothing was changed. Run that newer release, or restore a backup taken before "
            "the upgrade (`parlour backup`, or pg_dump) to go back to this one."
        )


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def known_revisions() -> set[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return {rev.revision for rev in script.walk_revisions()}


def refuse_unknown_revisions(conn: Connection) -> None:
    """Raises SchemaTooNew if the database records a revision these migrations lack."""
    current = MigrationContext.configure(conn).get_current_heads()
    unknown = sorted(set(current) - known_revisions())
    if unknown:
        raise SchemaTooNew(unknown)


async def migrate(url: str, revision: str = "head") -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"))
            await conn.run_sync(_upgrade, url, revision)
    finally:
        await engine.dispose()


def _upgrade(conn: Connection, url: str, revision: str) -> None:
    refuse_unknown_revisions(conn)
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


async def check_schema(url: str) -> None:
    """Raises SchemaTooNew for a database a newer release migrated; returns quietly when
    the database cannot be reached (a server starting during an outage waits for it)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            async with engine.connect() as conn:
                await conn.run_sync(refuse_unknown_revisions)
    except SchemaTooNew:
        raise
    except Exception:
        return  # not reachable now: the start-up wait deals with that
    finally:
        with contextlib.suppress(Exception):
            await engine.dispose()
