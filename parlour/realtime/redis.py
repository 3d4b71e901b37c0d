"""Redis pub/sub hub: events committed in one process reach WebSockets held by any other.

Each process keeps one pattern subscription and fans messages out to its local
subscribers, so the number of Redis connections does not grow with connected agents.

Redis carries live events only; what happened is already in the database, with its
sequence number, when an event is published. So an outage costs liveness, never a write:
- ``publish`` only queues the event: a request never waits on Redis, and never fails
  because of it. One task sends the queue in order, pipelined.
- While Redis is unreachable, this process's own sockets still get its events at once,
  and the events are kept (a bounded number) to be sent when Redis returns. A socket
  elsewhere that then finds numbers missing reads them from the events table
  (parlour.realtime.order), so even an event dropped from the bounded list arrives.
- When the subscription comes back, every local socket is told to catch up from the
  events table (``resume_all``): it may have missed what other processes published
  while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from parlour.realtime.events import Event
from parlour.realtime.hub import HubHealth
from parlour.realtime.memory import MemoryHub, MemorySubscription

log = logging.getLogger(__name__)

# How often an unreachable Redis is tried again: refusals are instant, so a short wait
# costs nothing and brings events back within a second of Redis returning.
RETRY_SECONDS = 0.2
# Events kept for Redis while it is away; past this the oldest go (subscribers read them
# from the events table when they see the gap), keeping each account's newest.
KEEP_UNSENT = 10_000
# How long start() waits for the subscription before serving without it.
START_WAIT_SECONDS = 2.0
PIPELINE_MAX = 500


class RedisHub:
    def __init__(self, url: str, *, prefix: str) -> None:
        # Timeouts bound a call to a Redis that hangs rather than refuses; the
        # subscription reads with no timeout (it waits for events) and checks its
        # connection instead.
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._listen_redis: Redis = Redis.from_url(
            url, socket_connect_timeout=2, health_check_interval=15
        )
        self._prefix = prefix
        self._local = MemoryHub()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._publishing_since: float | None = None  # when publishing last failed
        self._listening_since: float | None = None  # when the subscription was lost
        self._unsent = 0  # events kept for Redis right now
        self._dropped = 0  # events given up on during the current outage
        self._republished = 0  # kept events published since Redis returned
        self._idle = asyncio.Event()  # set while nothing waits to be published

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="redis-hub-listen"),
            asyncio.create_task(self._publish_queue(), name="redis-hub-publish"),
        ]
        # Serve without live events rather than not at all: they resume with Redis.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=START_WAIT_SECONDS)
        if not self._subscribed.is_set():
            self._listening_since = self._listening_since or time.monotonic()
            log.warning("Redis is not reachable; live events will start when it is")

    async def stop(self) -> None:
        # What is queued goes out if Redis takes it soon; it is stored in any case.
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.sleep(0)  # lets the publisher take what was just queued
                await asyncio.wait_for(self._idle.wait(), timeout=1)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._redis.aclose()
        await self._listen_redis.aclose()

    async def publish(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def health(self) -> HubHealth:
        down = [t for t in (self._publishing_since, self._listening_since) if t is not None]
        return HubHealth(
            kind="redis",
            connected=not down,
            down_seconds=time.monotonic() - min(down) if down else 0.0,
            unsent=self._unsent + self._queue.qsize(),
        )

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[MemorySubscription]:
        async with self._local.subscribe(topic) as sub:
            yield sub

    async def _publish_queue(self) -> None:
        held: list[Event] = []  # taken from the queue, not yet accepted by Redis
        while True:
            if not held:
                self._idle.set()
                first = await self._queue.get()
                self._idle.clear()
                fresh = [first, *_drain(self._queue, PIPELINE_MAX)]
            else:
                fresh = _drain(self._queue, PIPELINE_MAX)
            if self._publishing_since is not None:
                # Redis is away: this process's own sockets need not wait for it.
                for event in fresh:
                    self._local.deliver_local(event)
            held += fresh
            batch = held[:PIPELINE_MAX]
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for event in batch:
                        pipe.publish(self._prefix + event.topic, event.model_dump_json())
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._publishing_since is None:
                    self._publishing_since = time.monotonic()
                    log.warning("Redis is unreachable (%s); events are kept for it", _why(exc))
                    for event in held:
                        self._local.deliver_local(event)
                held = self._keep(held)
                self._unsent = len(held)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            held = held[len(batch) :]
            self._unsent = len(held)
            if self._publishing_since is None:
                continue
            self._republished += len(batch)
            if not held:
                log.warning(
                    "Redis is back after %.1f s: %d kept events published, %d left to be "
                    "read from the events table",
                    time.monotonic() - self._publishing_since,
                    self._republished,
                    self._dropped,
                )
                self._publishing_since = None
                self._republished = self._dropped = 0

    def _keep(self, held: list[Event]) -> list[Event]:
        if len(held) <= KEEP_UNSENT:
            return held
        newest = {event.account_id: event for event in held}
        kept = held[-KEEP_UNSENT:]
        # An account's newest event shows its subscribers that numbers are missing.
        kept_ids = {id(event) for event in kept}
        kept = [e for e in newest.values() if id(e) not in kept_ids] + kept
        kept.sort(key=lambda e: (e.account_id, e.seq))
        self._dropped += len(held) - len(kept)
        return kept

    async def _listen(self) -> None:
        while True:
            try:
                async with self._listen_redis.pubsub() as pubsub:
                    await pubsub.psubscribe(self._prefix + "*")
                    self._subscribed.set()
                    if self._listening_since is not None:
                        log.warning(
                            "Redis subscription back after %.1f s; sockets catch up",
                            time.monotonic() - self._listening_since,
                        )
                        self._listening_since = None
                        self._local.resume_all()
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
            except (RedisError, OSError) as exc:
                if self._listening_since is None:
                    self._listening_since = time.monotonic()
                    log.warning("Redis subscription lost (%s); reconnecting", _why(exc))
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:
                # Not an outage: a bug or a surprise from the client library. Logged in
                # full, and the subscription comes back as after an outage.
                log.exception("Redis subscription failed; reconnecting")
                self._listening_since = self._listening_since or time.monotonic()
                await asyncio.sleep(RETRY_SECONDS)


def _drain(queue: asyncio.Queue[Event], limit: int) -> list[Event]:
    out: list[Event] = []
    while len(out) < limit:
        try:
            out.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return out


def _why(exc: BaseException) -> str:
    """The error's kind and first line, without a traceback (an outage is not a bug)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]
