"""`parlour backup PATH`: a consistent copy of a SQLite database that is being written."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parlour.cli import app
from parlour.db.migrate import migrate

# Enough data that a copy takes a while (about 8 MB), and a writer that never pauses.
BULK_ROWS = 40_000


class Writer(threading.Thread):
    """Another connection committing one account at a time, as `parlour serve` would."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            while not self.stop.is_set():
                conn.execute(
                    "INSERT INTO accounts (name, event_seq, sms_opt_out_scope, timezone,"
                    " created_at) VALUES (?, 0, 'account', 'UTC', CURRENT_TIMESTAMP)",
                    (f"live-{self.committed:06d}",),
                )
                conn.commit()
                self.committed += 1


def _live_database(path: Path) -> None:
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as parlour serve runs it
        conn.executemany(
            "INSERT INTO accounts (name, event_seq, sms_opt_out_scope, timezone, created_at)"
            " VALUES (?, 0, 'account', 'UTC', CURRENT_TIMESTAMP)",
            ((f"bulk-{i:06d}-{'x' * 150}",) for i in range(BULK_ROWS)),
        )
        conn.commit()


def test_a_backup_taken_while_another_connection_writes_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live.db"
    _live_database(live)
    monkeypatch.setenv("PARLOUR_DATABASE_URL", f"sqlite+aiosqlite:///{live}")
    writer = Writer(live)
    writer.start()
    try:
        while writer.committed < 50:
            time.sleep(0.01)
        copies = []
        for n in range(3):
            before = writer.committed
            dest = tmp_path / f"copy-{n}.db"
            result = CliRunner().invoke(app, ["backup", str(dest)])
            assert result.exit_code == 0, result.output
            assert f"to {dest}" in result.output
            copies.append((dest, before, writer.committed))
    finally:
        writer.stop.set()
        writer.join()
    assert writer.committed > copies[-1][1]  # it kept writing throughout

    for dest, before, after in copies:
        assert not dest.with_name(dest.name + "-wal").exists()
        with closing(sqlite3.connect(f"file:{dest}?mode=ro", uri=True)) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            bulk = copy.execute("SELECT count(*) FROM accounts WHERE name LIKE 'bulk-%'")
            assert bulk.fetchone() == (BULK_ROWS,)
            names = [
                r[0]
                for r in copy.execute(
                    "SELECT name FROM accounts WHERE name LIKE 'live-%' ORDER BY name"
                )
            ]
            # What was committed when the copy began, and none half: a run of commits
            # from the first on.
            assert before <= len(names) <= after
            assert names == [f"live-{i:06d}" for i in range(len(names))]
            assert copy.execute("SELECT version_num FROM alembic_version").fetchone()


def test_a_backup_replaces_an_older_one_only_when_it_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{live}"))
    monkeypatch.setenv("PARLOUR_DATABASE_URL", f"sqlite+aiosqlite:///{live}")
    dest = tmp_path / "nightly.db"
    dest.write_bytes(b"last night's backup")
    runner = CliRunner()
    assert runner.invoke(app, ["backup", str(dest)]).exit_code == 0
    with closing(sqlite3.connect(dest)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not (tmp_path / "nightly.db.partial").exists()

    nowhere = runner.invoke(app, ["backup", str(tmp_path / "no" / "such" / "folder.db")])
    assert nowhere.exit_code == 1
    assert "There is no folder" in nowhere.output
    itself = runner.invoke(app, ["backup", str(live)])
    assert itself.exit_code == 1
    assert "cannot replace the database" in itself.output


def test_postgresql_is_refused_with_a_pointer_to_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLOUR_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/parlour")
    dest = tmp_path / "pg.db"
    result = CliRunner().invoke(app, ["backup", str(dest)])
    assert result.exit_code == 1
    assert "pg_dump" in result.output
    assert "Traceback" not in result.output
    assert not dest.exists()
