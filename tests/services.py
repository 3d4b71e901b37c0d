"""Real servers a test can stop and start: a private Redis and a private PostgreSQL.

The shared servers of tests/conftest.py serve every test at once; an outage test needs
its own, to stop while Parlour runs against it. Both are the machine's own binaries (the
same Redis 7 and PostgreSQL 15), started on free loopback ports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _need_binary(path: str) -> None:
    if shutil.which(path) or Path(path).exists():
        return
    message = f"{path} is not installed"
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)")
    pytest.skip(message)


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class RedisServer:
    """``redis-server`` on a port of its own, keeping nothing on disk."""

    def __init__(self) -> None:
        _need_binary("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: _accepts(self.port), timeout=10, what="Redis did not start")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb), trust auth, run as the postgres user."""

    def __init__(self) -> None:
        _need_binary(str(PG_BIN / "initdb"))
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="parlour-pg-"))
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]
        self._run(str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_owner, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        # With a log file, the server does not hold pg_ctl's output open.
        log = str(self.dir / "server.log")
        self._run(
            *(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-l", log),
            *("-o", options, "-w", "start"),
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def parlour(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "parlour.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout.strip()


class Serve:
    """One ``parlour serve`` process, its log kept in a file for the test to read."""

    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="parlour-serve-", suffix=".log")[1])
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "parlour.cli", "serve", "--port", str(self.port), *extra],
                env={**env, "PARLOUR_PUBLIC_URL": self.base},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_up(self, path: str = "/readyz", timeout: float = 60) -> None:
        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"parlour serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                return httpx.get(self.base + path, timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=timeout, what=f"parlour serve did not answer {path}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.unlink(missing_ok=True)
