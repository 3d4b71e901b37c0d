"""Real servers a test can stop and start: a private Redis and a private PostgreSQL.

The shared servers of tests/conftest.py serve every test at once; an outage test needs
its own, to stop while Parlour runs against it. Both are the machine's own binaries (the
same Redis 7 and PostgreSQL 15), started on free loopback ports.
"""

from __future__ import annotations

import contextlib
import imaplib
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


DOVECOT = "/usr/sbin/dovecot"


class DovecotServer:
    """A throwaway Dovecot IMAP server: one user with a plain password, Maildir storage in
    a temporary folder, plain IMAP on ``port`` and, given a certificate (PEM files), IMAP
    over TLS on ``tls_port``. ``make dovecot`` installs it (Debian's dovecot-imapd).

    Dovecot refuses to give root mail access, so run as root it reads and writes the mail
    as ``nobody`` and runs its helpers as its own package's users; as anyone else, all
    of it runs as that user."""

    def __init__(
        self,
        *,
        user: str = "agent",
        password: str = "imap-secret",
        cert: tuple[Path, Path] | None = None,
        idle: bool = True,
    ) -> None:
        _need_binary(DOVECOT)
        self.user = user
        self.password = password
        self.port = free_port()
        self.tls_port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="parlour-dovecot-"))
        self.log = self.dir / "dovecot.log"
        self._proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            import pwd

            mail = pwd.getpwnam("nobody")
            uid, gid = mail.pw_uid, mail.pw_gid
            internal, login = "dovecot", "dovenull"
        else:
            import pwd

            uid, gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(uid).pw_name
        # Dovecot's own users read the configuration and the password file in here.
        self.dir.chmod(0o755)
        mail_dir = self.dir / "mail"
        mail_dir.mkdir()
        os.chown(mail_dir, uid, gid)
        self.set_password(password)
        tls = "ssl = no"
        tls_listener = ""
        if cert is not None:
            tls = f"ssl = yes\nssl_cert = <{cert[0]}\nssl_key = <{cert[1]}"
            tls_listener = (
                f"  inet_listener imaps {{\n    address = 127.0.0.1\n"
                f"    port = {self.tls_port}\n    ssl = yes\n  }}\n"
            )
        # Without IDLE: a server that can only be polled.
        capability = "" if idle else "imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE"
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(
            f"""base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
{tls}
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
{capability}
first_valid_uid = 1
mail_location = maildir:{mail_dir}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail_dir}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{tls_listener}}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )

    def set_password(self, password: str) -> None:
        """The user's password from now on (Dovecot reads the file again when it changes)."""
        self.password = password
        (self.dir / "passwd").write_text(f"{self.user}:{{PLAIN}}{password}::::::\n")

    def start(self) -> DovecotServer:
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.conf)], stdout=out, stderr=subprocess.STDOUT
            )

        def up() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                raise AssertionError(f"dovecot exited:\n{self.log.read_text()[-3000:]}")
            return _accepts(self.port)

        wait_until(up, timeout=15, what="Dovecot did not start")
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def imap(self) -> imaplib.IMAP4:
        """A logged-in stdlib client, for a test to deliver (APPEND) and rearrange mail."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.imap()
        try:
            typ, data = client.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def recreate(self, folder: str) -> None:
        """Deletes and recreates ``folder``: empty, under a new UIDVALIDITY."""
        client = self.imap()
        try:
            client.delete(folder)
            typ, data = client.create(folder)
            assert typ == "OK", data
        finally:
            client.logout()
