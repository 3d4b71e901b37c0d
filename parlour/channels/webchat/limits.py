"""Rate limits for the visitor side: token buckets in this process's memory.

Per process, so N processes allow N times the rate: good enough to stop one browser
flooding a thread, not a distributed attack (that is the reverse proxy's job)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from parlour.errors import ParlourError

# (tokens, seconds): 20 messages per 10 s per visitor, 60 requests per 10 s per address.
VISITOR_MESSAGES = (20, 10.0)
IP_REQUESTS = (60, 10.0)
SOCKET_FRAMES = (30, 10.0)
_MAX_KEYS = 50_000


class RateLimited(ParlourError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"Too many requests. Try again in {seconds} s.")
        self.headers = {"Retry-After": str(seconds)}


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class Limiter:
    capacity: int
    per_seconds: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.capacity / self.per_seconds

    def wait_for(self, key: str) -> float:
        """Takes a token for ``key``: 0 if there was one, else how long until there is."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_KEYS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.capacity), at=now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def take(self, key: str) -> None:
        wait = self.wait_for(key)
        if wait:
            raise RateLimited(wait)

    def _prune(self, now: float) -> None:
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.rate >= self.capacity
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= _MAX_KEYS:
            self._buckets.clear()


@dataclass
class WidgetLimits:
    messages: Limiter = field(default_factory=lambda: Limiter(*VISITOR_MESSAGES))
    requests: Limiter = field(default_factory=lambda: Limiter(*IP_REQUESTS))
    frames: Limiter = field(default_factory=lambda: Limiter(*SOCKET_FRAMES))
