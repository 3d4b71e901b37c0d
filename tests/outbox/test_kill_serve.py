"""`kill -9` of a real `parlour serve` on SQLite while it delivers 200 queued texts through
the local Twilio: after a restart every text has gone out exactly once and is delivered
within 10 seconds, not after the 60-second lease of the sends the kill interrupted."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from parlour.channels.registry import make_channels, make_providers
from parlour.config import Settings
from parlour.contacts import service as contacts_service
from parlour.contacts.schemas import ContactIn, PhoneIn
from parlour.conversations import outbound, thread
from parlour.conversations.channel import Author, Draft
from parlour.conversations.models import Message
from parlour.db.engine import make_database
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub
from parlour.runtime import Runtime
from tests.channels.sms.test_crash import Server
from tests.conftest import Tenant, make_tenant
from tests.fakes.twilio import FakeTwilio, new_number

TEXTS = 200
CONTACTS = 10
KILL_AT = 120  # the text whose answer Twilio holds back while the server is killed


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    # One process serving on SQLite: the embedded default.
    return sqlite_url


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    f = FakeTwilio().start()
    f.post_callbacks = True
    yield f
    f.stop()


@pytest.fixture
def server(database_url: str, fake: FakeTwilio) -> Iterator[Server]:
    s = Server(database_url, fake.base_url)
    # Callbacks lost with the killed process are asked about a second after the send.
    s.env["PARLOUR_STATUS_CHECK_AFTER_SECONDS"] = "1"
    yield s
    s.stop()


async def prepare(server: Server, fake: FakeTwilio, database_url: str) -> tuple[Tenant, int]:
    """A tenant connected to the fake Twilio (through the running server); its number."""
    async with runtime(database_url) as rt:
        tenant = await make_tenant(rt, with_channels=False)
    acct = fake.add_account(numbers=[new_number()])
    async with httpx.AsyncClient(
        base_url=server.url, headers=tenant.admin_headers, timeout=20
    ) as c:
        r = await c.put(
            "/api/v1/sms/providers/twilio",
            json={"account_sid": acct.sid, "auth_token": acct.auth_token},
        )
        assert r.status_code == 200, r.text
        r = await c.post("/api/v1/sms/providers/twilio/numbers/import", json={})
        number_id: int = r.json()["imported"][0]["id"]
    return tenant, number_id


@asynccontextmanager
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    rt = Runtime(
        settings=settings,
        db=make_database(settings),
        hub=make_hub(settings),
        channels=make_channels(settings, make_providers(settings)),
    )
    try:
        yield rt
    finally:
        await rt.db.dispose()


async def queue(database_url: str, tenant: Tenant, number_id: int, bodies: list[str]) -> None:
    """The texts queued at once, as a campaign would queue them (the sending code the API
    runs, in one transaction): the server's worker finds them at its next poll."""
    async with runtime(database_url) as rt, transaction(rt.db, rt.hub) as tx:
        author = Author(kind="user", user_id=tenant.admin_id)
        threads = []
        for i in range(CONTACTS):
            contact = await contacts_service.create_contact(
                tx,
                account_id=tenant.account_id,
                data=ContactIn(name=f"Contact {i}", phones=[PhoneIn(number=new_number())]),
                region="US",
            )
            threads.append(
                await thread.get_or_open(tx, account_id=tenant.account_id, contact_id=contact.id)
            )
        for i, body in enumerate(bodies):
            await outbound.send_message(
                tx,
                channel=rt.channels["sms"],
                account_id=tenant.account_id,
                conversation_id=threads[i % CONTACTS].id,
                author=author,
                draft=Draft(body=body, sender_id=number_id),
            )
        await tx.commit()


async def statuses(database_url: str, account_id: int) -> Counter[str]:
    """What the agents see of the texts, read from the database itself: polling the API
    would load the server being measured."""
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        async with db.lookups() as conn:
            rows = await conn.execute(
                select(Message.status, func.count())
                .where(Message.account_id == account_id, Message.direction == "out")
                .group_by(Message.status)
            )
            return Counter({status: n for status, n in rows.tuples()})
    finally:
        await db.dispose()


async def test_killed_while_sending_200_every_text_goes_out_once_and_soon(
    server: Server, fake: FakeTwilio, database_url: str
) -> None:
    server.start()
    tenant, number_id = await prepare(server, fake, database_url)
    bodies = [f"Text {i} of {TEXTS}" for i in range(TEXTS)]
    fake.hang_at = KILL_AT
    await queue(database_url, tenant, number_id, bodies)
    assert await asyncio.to_thread(fake.hanging.wait, 30), "the worker never got that far"
    server.kill()
    fake.hang_at = None
    fake.release.set()  # Twilio's answer goes nowhere, and so do its callbacks
    assert KILL_AT <= len(fake.messages) < TEXTS

    # Measured from when the restarted server answers: its start (Python, migrations) is
    # not the outbox's doing, and takes seconds on a busy machine.
    server.start()
    restarted = time.monotonic()
    while True:
        seen = await statuses(database_url, tenant.account_id)
        if seen == Counter({"delivered": TEXTS}):
            break
        assert time.monotonic() - restarted < 10, f"not all delivered in 10 s: {seen}"
        await asyncio.sleep(0.25)
    assert Counter(m.body for m in fake.messages if m.body in bodies) == Counter(bodies)
