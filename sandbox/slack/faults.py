"""Fault injection for the Slack emulator: windows during which Web API methods answer 429 or 5xx.

A fault lasts for a number of calls (`count`), for a time (`seconds`), or both (whichever ends first).
Reliability tests use it to prove that notices survive rate limits and outages and arrive once.
"""

import threading
import time
from dataclasses import dataclass


@dataclass
class Fault:
    """One active fault: which method it hits, the HTTP status it answers, and how long it lasts."""

    status: int
    method: str | None = None
    remaining: int | None = None
    until: float | None = None
    retry_after: int = 1

    def active(self, now: float) -> bool:
        """True while the fault still has calls left and its window has not closed."""
        in_window = self.until is None or now < self.until
        return in_window and (self.remaining is None or self.remaining > 0)

    def matches(self, method: str) -> bool:
        """True when this fault applies to `method` (None means every method)."""
        return self.method is None or self.method == method


class Faults:
    """The set of active faults; thread-safe, consumed one matching call at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def rate_limit(
        self, method: str | None = None, count: int | None = None, seconds: float | None = None,
        retry_after: int = 1,
    ) -> Fault:
        """Answer HTTP 429 with `Retry-After: retry_after` (whole seconds, as Slack sends it)."""
        return self._add(429, method, count, seconds, retry_after)

    def server_error(
        self, method: str | None = None, count: int | None = None, seconds: float | None = None,
        status: int = 500,
    ) -> Fault:
        """Answer HTTP 500 or 503, as Slack does during an incident."""
        if status not in (500, 503):
            raise ValueError("status must be 500 or 503")
        return self._add(status, method, count, seconds, 0)

    def end(self, fault: Fault) -> None:
        """Close one fault's window now (a test ends an outage once it has seen what it needs)."""
        with self._lock:
            fault.until = time.monotonic()

    def clear(self) -> None:
        """End every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str) -> Fault | None:
        """The fault that answers this call, if any, using up one of its calls."""
        now = time.monotonic()
        with self._lock:
            self._faults = [f for f in self._faults if f.active(now)]
            for fault in self._faults:
                if fault.matches(method):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def add_from_json(self, spec: dict) -> Fault:
        """Add a fault from the admin endpoint's JSON: {"kind": "rate_limit"|"server_error", ...}."""
        kind = spec.get("kind")
        common = {"method": spec.get("method"), "count": spec.get("count"), "seconds": spec.get("seconds")}
        if kind == "rate_limit":
            return self.rate_limit(retry_after=int(spec.get("retry_after", 1)), **common)
        if kind == "server_error":
            return self.server_error(status=int(spec.get("status", 500)), **common)
        raise ValueError("kind must be rate_limit or server_error")

    def _add(
        self, status: int, method: str | None, count: int | None, seconds: float | None, retry_after: int
    ) -> Fault:
        if count is None and seconds is None:
            count = 1
        until = time.monotonic() + seconds if seconds is not None else None
        fault = Fault(status=status, method=method, remaining=count, until=until, retry_after=retry_after)
        with self._lock:
            self._faults.append(fault)
        return fault
