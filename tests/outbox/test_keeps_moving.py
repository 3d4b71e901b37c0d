"""One job's failure never ends a pass or strands its batch: an event that cannot be
published, a channel that crashes on one message, or a database that goes away after the
provider took a message."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parlour.channels.registry import Providers
from parlour.channels.sms.provider import OutgoingSms
from parlour.config import Settings
from parlour.conversations.channel import Channels, Outgoing
from parlour.conversations.models import Message
from parlour.db.engine import make_database
from parlour.db.tx import Tx
from parlour.outbox.delivery import ProviderReceipt
from parlour.outbox.worker import OutboxWorker
from parlour.realtime.events import Event
from parlour.realtime.hub import Hub
from parlour.runtime import Runtime
from tests.conftest import Tenant, wait_for
from tests.outbox.test_worker import ScriptedSms, send, status_of


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The worker is driven by each test.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://test",
        run_worker=False,
        worker_poll_seconds=0.05,
        _env_file=None,  # type: ignore[call-arg]
    )


class HookedSms(ScriptedSms):
    """Runs ``after_send`` once the provider has taken a message."""

    def __init__(self) -> None:
        super().__init__()
        self.after_send: Any = None

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt:
        receipt = await super().send(msg, idempotency_key=idempotency_key)
        if self.after_send is not None:
            self.after_send(msg)
        return receipt


@pytest.fixture
def scripted() -> HookedSms:
    return HookedSms()


@pytest.fixture
def providers(scripted: HookedSms) -> Providers:
    return Providers(sms={"console": scripted})


class UnpublishableHub:
    """The hub (Redis, say) refuses the events about some messages."""

    def __init__(self, hub: Hub, message_ids: set[int]) -> None:
        self.hub = hub
        self.message_ids = message_ids

    async def start(self) -> None:
        await self.hub.start()

    async def stop(self) -> None:
        await self.hub.stop()

    async def publish(self, event: Event) -> None:
        if event.data.get("message", {}).get("id") in self.message_ids:
            raise ConnectionError("Redis is down")
        await self.hub.publish(event)

    def subscribe(self, topic: str) -> Any:
        return self.hub.subscribe(topic)


class CrashingChannel:
    """A channel with a bug that shows on some messages only."""

    def __init__(self, channel: Any, message_ids: set[int]) -> None:
        self._channel = channel
        self.message_ids = message_ids

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)

    async def outgoing(self, tx: Tx, *, message: Message) -> Outgoing:
        if message.id in self.message_ids:
            raise RuntimeError("a bug in the channel")
        out: Outgoing = await self._channel.outgoing(tx, message=message)
        return out


async def test_one_failing_job_does_not_hold_up_the_rest_of_its_batch(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, scripted: HookedSms
) -> None:
    numbers = [f"+1650555013{i}" for i in range(5)]
    sent = [await send(client, tenant, n) for n in numbers]
    ids = [msg_id for _, msg_id in sent]
    unpublishable, crashing = ids[1], ids[3]
    real_hub, real_channels = runtime.hub, runtime.channels
    runtime.hub = UnpublishableHub(real_hub, {unpublishable})
    runtime.channels = Channels(
        CrashingChannel(c, {crashing}) if c.name == "sms" else c for c in real_channels
    )
    worker = OutboxWorker(runtime)

    started = time.monotonic()
    await worker.run_once()
    assert time.monotonic() - started < 5
    # Everyone else got their text in that one pass, the one whose event was lost too.
    assert sorted(s.message_id for s in scripted.sent if s.to in numbers) == sorted(
        i for i in ids if i != crashing
    )
    runtime.hub = real_hub
    for (conv_id, msg_id), number in zip(sent, numbers, strict=True):
        want = "queued" if msg_id == crashing else "sent"
        assert (await status_of(client, tenant, conv_id))["status"] == want, number

    # The bug is fixed: the crashed job was handed back for a second, not a 60 s lease.
    runtime.channels = real_channels
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        conv_id = sent[3][0]

        async def crashed_one_sent() -> bool:
            return bool((await status_of(client, tenant, conv_id))["status"] == "sent")

        await wait_for(crashed_one_sent, within=5)
    finally:
        stop.set()
        runtime.outbox_wakeup.set()
        await task
    assert [s.message_id for s in scripted.sent if s.to in numbers].count(crashing) == 1


def _gone_database(settings: Settings, tmp_path: Path) -> Settings:
    if settings.is_sqlite:
        url = f"sqlite+aiosqlite:///{tmp_path}/no-such-dir/parlour.db"
    else:
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/parlour"
    return Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]


@asynccontextmanager
async def running(worker: OutboxWorker) -> Any:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield task
    finally:
        stop.set()
        worker.rt.outbox_wakeup.set()
        await task


async def test_a_send_the_database_could_not_record_is_recorded_once_it_is_back(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    scripted: HookedSms,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    number = "+16505550140"
    conv_id, msg_id = await send(client, tenant, number)
    live = runtime.db
    gone = make_database(_gone_database(settings, tmp_path))

    def database_goes_away(msg: OutgoingSms) -> None:
        if msg.to == number:
            runtime.db = gone

    scripted.after_send = database_goes_away
    caplog.set_level(logging.WARNING, logger="parlour.outbox")
    try:
        async with running(OutboxWorker(runtime)):
            await wait_for(lambda: _async(scripted.attempts.count(number) == 1))
            await asyncio.sleep(1.0)  # the outage: the worker polls on, and keeps the outcome
            runtime.db = live
            back = time.monotonic()

            async def recorded() -> bool:
                return bool((await status_of(client, tenant, conv_id))["status"] == "sent")

            await wait_for(recorded, within=5)
            assert time.monotonic() - back < 3
    finally:
        runtime.db = live
        await gone.dispose()
    # Sent once: the outcome waited in memory, it was never sent again.
    assert scripted.attempts.count(number) == 1
    async with live.sessions(write=False)() as session:
        sid = await session.scalar(select(Message.provider_message_id).where(Message.id == msg_id))
    assert sid == f"SM{msg_id}"
    # One line when each kind of failure began (no traceback per poll), one when it ended.
    failures = [
        r for r in caplog.records if r.name == "parlour.outbox.worker" and " failed" in r.msg
    ]
    errors = [r.getMessage() for r in failures]
    kinds = Counter(m.split(" failed")[0] for m in errors)
    assert errors and set(kinds.values()) == {1}, errors
    recovered = [r.getMessage() for r in caplog.records if "works again" in r.getMessage()]
    assert len(recovered) == len(kinds)


async def _async(value: bool) -> bool:
    return value
