"""The event hub: committed events go out to every subscriber of their topic.

Two implementations share this shape: :mod:`parlour.realtime.memory` (one process) and
:mod:`parlour.realtime.redis` (many processes, Redis pub/sub). ``make_hub`` picks by settings.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from parlour.config import Settings
from parlour.realtime.events import Event


class Subscription(Protocol):
    queue: asyncio.Queue[Event]
    # Set when the subscriber fell too far behind and was dropped.
    overflowed: bool


class Hub(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...


def make_hub(settings: Settings) -> Hub:
    if settings.redis_url:
        from parlour.realtime.redis import RedisHub

        return RedisHub(settings.redis_url, prefix=settings.redis_prefix)
    from parlour.realtime.memory import MemoryHub

    return MemoryHub()
