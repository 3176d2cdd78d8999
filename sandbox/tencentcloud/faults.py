"""Fault injection per action, for the reliability tests of the bot's cloud steps.

Kinds:
- `RequestLimitExceeded`, `InternalError`: answer that error instead of running the action;
- `slow`: run the action, answer after `delay` real seconds;
- `drop`: close the connection without answering, the action NOT applied;
- `commit_then_drop`: apply the action, then close the connection without answering (a crash after commit).

A fault fires `count` times (then is spent) or, without count, with `probability` on each matching call.
`action="*"` matches every action; `service` (optional) narrows to one service.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("RequestLimitExceeded", "InternalError", "slow", "drop", "commit_then_drop")


@dataclass
class Fault:
    action: str
    kind: str
    count: int | None = None
    probability: float = 1.0
    delay: float = 2.0
    service: str | None = None
    held: int = 0  # `slow`: calls whose action ran and whose answer is being held ...
    answered: int = 0  # ... and those whose answer then went out (a test waits on these, not on the clock)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {self.probability}")

    def matches(self, service: str, action: str) -> bool:
        return self.action in ("*", action) and self.service in (None, service)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The active faults; `pick` returns the fault to apply to one call (spending a count), if any."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def add(self, action: str, kind: str, count: int | None = None, probability: float = 1.0,
            delay: float = 2.0, service: str | None = None) -> Fault:
        """Inject `kind` on `action` (`*` for all): `count` times, or with `probability` on every call."""
        fault = Fault(action, kind, count, probability, delay, service)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def pick(self, service: str, action: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.matches(service, action):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
                if self._random.random() < fault.probability:
                    return fault
        return None
