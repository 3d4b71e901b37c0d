"""Whether an account has an agent online: an agent's socket (``/api/v1/ws``) open.

The web-chat widget asks for an email instead of a chat when nobody is online
(parlour/channels/webchat/offline.py). Each process counts its own agents' sockets. With
several processes (``PARLOUR_REDIS_URL``) an agent may be connected to another one, so
each process also keeps, per account it has agents of, a mark in a Redis sorted set
(member: the process, score: until when), renewed every ``RENEW_SECONDS`` and removed when
its last agent leaves; a process that dies stops renewing and its mark expires after
``TTL_SECONDS``. Redis unreachable: only this process's agents count, which errs on the
side of asking for an email.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RENEW_SECONDS = 10.0
TTL_SECONDS = 30.0
# A widget's config is read on every page view of the website: Redis is asked at most this
# often per account.
CACHE_SECONDS = 2.0


class Presence:
    """This process's agents; with a Redis URL, every process's."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "") -> None:
        self._local: dict[int, int] = {}
        self._redis: Redis | None = (
            Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
            if redis_url
            else None
        )
        self._prefix = prefix
        self._me = uuid.uuid4().hex
        self._seen: dict[int, tuple[float, bool]] = {}
        self._renewer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._redis is not None:
            self._renewer = asyncio.create_task(self._renew(), name="presence-renew")

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                for account_id in self._local:
                    await self._redis.zrem(self._key(account_id), self._me)
            await self._redis.aclose()

    @contextlib.asynccontextmanager
    async def agent(self, account_id: int) -> AsyncIterator[None]:
        """Held while an agent's socket is open."""
        self._local[account_id] = self._local.get(account_id, 0) + 1
        if self._local[account_id] == 1:
            await self._mark(account_id)
        try:
            yield
        finally:
            left = self._local.get(account_id, 1) - 1
            if left > 0:
                self._local[account_id] = left
            else:
                self._local.pop(account_id, None)
                await self._unmark(account_id)

    async def agents_online(self, account_id: int) -> bool:
        if self._local.get(account_id):
            return True
        if self._redis is None:
            return False
        now = time.monotonic()
        cached = self._seen.get(account_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            marks: int = await self._redis.zcount(self._key(account_id), time.time(), "+inf")
        except (RedisError, OSError):
            return False
        online = marks > 0
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[account_id] = (now, online)
        return online

    def _key(self, account_id: int) -> str:
        return f"{self._prefix}presence:{account_id}"

    async def _mark(self, account_id: int) -> None:
        if self._redis is None:
            return
        try:
            key = self._key(account_id)
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(key, {self._me: time.time() + TTL_SECONDS})
                # Other processes' marks that expired (they died): dropped here.
                pipe.zremrangebyscore(key, "-inf", time.time())
                pipe.expire(key, int(TTL_SECONDS * 2))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.debug("presence: Redis did not take the mark: %s", exc)

    async def _unmark(self, account_id: int) -> None:
        if self._redis is None:
            return
        with contextlib.suppress(RedisError, OSError):
            await self._redis.zrem(self._key(account_id), self._me)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            for account_id in list(self._local):
                await self._mark(account_id)
