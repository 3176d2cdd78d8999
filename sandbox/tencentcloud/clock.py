"""Sandbox clock: wall time since start, sped up by a factor, so DTS timelines run in seconds.

`now()` starts at the real time of creation and then advances `speed` times faster than real time;
`advance(seconds)` jumps ahead (tests of expiry). Thread safe enough: reads and one float add.
"""

from __future__ import annotations

import time


class Clock:
    """Sandbox time in epoch seconds; `speed` sandbox seconds pass per real second."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self._real_start = time.time()
        self._offset = 0.0

    def now(self) -> float:
        """Current sandbox time (epoch seconds)."""
        return self._real_start + (time.time() - self._real_start) * self.speed + self._offset

    def advance(self, seconds: float) -> None:
        """Jump the sandbox clock forward (e.g. to expire temporary credentials in a test)."""
        self._offset += seconds

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long real time takes for `sandbox_seconds` of sandbox time to pass."""
        return sandbox_seconds / self.speed
