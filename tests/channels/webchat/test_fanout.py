"""Routing an account's events to its visitors' sockets (parlour/channels/webchat/fanout.py):
each socket hears its own thread and no other, and the account's topic is heard once per
process however many visitors there are."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from parlour.channels.webchat.fanout import ENDED, QUEUE_LIMIT, Listener, VisitorFanout
from parlour.realtime.events import Event, account_topic
from parlour.realtime.memory import MemoryHub

ACCOUNT = 7


def message(conversation_id: int, **fields: Any) -> Event:
    return Event(
        type="message.created",
        account_id=ACCOUNT,
        data={"message": {"id": 1, "conversation_id": conversation_id, **fields}},
    )


async def heard(listener: Listener) -> list[Event | None]:
    await asyncio.sleep(0.01)  # the route passes events on from its own task
    out: list[Event | None] = []
    while not listener.queue.empty():
        out.append(listener.queue.get_nowait())
    return out


@contextlib.asynccontextmanager
async def visitors(fanout: VisitorFanout, hub: MemoryHub, n: int) -> AsyncIterator[list[Listener]]:
    async with contextlib.AsyncExitStack() as stack:
        listeners = [
            await stack.enter_async_context(fanout.listen(hub, ACCOUNT, visitor_id))
            for visitor_id in range(n)
        ]
        for i, listener in enumerate(listeners):
            listener.follow(thread_id=1000 + i, contact_id=2000 + i)
        yield listeners


async def test_each_visitor_hears_only_its_own_thread_through_one_subscription() -> None:
    hub, fanout = MemoryHub(), VisitorFanout()
    async with visitors(fanout, hub, 50) as listeners:
        assert len(hub._subs[account_topic(ACCOUNT)]) == 1  # not one per visitor
        await hub.publish(message(1003, direction="out"))
        await hub.publish(
            Event(type="typing", account_id=ACCOUNT, data={"conversation_id": 1004, "from": "user"})
        )
        await hub.publish(
            Event(type="contact.deleted", account_id=ACCOUNT, data={"contact_id": 2005})
        )
        got = {i: await heard(listener) for i, listener in enumerate(listeners)}
        assert [e.type for e in got.pop(3) if e] == ["message.created"]
        assert [e.type for e in got.pop(4) if e] == ["typing"]
        assert [e.type for e in got.pop(5) if e] == ["contact.deleted"]
        assert all(events == [] for events in got.values())
        assert fanout.sockets(ACCOUNT) == 50
    assert account_topic(ACCOUNT) not in hub._subs  # the last visitor gone, so is the route
    assert fanout.sockets(ACCOUNT) == 0


async def test_a_visitor_without_a_thread_hears_its_own_first_message() -> None:
    hub, fanout = MemoryHub(), VisitorFanout()
    async with fanout.listen(hub, ACCOUNT, 42) as mine, fanout.listen(hub, ACCOUNT, 43) as other:
        await hub.publish(message(500, direction="in", recipient_id=42))
        assert len(await heard(mine)) == 1
        assert await heard(other) == []
        mine.follow(thread_id=500, contact_id=9)
        await hub.publish(message(500, direction="out"))
        assert len(await heard(mine)) == 1


async def test_a_visitor_that_falls_behind_is_ended_not_grown() -> None:
    hub, fanout = MemoryHub(), VisitorFanout()
    async with fanout.listen(hub, ACCOUNT, 1) as slow:
        slow.follow(thread_id=10, contact_id=None)
        for _ in range(QUEUE_LIMIT + 50):
            await hub.publish(message(10, direction="out"))
        events = await heard(slow)
        assert len(events) == QUEUE_LIMIT + 1
        assert events[-1] is ENDED  # its socket closes; the widget reconnects and catches up


async def test_the_last_visitor_leaving_stops_the_route_even_mid_burst() -> None:
    """The route's task is cancelled when its last visitor leaves; cancelled just as its
    wait for the next event completed, ``asyncio.wait_for`` (Python 3.11) swallowed the
    cancellation and the task ran on, so leaving hung for ever (seen in CI)."""
    hub, fanout = MemoryHub(), VisitorFanout()

    async def visits() -> None:
        for burst in range(200):
            async with fanout.listen(hub, ACCOUNT, 1) as listener:
                listener.follow(thread_id=10, contact_id=None)
                for _ in range(burst % 7):
                    await hub.publish(message(10, direction="out"))
                await asyncio.sleep(0)

    # Watched rather than awaited: a visit that hangs fails the test instead of hanging it.
    done, _ = await asyncio.wait({asyncio.create_task(visits())}, timeout=10)
    assert done, "a visitor leaving waited for ever for the route to stop"
    assert fanout.sockets(ACCOUNT) == 0 and account_topic(ACCOUNT) not in hub._subs
