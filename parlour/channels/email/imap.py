"""Polling each mailbox's IMAP folder for incoming mail (issue 14).

``parlour serve`` runs one ``ImapPoller`` (``start``, from the app's lifespan). It
re-reads the mailboxes every ``RESCAN_SECONDS`` and keeps one task per enabled mailbox
with an ``imap_host``: a mailbox added, changed or removed in Settings is picked up, the
task of a changed one restarted. Each task, for as long as it runs:

1. connects (implicit TLS, STARTTLS, or in the clear for a server on the same host), LOGs
   IN and SELECTs the folder;
2. compares the folder's UIDVALIDITY with the stored one: another value means the server
   renumbered the folder, so it is read again from its first UID (the store drops a
   Message-ID it already has, so re-reading stores nothing twice);
3. lists the UIDs above ``imap_last_uid`` and hands each message to the store
   (``inbound.receive``) in UID order, recording ``imap_last_uid`` after each one (a stop waits
   for that record): a crash re-imports at most the message it was storing, skips none;
4. waits for news with IDLE when the server offers it (re-issued every ``IDLE_SECONDS``,
   under RFC 2177's 29 minutes), else polls every ``imap_poll_seconds``; then 3 again;
5. after ``RECONNECT_SECONDS``, logs out and begins again at 1 (a folder renumbered
   while connected is seen only by a new SELECT).

Any failure closes the connection and retries after a back-off (``BACKOFF_SECONDS``
doubling to ``MAX_BACKOFF_SECONDS``), its text written to ``imap_error`` (shown in
Settings) and cleared by the next successful pass; ``imap_checked_at`` says when.

A message the store refuses (``MailTooLarge``, or any other ``ParlourError``), or one over
``max_bytes`` by the server's own count (never downloaded), is logged and stepped over:
one bad message must not stop the folder. A database that does not answer is different:
nothing is stepped over, the task retries. An unexpected error on one message is retried
``ATTEMPTS`` times, then that message is stepped over too, logged as an error.

**One poller per mailbox** when several ``parlour serve`` share a database: a task runs
only while its process holds the mailbox's lock, the same kinds of lock as
parlour/outbox/slots.py (which supplies the helpers): ``flock`` on a file beside an SQLite
database, a PostgreSQL session-level advisory lock on a connection of the poller's own.
Both go away when their process dies, and the next rescan of another process takes them.
If the PostgreSQL lock connection breaks, the rescan notices, stops every task and takes
the locks again; in between two processes may poll one folder, which the Message-ID
dedupe makes harmless.

The client library: ``aioimaplib`` (2.0.3). Compared with
- ``imap-tools``: a friendlier API (parsed messages, UID ranges, IDLE), but synchronous:
  one blocked thread per mailbox for as long as it IDLEs, and a thread cannot be
  cancelled at shutdown (only its socket closed under it);
- stdlib ``imaplib`` in a thread: the same threading costs, and IDLE only from Python 3.14;
``aioimaplib`` runs on the server's event loop, has IDLE, and a task using it is
cancelled like any other. What it lacks (untyped; no STARTTLS upgrade; a lost connection
only seen through a callback) is small and handled here: ``_starttls`` upgrades the
transport with ``loop.start_tls``, and ``conn_lost_cb`` ends a pending IDLE.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import re
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aioimaplib  # type: ignore[import-untyped]
from sqlalchemy import make_url, select, text, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from parlour.channels.crypto import CannotDecrypt, unseal
from parlour.channels.email import inbound
from parlour.channels.email.models import Mailbox
from parlour.db.engine import Database
from parlour.db.outage import is_unavailable
from parlour.db.tx import transaction
from parlour.errors import ParlourError
from parlour.outbox import slots
from parlour.runtime import Runtime

log = logging.getLogger(__name__)

RESCAN_SECONDS = 30.0
# RFC 2177: a client should re-issue IDLE at least every 29 minutes.
IDLE_SECONDS = 25 * 60.0
TIMEOUT_SECONDS = 30.0
BACKOFF_SECONDS = 5.0
# A session is ended and begun again this often: Dovecot, for one, never tells a session
# that its folder was deleted and made again (a new UIDVALIDITY), only a new SELECT does.
RECONNECT_SECONDS = 4 * 3600.0
MAX_BACKOFF_SECONDS = 300.0
ATTEMPTS = 3
ERROR_CHARS = 500  # mailboxes.imap_error

# What the store does with one raw message: its outcome ("stored", "duplicate", ...).
Store = Callable[[Runtime, int, bytes], Awaitable[str]]


async def _receive(rt: Runtime, mailbox_id: int, raw: bytes) -> str:
    received = await inbound.receive(rt, mailbox_id=mailbox_id, raw=raw, via="imap")
    return received.outcome


class ImapError(Exception):
    """What went wrong talking to the server, in words for Settings."""


@dataclass(frozen=True)
class Account:
    """A mailbox's IMAP settings as stored: another value restarts its task."""

    mailbox_id: int
    host: str
    port: int
    security: str
    username: str
    password_sealed: str | None
    folder: str


# --- the poller -------------------------------------------------------------------------


class ImapPoller:
    def __init__(
        self,
        rt: Runtime,
        *,
        store: Store | None = None,
        tls_context: ssl.SSLContext | None = None,
        poll_seconds: float | None = None,
        rescan_seconds: float = RESCAN_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
        backoff_seconds: float = BACKOFF_SECONDS,
        reconnect_seconds: float = RECONNECT_SECONDS,
        max_bytes: int | None = None,
    ) -> None:
        # ``tls_context``: whom to trust (tests trust their own throwaway certificate); by
        # default the system's certificate authorities.
        self.rt = rt
        self.store = store or _receive
        self.tls_context = tls_context
        self.poll_seconds = poll_seconds or rt.settings.imap_poll_seconds
        self.rescan_seconds = rescan_seconds
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self.backoff_seconds = backoff_seconds
        self.reconnect_seconds = reconnect_seconds
        # Larger mail is not downloaded: the store would refuse it (MailTooLarge).
        self.max_bytes = max_bytes or rt.settings.email_max_bytes
        self._tasks: dict[int, tuple[Account, asyncio.Task[None]]] = {}
        self._locks: _Locks | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self._reconcile()
                except Exception as exc:
                    if not is_unavailable(exc):
                        log.exception("IMAP polling: reading the mailboxes failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.rescan_seconds)
        finally:
            await self._stop_all()

    async def _reconcile(self) -> None:
        wanted = {a.mailbox_id: a for a in await self._accounts()}
        for mailbox_id, (account, task) in list(self._tasks.items()):
            if wanted.get(mailbox_id) != account or task.done():
                await self._stop_one(mailbox_id)
        if self._locks is not None and not await self._locks.alive():
            log.warning("IMAP polling: the mailbox locks were lost; taking them again")
            await self._stop_all()
        if not wanted:
            return
        if self._locks is None:
            self._locks = await _open_locks(self.rt.db)
        for mailbox_id, account in wanted.items():
            if mailbox_id in self._tasks or not await self._locks.take(mailbox_id):
                continue
            log.info(
                "IMAP polling mailbox %s: %s on %s:%s (%s)",
                *(mailbox_id, account.folder, account.host, account.port, account.security),
            )
            task = asyncio.create_task(
                _Session(self, account).run(), name=f"imap-mailbox-{mailbox_id}"
            )
            self._tasks[mailbox_id] = (account, task)

    async def _accounts(self) -> list[Account]:
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            rows = await tx.session.scalars(
                select(Mailbox).where(Mailbox.imap_host.is_not(None), Mailbox.enabled.is_(True))
            )
            return [
                Account(
                    mailbox_id=box.id,
                    host=box.imap_host or "",
                    port=box.imap_port or 993,
                    security=box.imap_security or "tls",
                    username=box.imap_username or "",
                    password_sealed=box.imap_password_sealed,
                    folder=box.imap_folder or "INBOX",
                )
                for box in rows
            ]

    async def _stop_one(self, mailbox_id: int) -> None:
        _, task = self._tasks.pop(mailbox_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if self._locks is not None:
            await self._locks.release(mailbox_id)

    async def _stop_all(self) -> None:
        # All at once: shutdown waits for the slowest, not the sum.
        for _, task in self._tasks.values():
            task.cancel()
        for mailbox_id in list(self._tasks):
            await self._stop_one(mailbox_id)
        if self._locks is not None:
            await self._locks.close()
            self._locks = None


# --- one mailbox ------------------------------------------------------------------------

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_FETCH_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)


class _Session:
    """One mailbox's task: connect, catch up, wait for news, catch up again; and again
    after a back-off when anything fails."""

    def __init__(self, poller: ImapPoller, account: Account) -> None:
        self.p = poller
        self.account = account
        self.backoff = poller.backoff_seconds
        self.last_uid = 0
        # Unexpected failures storing a UID, for stepping over it after ATTEMPTS.
        self.failures: dict[int, int] = {}
        self.lost = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self._connected()
                continue  # a planned reconnection: at once
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                message = _describe(exc, self.account)
                # (An OSError here is the IMAP server's, most likely: said as such.)
                if is_unavailable(exc) or isinstance(exc, OperationalError | SqlTimeout):
                    # parlour.db.outage says so, once per outage, for everyone.
                    log.debug("IMAP mailbox %s: the database is away", self.account.mailbox_id)
                else:
                    log.warning("IMAP mailbox %s: %s", self.account.mailbox_id, message)
                    with contextlib.suppress(Exception):
                        await self._record(error=message)
            await asyncio.sleep(self.backoff)
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)

    async def _connected(self) -> None:
        self.lost.clear()
        client = await self._connect()
        try:
            await self._login(client)
            await self._select(client)
            idle = client.has_capability("IDLE")
            until = asyncio.get_running_loop().time() + self.p.reconnect_seconds
            while True:
                await self._catch_up(client)
                self.backoff = self.p.backoff_seconds
                await self._record(error=None)
                if asyncio.get_running_loop().time() > until:
                    return
                if idle:
                    await self._idle(client)
                else:
                    await asyncio.sleep(self.p.poll_seconds)
                    await self._check(client.noop(), "NOOP")
        finally:
            await _close(client)

    async def _connect(self) -> Any:
        a = self.account
        if a.security not in ("tls", "starttls", "none"):
            raise ImapError(f"Unknown IMAP security {a.security!r}.")
        context = None
        if a.security != "none":
            context = self.p.tls_context or ssl.create_default_context()
        client = aioimaplib.IMAP4(
            host=a.host,
            port=a.port,
            timeout=self.p.timeout,
            conn_lost_cb=lambda _exc: self.lost.set(),
            ssl_context=context if a.security == "tls" else None,
        )
        try:
            await client.wait_hello_from_server()
            if a.security == "starttls":
                assert context is not None
                await self._starttls(client, context)
        except BaseException:
            await _close(client, logout=False)
            raise
        return client

    async def _starttls(self, client: Any, context: ssl.SSLContext) -> None:
        if not client.has_capability("STARTTLS"):
            raise ImapError("The IMAP server does not offer STARTTLS.")
        protocol = client.protocol
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        await self._check(protocol.execute(command), "STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await asyncio.wait_for(
            loop.start_tls(
                protocol.transport, protocol, context, server_hostname=self.account.host
            ),
            self.p.timeout,
        )
        # RFC 3501: what the server offered before TLS is forgotten; ask again.
        await asyncio.wait_for(protocol.capability(), self.p.timeout)

    async def _login(self, client: Any) -> None:
        a = self.account
        password = ""
        if a.password_sealed is not None:
            try:
                password = str(unseal(self.p.rt.settings.secret_key, a.password_sealed)["password"])
            except CannotDecrypt as exc:
                raise ImapError(
                    "The IMAP password cannot be read with this server's PARLOUR_SECRET_KEY; "
                    "enter it again in Settings → Mailboxes."
                ) from exc
        response = await client.login(a.username, password)
        if response.result != "OK":
            raise ImapError(f"The IMAP server refused the login: {_text(response)}")
        # A server may offer more once logged in (IDLE among them): ask again.
        await asyncio.wait_for(client.protocol.capability(), self.p.timeout)

    async def _select(self, client: Any) -> None:
        response = await self._check(client.select(folder_name(self.account.folder)), "SELECT")
        found = next(
            (m for line in response.lines if (m := _UIDVALIDITY.search(bytes(line)))), None
        )
        validity = int(found.group(1)) if found else None
        async with transaction(self.p.rt.db, self.p.rt.hub, write=False) as tx:
            stored = (
                await tx.session.execute(
                    select(Mailbox.imap_uidvalidity, Mailbox.imap_last_uid).where(
                        Mailbox.id == self.account.mailbox_id
                    )
                )
            ).one_or_none()
        if stored is None:
            raise ImapError("The mailbox was removed.")  # the next rescan stops this task
        if validity is not None and stored.imap_uidvalidity != validity:
            if stored.imap_uidvalidity is not None:
                log.info(
                    "IMAP mailbox %s: %s has a new UIDVALIDITY (%s, was %s); reading it again",
                    *(self.account.mailbox_id, self.account.folder, validity),
                    stored.imap_uidvalidity,
                )
            self.last_uid = 0
            await self._write(imap_uidvalidity=validity, imap_last_uid=0)
        else:
            self.last_uid = stored.imap_last_uid or 0

    async def _catch_up(self, client: Any) -> None:
        """Hands every message above ``last_uid`` to the store, in UID order, until a
        listing finds none: one that arrives while others are stored may have been
        announced in their answers (and so not again to the IDLE that follows)."""
        while await self._import_listed(client):
            pass

    async def _import_listed(self, client: Any) -> bool:
        # The FETCH commands' timeout is aioimaplib's, reset by every answer that arrives:
        # a large message on a slow link takes as long as it takes.
        listing = await self._check(
            client.uid("fetch", f"{self.last_uid + 1}:*", "(UID RFC822.SIZE)"),
            "UID FETCH",
            whole=False,
        )
        sizes: dict[int, int] = {}
        for line in listing.lines:
            line = bytes(line)
            found, size = _FETCH_UID.search(line), _FETCH_SIZE.search(line)
            if found is not None:
                sizes[int(found.group(1))] = int(size.group(1)) if size else 0
        # "n:*" names the newest message even when its UID is below n (RFC 3501 6.4.8).
        new = sorted(u for u in sizes if u > self.last_uid)
        for uid in new:
            raw = None
            if sizes[uid] > self.p.max_bytes:
                self._step_over(uid, f"it is {sizes[uid]} bytes, over {self.p.max_bytes}")
            else:
                raw = await self._fetch(client, uid)
                if raw is None:
                    log.info("IMAP mailbox %s: UID %s went away", self.account.mailbox_id, uid)
            # A stop while a message is stored waits for its UID to be recorded too: the
            # next start begins after it rather than handing it to the store again.
            await _to_the_end(self._done_with(uid, raw))
        return bool(new)

    async def _done_with(self, uid: int, raw: bytes | None) -> None:
        if raw is not None:
            await self._store(uid, raw)
        await self._write(imap_last_uid=uid)
        self.last_uid = uid

    async def _fetch(self, client: Any, uid: int) -> bytes | None:
        response = await self._check(
            client.uid("fetch", str(uid), "(UID BODY.PEEK[])"), "UID FETCH", whole=False
        )
        for line in response.lines:
            # The message is the one literal among the lines (aioimaplib: a bytearray).
            if isinstance(line, bytearray):
                return bytes(line)
        return None

    async def _store(self, uid: int, raw: bytes) -> None:
        """Returns once the message is dealt with (stored, a duplicate, or stepped over);
        raises to be retried after the back-off."""
        try:
            outcome = await self.p.store(self.p.rt, self.account.mailbox_id, raw)
        except Exception as exc:
            # Checked first: DatabaseUnavailable is a ParlourError too, and a database
            # away for a while must not cost a single mail.
            if _database_away(exc):
                raise
            if isinstance(exc, ParlourError):
                self._step_over(uid, f"the store refused it ({exc.code}: {exc.message})")
                return
            tries = self.failures[uid] = self.failures.get(uid, 0) + 1
            if tries < ATTEMPTS:
                log.exception(
                    "IMAP mailbox %s: storing UID %s failed", self.account.mailbox_id, uid
                )
                raise
            log.exception(
                "IMAP mailbox %s: storing UID %s failed %s times; stepping over it",
                *(self.account.mailbox_id, uid, tries),
            )
            return
        self.failures.pop(uid, None)
        log.debug("IMAP mailbox %s: UID %s %s", self.account.mailbox_id, uid, outcome)

    def _step_over(self, uid: int, why: str) -> None:
        log.warning(
            "IMAP mailbox %s: %s UID %s not imported: %s",
            *(self.account.mailbox_id, self.account.folder, uid, why),
        )

    async def _idle(self, client: Any) -> None:
        """Returns when the server says something (new mail, most likely), after
        ``idle_seconds``, or raises when the connection is lost."""
        idle = await client.idle_start(timeout=self.p.idle_seconds)
        push = asyncio.ensure_future(client.wait_server_push(timeout=self.p.idle_seconds + 60))
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
            if self.lost.is_set():
                raise ImapError("The IMAP server closed the connection.")
            client.idle_done()
            await asyncio.wait_for(idle, self.p.timeout)
        finally:
            for waiting in (push, lost, idle):
                waiting.cancel()

    async def _check(self, call: Awaitable[Any], what: str, *, whole: bool = True) -> Any:
        """The answer of an OK command. ``whole``: it must come within the timeout;
        else the command keeps its own timeout, on the time between answers."""
        response = await (asyncio.wait_for(call, self.p.timeout) if whole else call)
        if response.result != "OK":
            raise ImapError(
                f"The IMAP server answered {what} with {response.result}: {_text(response)}"
            )
        return response

    async def _record(self, *, error: str | None) -> None:
        await self._write(imap_error=error[:ERROR_CHARS] if error else None, imap_checked_at=_now())

    async def _write(self, **values: Any) -> None:
        # Only while the mailbox still points at this server and folder: a change in
        # Settings resets where polling got to, and this task is about to be stopped.
        a = self.account
        async with transaction(self.p.rt.db, self.p.rt.hub) as tx:
            await tx.session.execute(
                update(Mailbox)
                .where(
                    Mailbox.id == a.mailbox_id,
                    Mailbox.imap_host == a.host,
                    Mailbox.imap_folder == a.folder,
                )
                .values(**values)
            )
            await tx.commit()


def folder_name(folder: str) -> str:
    """``folder`` as a SELECT names it: quoted, in IMAP's modified UTF-7 (RFC 3501 5.1.3),
    so that "Sent Items" or "Boîte de réception" work as typed in Settings."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            packed = base64.b64encode("".join(run).encode("utf-16-be")).decode()
            out.append("&" + packed.rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in folder:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    encoded = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{encoded}"'


async def _close(client: Any, *, logout: bool = True) -> None:
    """Logs out (unless in IDLE: that would wait for the IDLE to end), closes the
    connection, and cancels what aioimaplib left waiting on it."""
    if logout and not client.has_pending_idle():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), 2)
    if client._idle_waiter is not None:
        client._idle_waiter.cancel()
    for task in [*client.tasks, *client.protocol.tasks]:
        task.cancel()
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


async def _to_the_end(step: Coroutine[Any, Any, None]) -> None:
    """Runs ``step`` to its end even when the caller is cancelled meanwhile, then passes
    the cancellation on. Each of its database calls has its own timeout, so a stop
    waits at most that long."""
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def _database_away(exc: BaseException) -> bool:
    """The database not answering (or not in time), as opposed to refusing this mail."""
    if is_unavailable(exc):
        return True
    if isinstance(exc, OperationalError | InterfaceError | SqlTimeout):
        return True
    # A connection refused before SQLAlchemy could wrap it (asyncpg).
    return isinstance(exc, OSError | TimeoutError)


def _now() -> datetime:
    return datetime.now(UTC)


def _text(response: Any) -> str:
    lines = [
        bytes(x).decode(errors="replace") for x in response.lines if not isinstance(x, bytearray)
    ]
    return (lines[-1] if lines else "").strip()


def _describe(exc: BaseException, account: Account) -> str:
    where = f"{account.host}:{account.port}"
    if isinstance(exc, ImapError):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"The IMAP server's TLS certificate was not accepted: {exc.verify_message}."
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"The IMAP server {where} did not answer in time."
    if isinstance(exc, OSError):
        return f"The IMAP server {where} could not be reached: {exc.strerror or exc}."
    if isinstance(exc, aioimaplib.AioImapException):
        return f"The IMAP server {where} answered unexpectedly: {exc}"
    return f"Polling {where} failed: {type(exc).__name__}: {exc}"


# --- one poller per mailbox across processes ---------------------------------------------


class _Locks(Protocol):
    async def take(self, mailbox_id: int) -> bool: ...

    async def release(self, mailbox_id: int) -> None: ...

    async def alive(self) -> bool: ...

    async def close(self) -> None: ...


async def _open_locks(db: Database) -> _Locks:
    if db.dialect == "postgresql":
        return await _PgLocks.open(db.writer)
    path = make_url(str(db.writer.url)).database
    if path and path != ":memory:" and _has_flock():
        return _FileLocks(path)
    return _ProcessLocks()


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        return False
    return True


def _lock_name(mailbox_id: int) -> str:
    # Never a worker slot's "host/n": the advisory lock keys are CRC-32s of these.
    return f"imap-mailbox:{mailbox_id}"


class _FileLocks:
    def __init__(self, path: str) -> None:
        self._path = path
        self._fds: dict[int, int] = {}

    async def take(self, mailbox_id: int) -> bool:
        try:
            fd = slots.try_flock(f"{self._path}-imap-{mailbox_id}.lock")
        except OSError as exc:
            log.warning("no IMAP lock file beside %s (%s): polling anyway", self._path, exc)
            return True
        if fd is None:
            return False
        self._fds[mailbox_id] = fd
        return True

    async def release(self, mailbox_id: int) -> None:
        fd = self._fds.pop(mailbox_id, None)
        if fd is not None:
            os.close(fd)

    async def alive(self) -> bool:
        return True

    async def close(self) -> None:
        for mailbox_id in list(self._fds):
            await self.release(mailbox_id)


class _ProcessLocks:
    """An in-memory database: only this process reaches it."""

    _held: set[int] = set()  # noqa: RUF012 - shared by every poller of the process

    def __init__(self) -> None:
        self._mine: set[int] = set()

    async def take(self, mailbox_id: int) -> bool:
        if mailbox_id in self._held:
            return False
        self._held.add(mailbox_id)
        self._mine.add(mailbox_id)
        return True

    async def release(self, mailbox_id: int) -> None:
        if mailbox_id in self._mine:
            self._mine.discard(mailbox_id)
            self._held.discard(mailbox_id)

    async def alive(self) -> bool:
        return True

    async def close(self) -> None:
        for mailbox_id in list(self._mine):
            await self.release(mailbox_id)


class _PgLocks:
    """Advisory locks on one connection of their own, autocommit, for as long as the
    poller runs (as parlour/outbox/slots.py's worker slots)."""

    def __init__(self, engine: AsyncEngine, conn: AsyncConnection) -> None:
        self._engine = engine
        self._conn = conn
        self._held: set[int] = set()

    @classmethod
    async def open(cls, writer: AsyncEngine) -> _PgLocks:
        engine = create_async_engine(writer.url, poolclass=NullPool)
        try:
            conn = await engine.connect()
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for setting in slots.SESSION_SETTINGS:
                with contextlib.suppress(Exception):
                    await conn.exec_driver_sql(setting)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, conn)

    async def take(self, mailbox_id: int) -> bool:
        if await slots.try_lock(self._conn, _lock_name(mailbox_id)):
            self._held.add(mailbox_id)
            return True
        return False

    async def release(self, mailbox_id: int) -> None:
        if mailbox_id in self._held:
            self._held.discard(mailbox_id)
            with contextlib.suppress(Exception):  # a dead session has let go already
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:k1, :k2)"),
                    {"k1": slots.LOCK_CLASS, "k2": slots.lock_key(_lock_name(mailbox_id))},
                )

    async def alive(self) -> bool:
        try:
            await self._conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._conn.close()
        await self._engine.dispose()


# --- parlour serve ----------------------------------------------------------------------


def start(rt: Runtime, stop: asyncio.Event) -> asyncio.Task[None]:
    """Polls every mailbox's IMAP folder until ``stop`` is set; the lifespan awaits the
    task at shutdown, as it does the outbox worker's."""
    return asyncio.create_task(ImapPoller(rt).run(stop), name="imap-poller")
