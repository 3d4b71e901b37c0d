"""Redis pub/sub hub: events committed in one process reach WebSockets held by any other.

Each process keeps one pattern subscription and fans messages out to its local
subscribers, so the number of Redis connections does not grow with connected agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from parlour.realtime.events import Event
from parlour.realtime.memory import MemoryHub, MemorySubscription

log = logging.getLogger(__name__)


class RedisHub:
    def __init__(self, url: str, *, prefix: str) -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix
        self._local = MemoryHub()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="redis-hub")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    async def publish(self, event: Event) -> None:
        await self._redis.publish(self._prefix + event.topic, event.model_dump_json())

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[MemorySubscription]:
        async with self._local.subscribe(topic) as sub:
            yield sub

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.psubscribe(self._prefix + "*")
                self._ready.set()
                async for item in pubsub.listen():
                    if item["type"] != "pmessage":
                        continue
                    try:
                        event = Event.model_validate_json(item["data"])
                    except ValueError:
                        log.warning("ignoring a malformed event on %s", item["channel"])
                        continue
                    self._local.deliver_local(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Clients catch up from the events table when they reconnect; here we only
                # need to come back.
                log.exception("redis hub connection lost; reconnecting")
                await asyncio.sleep(1)
