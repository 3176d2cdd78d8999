"""Rate limits. Client-side: one thread-safe token bucket per (account, region, action) (`RateLimiter`), so the
bot stays within Tencent Cloud's published rates (CAM CreateRole 2/s, AttachRolePolicy 3/s, DTS 20/s per
action) instead of learning them from `RequestLimitExceeded`; every cloud call takes its token there, once.
Server-side: a sliding window per key, for how many new requests people may open (core/admission.py).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping


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


class RateLimiter:
    """One `TokenBucket` per (account, region, service, action), at the rate `rates` gives the action.

    `rates` maps (service, action) to calls per second; (service, "*") is the rate of the service's other
    actions; an action with neither is not limited. Each action has its own bucket, as Tencent counts them,
    with no burst: calls are spaced by 1/rate, so no second ever holds more than `rate` of them.
    """

    def __init__(self, rates: Mapping[tuple[str, str], float], clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rates = dict(rates)
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[tuple[str, str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def rate(self, service: str, action: str) -> float | None:
        """Calls per second allowed for this action (per account and region); None: not limited."""
        return self.rates.get((service, action), self.rates.get((service, "*")))

    def acquire(self, account: str, region: str, service: str, action: str) -> float:
        """Take the action's token for this account and region, waiting if needed; return the wait (seconds)."""
        rate = self.rate(service, action)
        if rate is None:
            return 0.0
        key = (account, region, service, action)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate, burst=1.0, clock=self._clock, sleep=self._sleep)
        return bucket.acquire()


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
