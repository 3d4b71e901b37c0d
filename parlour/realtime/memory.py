"""In-process hub: the default for a single `parlour serve`."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from parlour.realtime.events import Event
from parlour.realtime.hub import CATCH_UP, CatchUp, HubHealth

log = logging.getLogger(__name__)

# A subscriber that falls this far behind is dropped rather than letting memory grow;
# its client reconnects and catches up from the events table.
QUEUE_LIMIT = 1000


@dataclass(eq=False)
class MemorySubscription:
    topic: str
    queue: asyncio.Queue[Event | CatchUp] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )
    overflowed: bool = False


class MemoryHub:
    def __init__(self) -> None:
        self._subs: defaultdict[str, set[MemorySubscription]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subs.clear()

    async def publish(self, event: Event) -> None:
        self.deliver_local(event)

    def health(self) -> HubHealth:
        return HubHealth(kind="memory", connected=True)

    def deliver_local(self, event: Event) -> None:
        for sub in list(self._subs.get(event.topic, ())):
            self._put(sub, event)

    def resume_all(self) -> None:
        """Tells every subscriber to catch up from the events table."""
        for subs in list(self._subs.values()):
            for sub in list(subs):
                self._put(sub, CATCH_UP)

    def _put(self, sub: MemorySubscription, item: Event | CatchUp) -> None:
        try:
            sub.queue.put_nowait(item)
        except asyncio.QueueFull:
            sub.overflowed = True
            log.warning("subscriber on %s fell behind; dropping it", sub.topic)
            self._subs[sub.topic].discard(sub)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[MemorySubscription]:
        sub = MemorySubscription(topic)
        self._subs[topic].add(sub)
        try:
            yield sub
        finally:
            self._subs[topic].discard(sub)
            if not self._subs[topic]:
                del self._subs[topic]
