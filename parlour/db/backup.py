"""A consistent copy of a live SQLite database (``parlour backup PATH``).

Copying the file (``cp``) while ``parlour serve`` writes can catch a page from before a
commit next to one from after it, and misses what is still only in the ``-wal`` file. SQLite's
online backup API (``sqlite3.Connection.backup``) copies what one read transaction sees:
every commit up to its start, none after. In WAL mode a reader does not block writers, so
the server goes on writing meanwhile.

The copy is made in one step (``pages=-1``). Stepped copies restart whenever another
connection writes between steps, so under a steady stream of writes they might never end.
It is written beside ``PATH`` first, checked (``PRAGMA integrity_check``), and only then
moved onto ``PATH``: an interrupted or failed backup never replaces a good one.

PostgreSQL has its own tool for this, ``pg_dump``, which takes a consistent snapshot too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

# How long to wait for a lock the copy needs (a checkpoint, a write starting a WAL file).
BUSY_TIMEOUT_SECONDS = 30.0


class BackupRefused(Exception):
    """Nothing was copied; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    source: Path
    dest: Path
    size_bytes: int


def sqlite_file(url: str) -> Path:
    """The database file of a SQLite URL, or BackupRefused for anything else."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        raise BackupRefused(
            f"`parlour backup` copies SQLite databases; this one is {parsed.get_backend_name()}. "
            "For PostgreSQL use pg_dump, which also copies a live database consistently: "
            "pg_dump --format=custom --file=parlour.dump 'postgresql://USER@HOST/DATABASE' "
            "(restore with pg_restore). See README, Backups."
        )
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise BackupRefused("This SQLite database is in memory: there is nothing to copy.")
    path = Path(database)
    if not path.is_file():
        raise BackupRefused(f"There is no SQLite database at {path}.")
    return path


def backup_sqlite(url: str, dest: Path) -> Backup:
    source = sqlite_file(url)
    dest = dest.expanduser()
    if dest.resolve() == source.resolve():
        raise BackupRefused("The backup cannot replace the database it copies.")
    if not dest.parent.is_dir():
        raise BackupRefused(f"There is no folder {dest.parent} to write the backup in.")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(source=source, dest=dest, size_bytes=dest.stat().st_size)


def _copy(source: Path, partial: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS)) as src,
        contextlib.closing(sqlite3.connect(partial)) as dst,
    ):
        src.backup(dst, pages=-1)
        # One self-contained file: the copy would otherwise say WAL, as its source does,
        # and whoever opens it would find (or make) -wal and -shm files next to it.
        dst.execute("PRAGMA journal_mode=DELETE")
        (result,) = dst.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupRefused(f"The copy failed its integrity check ({result}); try again.")
        dst.commit()
    with open(partial, "rb+") as written:
        os.fsync(written.fileno())
