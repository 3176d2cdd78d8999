"""Waiting on another thread or process: a condition with a budget, never a fixed sleep.

Every budget goes through `budget()`, which multiplies it by `DTSBOT_WAIT_SCALE` (default 1): the one place a
loaded machine (CI on two busy cores) raises all of them at once. A budget only bounds the wait for something
that should come true; a passing wait returns as soon as it does, so a generous budget costs nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

SCALE_VARIABLE = "DTSBOT_WAIT_SCALE"
DEFAULT_SECONDS = 30.0
"""Long enough for work that goes through the scheduler's poll or Slack's one post a second on a loaded
two-core machine."""


def scale() -> float:
    """The factor every budget is multiplied by (`DTSBOT_WAIT_SCALE`, at least 1)."""
    try:
        return max(1.0, float(os.environ.get(SCALE_VARIABLE) or 1))
    except ValueError:
        return 1.0


def budget(seconds: float = DEFAULT_SECONDS) -> float:
    """`seconds` as a wait budget on this machine."""
    return seconds * scale()


def eventually(check: Callable[[], T], timeout: float = DEFAULT_SECONDS, what: str = "the condition",
               interval: float = 0.02) -> T:
    """Re-check `check()` until it is truthy and return its value; AssertionError after `budget(timeout)`."""
    seconds = budget(timeout)
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(interval)


def while_progressing(done: Callable[[], bool], progress: Callable[[], int], stall: float = DEFAULT_SECONDS,
                      what: str = "the work", interval: float = 0.05) -> None:
    """Wait until `done()`; AssertionError only when `progress()` stops growing for `budget(stall)` seconds.

    For work in bulk (thousands of answers, a hundred requests): the wait lasts as long as the work keeps
    moving, however slow the machine."""
    seconds = budget(stall)
    best = progress()
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: no progress for {seconds:.0f} s (at {best})")
        time.sleep(interval)
        now = progress()
        if now > best:
            best, deadline = now, time.monotonic() + seconds


def until_count(count: Callable[[], int], total: int, stall: float = DEFAULT_SECONDS, what: str = "the work",
                interval: float = 0.05) -> None:
    """Wait until `count()` reaches `total`, for as long as it keeps growing (see `while_progressing`)."""
    while_progressing(lambda: count() >= total, count, stall, f"{what} ({total} expected)", interval)
