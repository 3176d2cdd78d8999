"""Rate limits. Client-side: a small thread-safe token bucket per (account, API), so the bot stays within
Tencent Cloud's published rates (CAM CreateRole 2/s, AttachRolePolicy 3/s, DTS 20/s per account) instead of
learning them from `RequestLimitExceeded`. Server-side: a sliding window per key, for how many new requests
people may open (core/admission.py).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class TokenBucket:
    """`rate` calls per second on average, bursts of at most `burst`; `acquire` blocks until a token is free."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting if none is left; return how long the caller waited (seconds)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class SlidingWindow:
    """At most `limit` events per key within the last `window` seconds; `take` records one if allowed."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """0 when one more event is allowed now; else seconds until it is. Not thread-safe: callers lock."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]  # keys of people who stopped do not accumulate
            return 0.0
        return 0.0 if len(events) < self.limit else events[0] + self.window - now

    def take(self, key: str) -> None:
        """Record one event now (after `retry_after(key) == 0`)."""
        self._events.setdefault(key, deque()).append(self._clock())
