"""The event hub: committed events go out to every subscriber of their topic.

Two implementations share this shape: :mod:`parlour.realtime.memory` (one process) and
:mod:`parlour.realtime.redis` (many processes, Redis pub/sub). ``make_hub`` picks by settings.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from parlour.config import Settings
from parlour.realtime.events import Event


class CatchUp:
    """Put in a subscriber's queue when the hub was cut off from other processes' events
    (its Redis subscription came back): read from the events table what came meanwhile."""


CATCH_UP: Final = CatchUp()


@dataclass(frozen=True)
class HubHealth:
    kind: Literal["memory", "redis"]
    # False while events cannot cross processes (Redis unreachable); writes go on.
    connected: bool
    down_seconds: float = 0.0
    # Events waiting for Redis: sent when it returns.
    unsent: int = 0


class Subscription(Protocol):
    queue: asyncio.Queue[Event | CatchUp]
    # Set when the subscriber fell too far behind and was dropped.
    overflowed: bool


class Hub(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Best effort, and never raises: the event is stored already (parlour.db.tx), so
        one the hub cannot pass on now reaches sockets later, from the events table."""
        ...

    def health(self) -> HubHealth: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...


def make_hub(settings: Settings) -> Hub:
    if settings.redis_url:
        from parlour.realtime.redis import RedisHub

        return RedisHub(settings.redis_url, prefix=settings.redis_prefix)
    from parlour.realtime.memory import MemoryHub

    return MemoryHub()
