"""A worker that starts finds the rows a dead worker left "sending" (itself before a crash,
or another that never came back) and reconciles them at once, not after their 60-second
lease; a live worker's rows are left alone. Each text reaches the contact exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from parlour.config import Settings
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.outbox import slots
from parlour.outbox.models import OutboxItem
from parlour.outbox.worker import OutboxWorker
from parlour.runtime import Runtime
from tests.channels.sms.conftest import PUBLIC_URL, Twilio, connect_twilio
from tests.channels.sms.test_twilio_outbound import send, start_thread
from tests.conftest import Tenant, wait_for
from tests.fakes.twilio import FakeTwilio, new_number


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    # No worker in the app: each test starts (and kills) its own.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url=PUBLIC_URL,
        run_worker=False,
        worker_poll_seconds=0.05,
        twilio_api_base=fake_twilio.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def twilio(client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio) -> Twilio:
    return await connect_twilio(client, tenant, fake_twilio)


@asynccontextmanager
async def running(worker: OutboxWorker) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield task
    finally:
        stop.set()
        worker.rt.outbox_wakeup.set()
        if not task.done():
            await task


async def queue_texts(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, bodies: list[str]
) -> tuple[str, list[int]]:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    ids = []
    for body in bodies:
        r = await send(client, tenant, conv_id, twilio.number_id, body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return phone, ids


async def rows(rt: Runtime, ids: list[int]) -> list[tuple[str, str | None, str]]:
    """(outbox state, claimed_by, message status) of each message."""
    async with transaction(rt.db, rt.hub, write=False) as tx:
        found = (
            await tx.session.execute(
                select(
                    OutboxItem.message_id, OutboxItem.state, OutboxItem.claimed_by, Message.status
                )
                .join(Message, Message.id == OutboxItem.message_id)
                .where(OutboxItem.message_id.in_(ids))
            )
        ).all()
    by_id = {r[0]: (r[1], r[2], r[3]) for r in found}
    return [by_id[i] for i in ids]


async def all_sent(rt: Runtime, ids: list[int]) -> bool:
    return all(status == "sent" for _, _, status in await rows(rt, ids))


async def hang_on_first_send(fake: FakeTwilio) -> None:
    """Twilio has taken the first text and its answer is on the way: the worker waits."""
    assert await asyncio.to_thread(fake.hanging.wait, 10), "the worker never called Twilio"


def bodies(n: int) -> list[str]:
    return [f"Text {i} of {n}" for i in range(n)]


async def test_a_worker_restarted_after_a_crash_reconciles_its_sends_at_once(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
) -> None:
    fake_twilio.send_callbacks = False  # they would have reached the dead process
    texts = bodies(4)
    phone, ids = await queue_texts(client, tenant, twilio, texts)
    fake_twilio.hang_after_accept = True
    crashed = OutboxWorker(runtime)
    async with running(crashed) as task:
        await hang_on_first_send(fake_twilio)
        dead_id = crashed.claimed_by
        task.cancel()  # the process dies: its slot's lock goes with it
        with pytest.raises(asyncio.CancelledError):
            await task
    fake_twilio.hang_after_accept = False
    fake_twilio.release.set()
    # As the crash left them: all claimed, leased for another minute, one at Twilio.
    assert {(state, by) for state, by, _ in await rows(runtime, ids)} == {("sending", dead_id)}
    assert [m.body for m in fake_twilio.sent_to(phone)] == texts[:1]

    started = time.monotonic()
    restarted = OutboxWorker(runtime)
    async with running(restarted):
        await wait_for(lambda: all_sent(runtime, ids), within=10)
        assert restarted.slot is not None and restarted.slot.id == crashed_slot(dead_id)
    assert time.monotonic() - started < 5  # not the 60 s lease
    # Exactly once each: the first was found at Twilio, not sent again.
    assert sorted(m.body for m in fake_twilio.sent_to(phone)) == sorted(texts)


def crashed_slot(claimed_by: str | None) -> str:
    assert claimed_by
    return slots.parse_claimed_by(claimed_by)[0]


async def test_a_live_workers_sends_are_not_taken_over(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
) -> None:
    texts = bodies(4)
    phone, ids = await queue_texts(client, tenant, twilio, texts)
    fake_twilio.hang_after_accept = True
    slow = OutboxWorker(runtime)
    async with running(slow):
        await hang_on_first_send(fake_twilio)
        other = OutboxWorker(runtime)
        async with running(other):
            await wait_for(lambda: _async(other.slot is not None))
            assert other.slot is not None and slow.slot is not None
            assert other.slot.id != slow.slot.id
            await asyncio.sleep(1.0)
            # The slow worker is alive, holding its lock: the other leaves its rows alone.
            assert {by for _, by, _ in await rows(runtime, ids)} == {slow.claimed_by}
            assert [m.body for m in fake_twilio.sent_to(phone)] == texts[:1]
            fake_twilio.hang_after_accept = False
            fake_twilio.release.set()
            await wait_for(lambda: all_sent(runtime, ids), within=10)
    assert sorted(m.body for m in fake_twilio.sent_to(phone)) == sorted(texts)


async def leave_sending(rt: Runtime, ids: list[int], *, claimed_by: str) -> None:
    """The rows as a worker killed mid-send leaves them: leased for another minute."""
    async with transaction(rt.db, rt.hub) as tx:
        await tx.session.execute(
            update(OutboxItem)
            .where(OutboxItem.message_id.in_(ids))
            .values(
                state="sending",
                attempts=1,
                claimed_by=claimed_by,
                lease_until=utcnow() + timedelta(seconds=60),
            )
        )
        await tx.commit()


async def reach_twilio(rt: Runtime, message_id: int) -> str:
    """The provider call a worker made before it died (the same channel, the same values)."""
    async with transaction(rt.db, rt.hub, write=False) as tx:
        message = await tx.session.get(Message, message_id)
        assert message is not None
        out = await rt.channels[message.channel].outgoing(tx, message=message)
    return (await out.send(f"msg-{message_id}")).provider_message_id


async def test_the_sends_of_a_worker_that_never_came_back_are_reconciled_by_another(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
) -> None:
    fake_twilio.send_callbacks = False
    texts = bodies(3)
    phone, ids = await queue_texts(client, tenant, twilio, texts)
    # Another worker (slot 7 of this host, whose lock no one holds now) died sending them,
    # after Twilio took the first.
    probe = await slots.take_slot(runtime.db)
    _, epoch, _ = slots.parse_claimed_by(probe.claimed_by)
    await probe.release()
    await leave_sending(runtime, ids, claimed_by=slots.claimed_by(f"{slots.host_name()}/7", epoch))
    first_sid = await reach_twilio(runtime, ids[0])

    started = time.monotonic()
    async with running(OutboxWorker(runtime)):
        await wait_for(lambda: all_sent(runtime, ids), within=10)
    assert time.monotonic() - started < 5  # not the 60 s lease
    assert sorted(m.body for m in fake_twilio.sent_to(phone)) == sorted(texts)
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        sid = await tx.session.scalar(
            select(Message.provider_message_id).where(Message.id == ids[0])
        )
    assert sid == first_sid


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_sends_claimed_before_the_database_restarted_wait_for_their_lease(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
) -> None:
    """A restart of PostgreSQL drops every lock at once, with their holders alive: a lock
    that is free then proves nothing, and those rows wait out their lease."""
    texts = bodies(2)
    phone, ids = await queue_texts(client, tenant, twilio, texts)
    # Slot 0 of this host, claimed in an earlier run of the server.
    await leave_sending(runtime, ids, claimed_by=slots.claimed_by(f"{slots.host_name()}/0", "1"))
    starting = OutboxWorker(runtime)
    async with running(starting):
        await wait_for(lambda: _async(starting.slot is not None))
        await asyncio.sleep(1.0)
        assert [state for state, _, _ in await rows(runtime, ids)] == ["sending", "sending"]
    assert fake_twilio.sent_to(phone) == []


async def _async(value: bool) -> bool:
    return value
