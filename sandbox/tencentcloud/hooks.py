"""Hooks: run a callback right before an action runs, to change the world at an exact point of a story.

A demo or test uses them to make the misconfiguration of the guide's FAQ happen between two cloud calls, e.g.
"the source owner detaches a policy just before the preflight's AssumeRole". The callback runs under the
world's lock, before the action itself, and only when the action really runs (not when a fault answers).
A hook fires `count` times (then is spent), or on every matching call when `count` is None.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Callback = Callable[[dict[str, Any]], None]
"""Gets the action's parameters (read them, do not change them)."""


@dataclass
class Hook:
    action: str
    callback: Callback
    service: str | None = None
    count: int | None = 1

    def matches(self, service: str, action: str) -> bool:
        return self.action in ("*", action) and self.service in (None, service)


class Hooks:
    """The registered hooks; `fire` runs those matching one call (spending their counts)."""

    def __init__(self) -> None:
        self._hooks: list[Hook] = []
        self._lock = threading.Lock()

    def before(self, action: str, callback: Callback, service: str | None = None,
               count: int | None = 1) -> Hook:
        """Run `callback(params)` before `action` (`*` for all) of `service` (any when None) runs."""
        hook = Hook(action, callback, service, count)
        with self._lock:
            self._hooks.append(hook)
        return hook

    def clear(self) -> None:
        with self._lock:
            self._hooks.clear()

    def fire(self, service: str, action: str, params: dict[str, Any]) -> None:
        with self._lock:
            due = [h for h in self._hooks if h.matches(service, action)]
            for hook in due:
                if hook.count is not None:
                    hook.count -= 1
                    if hook.count <= 0:
                        self._hooks.remove(hook)
        for hook in due:
            hook.callback(params)
