"""The one retry policy: exponential backoff, capped, with optional jitter, as a value.

Who retries and how they wait differs; the arithmetic does not. The cloud calls repeat in the calling thread
(`Backoff.run`, with an injectable sleep); the workflow engine, the Slack notifier and the DTS watcher record
`Backoff.delay(n)` as the time of their next attempt, so a restart keeps the schedule and a test reads the
delay instead of sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """`base * 2**(attempt - 1)` seconds after failed attempt `attempt` (1, 2, …), at most `cap`.

    `jitter` is the share of each delay drawn at random: 0 waits exactly that long, 0.5 between half of it and
    all of it, 1 anything up to it ("full jitter"). `max_attempts` bounds the attempts; None never gives up.
    """

    base: float
    cap: float
    max_attempts: int | None = None
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError(f"need 0 < base <= cap, got base={self.base}, cap={self.cap}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter is a share between 0 and 1, got {self.jitter}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")

    def delay(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number `attempt`; `draw` gives the random share in [0, 1)."""
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return ceiling * (1.0 - self.jitter * draw())

    def gives_up_after(self, attempt: int) -> bool:
        """Whether attempt number `attempt` was the last one allowed."""
        return self.max_attempts is not None and attempt >= self.max_attempts

    def run(self, call: Callable[[], T], retry_if: Callable[[Exception], bool], *,
            sleep: Callable[[float], None] = time.sleep) -> T:
        """`call()` until it returns, repeating an error that `retry_if` accepts while attempts are left.

        The error of the last attempt is raised; a success after a failure returns that success."""
        attempt = 1
        while True:
            try:
                return call()
            except Exception as error:
                if self.gives_up_after(attempt) or not retry_if(error):
                    raise
                sleep(self.delay(attempt))
                attempt += 1
