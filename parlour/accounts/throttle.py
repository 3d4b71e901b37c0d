"""Slowing down password guessing: too many failed logins for one email, or from one
address, within a window are refused for a while (as rack-attack does for Chatwoot).

Counts live in the process. With several web processes each keeps its own count, which
still caps guessing at a small multiple of the limit.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

from parlour.errors import ParlourError

WINDOW_SECONDS = 15 * 60
# Per email, and (higher, since an office shares one address) per client address.
MAX_FAILURES = {"email": 10, "ip": 50}


class TooManyAttempts(ParlourError):
    code = "too_many_attempts"
    status = 429


class LoginThrottle:
    def __init__(
        self, *, limits: dict[str, int] | None = None, window: float = WINDOW_SECONDS
    ) -> None:
        self.limits = limits or MAX_FAILURES
        self.window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures[key]
        while stamps and stamps[0] < now - self.window:
            stamps.popleft()
        return stamps

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            stamps = self._recent(key, now)
            if len(stamps) >= self.limits.get(key.split(":", 1)[0], min(self.limits.values())):
                wait = int(stamps[0] + self.window - now) + 1
                raise TooManyAttempts(
                    f"Too many failed logins. Try again in {wait // 60 + 1} minutes.",
                    details={"retry_after": wait},
                )

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
