"""One lookup for many callers: keys asked for while a lookup is in flight wait for the
next one, which fetches them all together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[list[K]], Awaitable[dict[K, V]]]


class Coalescer(Generic[K, V]):
    """Under load a burst of callers costs one round trip per batch instead of one each;
    a caller alone is served at once, with no waiting for a batch to fill."""

    def __init__(self) -> None:
        self._waiting: list[tuple[list[K], asyncio.Future[dict[K, V]]]] = []
        self._running: asyncio.Task[None] | None = None

    async def get(self, keys: list[K], fetch: Fetch[K, V]) -> dict[K, V]:
        """The values of ``keys`` (``fetch`` must be the same function for every caller)."""
        future: asyncio.Future[dict[K, V]] = asyncio.get_running_loop().create_future()
        self._waiting.append((keys, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain(fetch))
        return await future

    async def _drain(self, fetch: Fetch[K, V]) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                found = await fetch([key for keys, _ in batch for key in keys])
            except Exception as exc:  # each caller sees the failure of its own lookup
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for keys, future in batch:
                if not future.done():
                    future.set_result({key: found[key] for key in keys if key in found})
