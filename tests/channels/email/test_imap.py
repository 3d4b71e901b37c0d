"""IMAP polling (parlour/channels/email/imap.py) against a real Dovecot server.

Each test starts its own Dovecot (tests/services.py DovecotServer; ``make dovecot``
installs it) and delivers mail into it by IMAP APPEND, as another mail client would.
The poller hands what it finds to the real store (inbound.receive); what the tests check
is what a user sees: messages in the sender's thread, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from parlour.app import create_app
from parlour.channels.email import inbound
from parlour.channels.email.imap import ATTEMPTS, IDLE_SECONDS, ImapPoller, folder_name
from parlour.channels.email.mime import MailTooLarge
from parlour.channels.email.models import Mailbox
from parlour.config import Settings
from parlour.conversations.models import Message
from parlour.db.migrate import migrate
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from tests.channels.email.conftest import add_mailbox, unique_address
from tests.conftest import Tenant, make_tenant, wait_for
from tests.fakes.smtp import Certificate
from tests.services import DovecotServer, PostgresServer

# Most tests run on SQLite only: what they exercise is the conversation with the server.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    # (Naming database_url lets a test choose it: see SQLITE.)
    # The app's own poller would take the mailboxes' locks: each test runs its own.
    return settings.model_copy(update={"imap_poll": False})


@pytest.fixture(autouse=True)
async def _forget_servers(runtime: Runtime) -> AsyncIterator[None]:
    # The tests share a database: a later test's poller should not poll the servers of
    # earlier ones, stopped by then.
    yield
    async with transaction(runtime.db, runtime.hub) as tx:
        await tx.session.execute(update(Mailbox).values(imap_host=None))
        await tx.commit()


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer().start()
    yield server
    server.remove()


def mail(subject: str, *, sender: str = "pat@customer.example", size: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Pat <{sender}>"
    msg["To"] = "help@company.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="customer.example")
    msg.set_content("Hello there.\n" + "x" * size)
    return msg.as_bytes()


class Recorder:
    """The store the poller is given: the real one, noting what it was handed, refusing
    (as the store does a mail over its size limit) the subjects in ``refuse``."""

    def __init__(
        self,
        refuse: frozenset[str] = frozenset(),
        fail: frozenset[str] = frozenset(),
        hold: str | None = None,
    ) -> None:
        self.subjects: list[str] = []
        self.refuse = refuse
        # These fail as a bug would: not a refusal.
        self.fail = fail
        # This one waits for ``release`` before it is stored (``holding`` says it does).
        self.hold = hold
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, rt: Runtime, mailbox_id: int, raw: bytes) -> str:
        subject = next(
            line[9:].decode() for line in raw.splitlines() if line.startswith(b"Subject: ")
        )
        self.subjects.append(subject)
        if subject in self.refuse:
            raise MailTooLarge("The mail is too large.")
        if subject in self.fail:
            raise RuntimeError("unexpected")
        if subject == self.hold:
            self.holding.set()
            await self.release.wait()
        received = await inbound.receive(rt, mailbox_id=mailbox_id, raw=raw, via="imap")
        return received.outcome


def poller(rt: Runtime, store: Recorder, **options: Any) -> ImapPoller:
    defaults: dict[str, Any] = {
        "rescan_seconds": 0.2,
        "backoff_seconds": 0.2,
        "poll_seconds": 3600,  # IDLE, or nothing: no test waits for a poll
        "timeout": 5,
    }
    return ImapPoller(rt, store=store, **{**defaults, **options})


@contextlib.asynccontextmanager
async def running(p: ImapPoller) -> AsyncIterator[ImapPoller]:
    stop = asyncio.Event()
    task = asyncio.create_task(p.run(stop))
    try:
        yield p
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def imap_mailbox(
    client: httpx.AsyncClient, tenant: Tenant, server: DovecotServer, **imap: Any
) -> dict[str, Any]:
    return await add_mailbox(
        client,
        tenant,
        unique_address(),
        **{
            "imap_host": "127.0.0.1",
            "imap_port": server.port,
            "imap_security": "none",
            "imap_username": server.user,
            "imap_password": server.password,
            **imap,
        },
    )


async def subjects_stored(rt: Runtime, tenant: Tenant) -> list[str]:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        rows = await tx.session.scalars(
            select(Message.subject)
            .where(Message.account_id == tenant.account_id, Message.direction == "in")
            .order_by(Message.id)
        )
        return [s or "" for s in rows]


async def mailbox_row(rt: Runtime, mailbox_id: int) -> Mailbox:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        box = await tx.session.get(Mailbox, mailbox_id)
        assert box is not None
        return box


async def stored_count(rt: Runtime, tenant: Tenant, n: int) -> bool:
    return len(await subjects_stored(rt, tenant)) >= n


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def test_imports_new_mail_in_uid_order_into_the_senders_thread_once(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    for n in (1, 2, 3):
        dovecot.append(mail(f"{t} first {n}"))
    box = await imap_mailbox(client, tenant, dovecot)
    store = Recorder()
    async with running(poller(runtime, store)):
        await wait_for(lambda: stored_count(runtime, tenant, 3))
        dovecot.append(mail(f"{t} later"))
        await wait_for(lambda: stored_count(runtime, tenant, 4))
        await asyncio.sleep(0.5)
    first = [f"{t} first {n}" for n in (1, 2, 3)]
    assert store.subjects == [*first, f"{t} later"]
    assert await subjects_stored(runtime, tenant) == [*first, f"{t} later"]
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        threads = await tx.session.scalar(
            select(func.count(func.distinct(Message.conversation_id))).where(
                Message.account_id == tenant.account_id
            )
        )
    assert threads == 1  # one sender, one thread
    row = await mailbox_row(runtime, box["id"])
    assert row.imap_last_uid == 4
    assert row.imap_uidvalidity is not None
    assert row.imap_error is None and row.imap_checked_at is not None


async def test_a_restarted_poller_imports_nothing_twice(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    dovecot.append(mail(f"{t} one"))
    dovecot.append(mail(f"{t} two"))
    await imap_mailbox(client, tenant, dovecot)
    first = Recorder()
    async with running(poller(runtime, first)):
        await wait_for(lambda: stored_count(runtime, tenant, 2))
    dovecot.append(mail(f"{t} three"))
    second = Recorder()
    async with running(poller(runtime, second)):
        await wait_for(lambda: stored_count(runtime, tenant, 3))
        await asyncio.sleep(0.5)
    assert second.subjects == [f"{t} three"]  # not even handed the old ones again
    assert await subjects_stored(runtime, tenant) == [f"{t} one", f"{t} two", f"{t} three"]


async def test_a_stop_while_a_mail_is_stored_lets_it_finish_and_records_it(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    dovecot.append(mail(f"{t} one"))
    dovecot.append(mail(f"{t} two"))
    box = await imap_mailbox(client, tenant, dovecot)
    store = Recorder(hold=f"{t} two")
    async with running(poller(runtime, store)):
        await asyncio.wait_for(store.holding.wait(), 10)
        # The stop (leaving this block) comes while "two" is half stored.
        asyncio.get_running_loop().call_later(0.3, store.release.set)
    assert await subjects_stored(runtime, tenant) == [f"{t} one", f"{t} two"]
    assert (await mailbox_row(runtime, box["id"])).imap_last_uid == 2  # not handed again


@SQLITE
async def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    dovecot: DovecotServer,
) -> None:
    t = tag()
    dovecot.recreate("Work")
    one, two = mail(f"{t} one"), mail(f"{t} two")
    dovecot.append(one, "Work")
    dovecot.append(two, "Work")
    box = await imap_mailbox(client, tenant, dovecot, imap_folder="Work")
    store = Recorder()
    async with running(poller(runtime, store)):
        await wait_for(lambda: stored_count(runtime, tenant, 2))
    before = (await mailbox_row(runtime, box["id"])).imap_uidvalidity
    # The folder renumbered (deleted and made again, as a server migration does), holding
    # the same two mails and a new one: the poller, at its next connection, reads it all
    # again. (Not while connected: Dovecot's own session on a folder deleted under it
    # goes on seeing the old one.)
    dovecot.recreate("Work")
    for raw in (one, two, mail(f"{t} three")):
        dovecot.append(raw, "Work")
    async with running(poller(runtime, store)):
        await wait_for(lambda: stored_count(runtime, tenant, 3))
        await asyncio.sleep(0.5)
    assert store.subjects == [f"{t} one", f"{t} two"] * 2 + [f"{t} three"]
    assert await subjects_stored(runtime, tenant) == [f"{t} one", f"{t} two", f"{t} three"]
    row = await mailbox_row(runtime, box["id"])
    assert row.imap_uidvalidity != before
    assert row.imap_last_uid == 3


@SQLITE
async def test_a_folder_renumbered_while_connected_is_read_again_at_the_next_session(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    dovecot.recreate("Work")
    one = mail(f"{t} one")
    dovecot.append(one, "Work")
    box = await imap_mailbox(client, tenant, dovecot, imap_folder="Work")
    store = Recorder()
    # Sessions of a second, IDLE re-issued every 0.3 s (4 hours and 25 minutes in use).
    async with running(poller(runtime, store, reconnect_seconds=1, idle_seconds=0.3)):
        await wait_for(lambda: stored_count(runtime, tenant, 1))
        before = (await mailbox_row(runtime, box["id"])).imap_uidvalidity
        dovecot.recreate("Work")
        for raw in (one, mail(f"{t} two")):
            dovecot.append(raw, "Work")
        await wait_for(lambda: stored_count(runtime, tenant, 2), within=10)
        await asyncio.sleep(0.5)
    assert await subjects_stored(runtime, tenant) == [f"{t} one", f"{t} two"]
    assert store.subjects == [f"{t} one", f"{t} one", f"{t} two"]
    row = await mailbox_row(runtime, box["id"])
    assert row.imap_uidvalidity != before
    assert row.imap_error is None


@SQLITE
# The IDLE held throughout, or re-issued every 0.3 s (every 25 minutes in use).
@pytest.mark.parametrize("idle_seconds", [IDLE_SECONDS, 0.3])
async def test_idle_delivers_new_mail_within_two_seconds(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    dovecot: DovecotServer,
    idle_seconds: float,
) -> None:
    t = tag()
    await imap_mailbox(client, tenant, dovecot)
    store = Recorder()
    # poll_seconds is an hour: only IDLE can bring the mail in time.
    async with running(poller(runtime, store, idle_seconds=idle_seconds)):
        await wait_for(lambda: _checked(runtime, tenant))
        await asyncio.sleep(1)  # into IDLE, and out and in again for the short one
        dovecot.append(mail(f"{t} pushed"))
        await wait_for(lambda: stored_count(runtime, tenant, 1), within=2.0)
    assert await subjects_stored(runtime, tenant) == [f"{t} pushed"]


async def _checked(rt: Runtime, tenant: Tenant) -> bool:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        checked = await tx.session.scalar(
            select(Mailbox.imap_checked_at).where(
                Mailbox.account_id == tenant.account_id, Mailbox.imap_host.is_not(None)
            )
        )
    return checked is not None


@SQLITE
async def test_a_server_without_idle_is_polled(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    server = DovecotServer(idle=False).start()
    try:
        t = tag()
        await imap_mailbox(client, tenant, server)
        async with running(poller(runtime, Recorder(), poll_seconds=0.3)):
            await wait_for(lambda: _checked(runtime, tenant))
            server.append(mail(f"{t} polled"))
            await wait_for(lambda: stored_count(runtime, tenant, 1), within=3)
        assert await subjects_stored(runtime, tenant) == [f"{t} polled"]
    finally:
        server.remove()


@SQLITE
async def test_a_refused_login_is_shown_and_retried_until_it_works(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    dovecot: DovecotServer,
) -> None:
    t = tag()
    dovecot.append(mail(f"{t} waiting"))
    box = await imap_mailbox(client, tenant, dovecot, imap_password="wrong")
    async with running(poller(runtime, Recorder())):

        async def error() -> str | None:
            return (await mailbox_row(runtime, box["id"])).imap_error

        message = await wait_for(error)
        assert "refused the login" in message
        assert (await mailbox_row(runtime, box["id"])).imap_checked_at is not None
        # The server's administrator sets the password the mailbox has: the poller, still
        # trying, gets in without anyone touching Parlour.
        dovecot.set_password("wrong")
        await wait_for(lambda: stored_count(runtime, tenant, 1), within=10)
        await wait_for(lambda: _no_error(runtime, box["id"]))
    assert await subjects_stored(runtime, tenant) == [f"{t} waiting"]


@SQLITE
async def test_a_folder_that_does_not_exist_is_reported(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    box = await imap_mailbox(client, tenant, dovecot, imap_folder="Nowhere")
    async with running(poller(runtime, Recorder())):

        async def error() -> str | None:
            return (await mailbox_row(runtime, box["id"])).imap_error

        message = await wait_for(error)
    assert "SELECT" in message and "NO" in message, message


async def _no_error(rt: Runtime, mailbox_id: int) -> bool:
    return (await mailbox_row(rt, mailbox_id)).imap_error is None


@SQLITE
async def test_mail_the_store_refuses_does_not_block_the_mail_after_it(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    dovecot: DovecotServer,
) -> None:
    t = tag()
    dovecot.append(mail(f"{t} before"))
    dovecot.append(mail(f"{t} refused"))
    dovecot.append(mail(f"{t} huge", size=20_000))
    dovecot.append(mail(f"{t} after"))
    box = await imap_mailbox(client, tenant, dovecot)
    store = Recorder(refuse=frozenset({f"{t} refused"}))
    # Over max_bytes by the server's count: never even downloaded.
    async with running(poller(runtime, store, max_bytes=10_000)):
        await wait_for(lambda: stored_count(runtime, tenant, 2))
        await wait_for(lambda: _last_uid(runtime, box["id"], 4))
    assert store.subjects == [f"{t} before", f"{t} refused", f"{t} after"]
    assert await subjects_stored(runtime, tenant) == [f"{t} before", f"{t} after"]


@SQLITE
async def test_mail_that_fails_unexpectedly_is_retried_then_stepped_over(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    for name in ("before", "failing", "after"):
        dovecot.append(mail(f"{t} {name}"))
    box = await imap_mailbox(client, tenant, dovecot)
    store = Recorder(fail=frozenset({f"{t} failing"}))
    async with running(poller(runtime, store, backoff_seconds=0.05)):
        await wait_for(lambda: _last_uid(runtime, box["id"], 3))
    # Each try begins where the last stopped: what was stored is not handed over again.
    assert store.subjects == [f"{t} before", *[f"{t} failing"] * ATTEMPTS, f"{t} after"]
    assert await subjects_stored(runtime, tenant) == [f"{t} before", f"{t} after"]


async def _last_uid(rt: Runtime, mailbox_id: int, uid: int) -> bool:
    return (await mailbox_row(rt, mailbox_id)).imap_last_uid == uid


@SQLITE
@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    certificate: Certificate,
    security: str,
) -> None:
    server = DovecotServer(cert=(certificate.cert, certificate.key)).start()
    try:
        t = tag()
        server.append(mail(f"{t} secure"))
        port = server.tls_port if security == "tls" else server.port
        box = await imap_mailbox(client, tenant, server, imap_security=security, imap_port=port)
        trusted = poller(runtime, Recorder(), tls_context=certificate.client_context())
        async with running(trusted):
            await wait_for(lambda: stored_count(runtime, tenant, 1))
        assert await subjects_stored(runtime, tenant) == [f"{t} secure"]
        # The system's authorities do not know the test's certificate: refused, and said.
        untrusting = poller(runtime, Recorder())
        async with running(untrusting):

            async def error() -> str | None:
                return (await mailbox_row(runtime, box["id"])).imap_error

            assert "certificate was not accepted" in await wait_for(error)
    finally:
        server.remove()


async def test_two_pollers_on_one_database_poll_each_mailbox_once(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    dovecot: DovecotServer,
) -> None:
    t = tag()
    await imap_mailbox(client, tenant, dovecot)
    first, second = Recorder(), Recorder()
    stop_first = asyncio.Event()
    first_run = asyncio.create_task(poller(runtime, first).run(stop_first))
    try:
        await wait_for(lambda: _checked(runtime, tenant))
        async with running(poller(runtime, second)):
            for n in (1, 2, 3):
                dovecot.append(mail(f"{t} {n}"))
            await wait_for(lambda: stored_count(runtime, tenant, 3))
            await asyncio.sleep(0.5)
            assert second.subjects == []  # the first holds the mailbox
            # The first stops (or its process dies): the second takes the mailbox over
            # at its next rescan.
            stop_first.set()
            await asyncio.wait_for(first_run, 10)
            dovecot.append(mail(f"{t} 4"))
            await wait_for(lambda: stored_count(runtime, tenant, 4))
    finally:
        stop_first.set()
        await asyncio.wait_for(first_run, 10)
    assert first.subjects == [f"{t} {n}" for n in (1, 2, 3)]
    assert second.subjects == [f"{t} 4"]
    assert await subjects_stored(runtime, tenant) == [f"{t} {n}" for n in (1, 2, 3, 4)]


@SQLITE
async def test_mailboxes_added_changed_and_removed_are_picked_up(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    dovecot.recreate("Work")
    dovecot.append(mail(f"{t} inbox"))
    dovecot.append(mail(f"{t} work"), "Work")
    async with running(poller(runtime, Recorder())):
        box = await imap_mailbox(client, tenant, dovecot)
        await wait_for(lambda: stored_count(runtime, tenant, 1))
        # Another folder: its task starts again there, from that folder's first UID.
        r = await client.patch(
            f"/api/v1/mailboxes/{box['id']}",
            json={"imap_folder": "Work"},
            headers=tenant.admin_headers,
        )
        assert r.status_code == 200, r.text
        await wait_for(lambda: stored_count(runtime, tenant, 2))
        # No IMAP server any more: no more polling.
        r = await client.patch(
            f"/api/v1/mailboxes/{box['id']}", json={"imap_host": None}, headers=tenant.admin_headers
        )
        assert r.status_code == 200, r.text
        await asyncio.sleep(0.5)
        dovecot.append(mail(f"{t} unread"), "Work")
        await asyncio.sleep(1)
    assert await subjects_stored(runtime, tenant) == [f"{t} inbox", f"{t} work"]


@SQLITE
async def test_a_folder_named_with_spaces_and_accents(
    runtime: Runtime, client: httpx.AsyncClient, tenant: Tenant, dovecot: DovecotServer
) -> None:
    t = tag()
    folder = "Boîte de réception & co"
    dovecot.recreate(folder_name(folder))
    dovecot.append(mail(f"{t} accented"), folder_name(folder))
    await imap_mailbox(client, tenant, dovecot, imap_folder=folder)
    async with running(poller(runtime, Recorder())):
        await wait_for(lambda: stored_count(runtime, tenant, 1))
    assert await subjects_stored(runtime, tenant) == [f"{t} accented"]


# A PostgreSQL server of its own, to stop (the shared fixtures' database: SQLite).
@SQLITE
@pytest.mark.postgres
async def test_mail_that_came_while_the_database_was_down_is_stored_when_it_is_back(
    dovecot: DovecotServer,
) -> None:
    pg = PostgresServer()
    pg.start()
    try:
        await migrate(pg.url)
        settings = Settings(
            database_url=pg.url,
            secret_key="test-secret",
            public_url="http://test",
            imap_poll=False,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            rt: Runtime = app.state.runtime
            tenant = await make_tenant(rt)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await imap_mailbox(client, tenant, dovecot)
            t = tag()
            store = Recorder()
            async with running(poller(rt, store, backoff_seconds=0.1)):
                await wait_for(lambda: _checked(rt, tenant))
                await asyncio.to_thread(pg.stop)
                dovecot.append(mail(f"{t} meanwhile"))

                async def handed_over() -> bool:
                    return bool(store.subjects)

                await wait_for(handed_over)  # and the store failed: no database
                await asyncio.sleep(1)
                await asyncio.to_thread(pg.start)
                await wait_for(lambda: stored_count(rt, tenant, 1), within=20)
            assert await subjects_stored(rt, tenant) == [f"{t} meanwhile"]
    finally:
        pg.remove()


@SQLITE
async def test_parlour_serve_polls_the_mailboxes(
    runtime: Runtime,
    client: httpx.AsyncClient,
    tenant: Tenant,
    dovecot: DovecotServer,
    settings: Settings,
) -> None:
    t = tag()
    dovecot.append(mail(f"{t} served"))
    await imap_mailbox(client, tenant, dovecot)
    # A second server process on the same database, with polling on (the default).
    served: FastAPI = create_app(settings.model_copy(update={"imap_poll": True}))
    async with served.router.lifespan_context(served):
        await wait_for(lambda: stored_count(runtime, tenant, 1), within=10)
    assert await subjects_stored(runtime, tenant) == [f"{t} served"]
