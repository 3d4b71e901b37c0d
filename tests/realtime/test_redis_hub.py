"""The Redis hub while Redis cannot be reached: its own process's sockets still get every
event at once, in order, and what it keeps for Redis stays bounded."""

from __future__ import annotations

import asyncio

import pytest

from parlour.realtime import redis as redis_hub
from parlour.realtime.events import Event, account_topic
from parlour.realtime.redis import RedisHub

# Nothing listens on port 1: every connection is refused at once.
NOWHERE = "redis://127.0.0.1:1/0"


def event(account_id: int, seq: int) -> Event:
    return Event(type="contact.updated", account_id=account_id, seq=seq, data={"n": seq})


@pytest.fixture(autouse=True)
def _quick_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_hub, "START_WAIT_SECONDS", 0.1)


async def test_without_redis_local_sockets_get_every_event_in_order() -> None:
    hub = RedisHub(NOWHERE, prefix="test:")
    await hub.start()
    try:
        assert not hub.health().connected
        async with hub.subscribe(account_topic(7)) as sub:
            for seq in range(1, 201):
                await hub.publish(event(7, seq))
            got = [await asyncio.wait_for(sub.queue.get(), timeout=5) for _ in range(200)]
        assert [e.seq for e in got if isinstance(e, Event)] == list(range(1, 201))
        assert hub.health().unsent == 200  # kept for Redis
    finally:
        await hub.stop()


async def test_what_is_kept_for_redis_is_bounded_and_keeps_each_accounts_newest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_hub, "KEEP_UNSENT", 50)
    hub = RedisHub(NOWHERE, prefix="test:")
    await hub.start()
    try:
        await hub.publish(event(1, 1))  # account 1's newest, long before the others
        for seq in range(1, 301):
            await hub.publish(event(2, seq))
        await asyncio.sleep(0.5)  # a few rounds of trying Redis
        kept = hub.health().unsent
        assert kept <= 51, kept
        held = hub._keep([event(1, 1), *(event(2, s) for s in range(1, 301))])
        assert (1, 1) in {(e.account_id, e.seq) for e in held}
        assert max(e.seq for e in held if e.account_id == 2) == 300
    finally:
        await hub.stop()
