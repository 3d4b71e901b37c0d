"""SQLite statements run on the loop's thread; waiting for another process's write lock must
not freeze the server."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from parlour.config import Settings
from parlour.db.engine import make_database


async def test_a_writer_waits_for_another_processs_lock_while_the_loop_keeps_serving(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inline.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        async with db.writer.begin() as conn:
            await conn.execute(text("CREATE TABLE notes (body TEXT)"))

        # Another process (a CLI command, say) holds SQLite's write lock.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO notes VALUES ('from the other process')")

        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def write() -> None:
            async with db.writer.begin() as conn:
                await conn.execute(text("INSERT INTO notes VALUES ('from parlour')"))

        ticking = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writing.done(), "the write went ahead while another process held the lock"
        assert ticks >= 20, f"the event loop was blocked while waiting (ticked {ticks} times)"

        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writing, timeout=5)
        ticking.cancel()

        async with db.reader.connect() as conn:
            bodies = (await conn.execute(text("SELECT body FROM notes ORDER BY rowid"))).all()
        assert [b for (b,) in bodies] == ["from the other process", "from parlour"]
    finally:
        await db.dispose()


async def test_a_failed_statement_leaves_nothing_behind(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        async with db.writer.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        try:
            async with db.writer.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        except Exception as exc:  # IntegrityError, wrapped by SQLAlchemy
            assert "UNIQUE" in str(exc)
        else:
            raise AssertionError("the duplicate was accepted")
        async with db.reader.connect() as conn:
            assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [1]
    finally:
        await db.dispose()


def _rows_in_database_file(path: Path) -> list[str]:
    """What the database file itself holds, ignoring the write-ahead log."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return [body for (body,) in conn.execute("SELECT body FROM notes")]
    except sqlite3.OperationalError:  # the table is not in the file yet
        return []
    finally:
        conn.close()


async def test_a_server_checkpoints_the_log_in_the_background_not_inside_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "served.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings, serving=True)
    try:
        async with db.writer.begin() as conn:
            await conn.execute(text("CREATE TABLE notes (body TEXT)"))
        for i in range(1200):  # past SQLite's own 1,000-page threshold: 4 KB a row
            async with db.writer.begin() as conn:
                await conn.execute(text("INSERT INTO notes VALUES (:b)"), {"b": f"{i:04d}" * 1000})
        assert _rows_in_database_file(path) == [], "a commit copied the log into the file"

        stop = asyncio.Event()
        checkpoints = asyncio.create_task(db.run_checkpoints(stop, every=0.05))
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(checkpoints, timeout=5)
        assert len(_rows_in_database_file(path)) == 1200
    finally:
        await db.dispose()


async def test_sqlite_reads_the_file_through_a_memory_map_of_the_size_set(tmp_path: Path) -> None:
    # Read through each connection's own 2 MB cache, a search at a million contacts cost a
    # system call for nearly every page (bench/RESULTS.md, session 15).
    url = f"sqlite+aiosqlite:///{tmp_path / 'mapped.db'}"
    for mb, expected in ((None, 2048 * 1024 * 1024), (64, 64 * 1024 * 1024), (0, 0)):
        extra = {} if mb is None else {"sqlite_mmap_mb": mb}
        db = make_database(Settings(database_url=url, _env_file=None, **extra))  # type: ignore[call-arg]
        try:
            for engine in (db.reader, db.writer):
                async with engine.connect() as conn:
                    assert await conn.scalar(text("PRAGMA mmap_size")) == min(expected, 2147418112)
        finally:
            await db.dispose()
