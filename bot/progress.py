"""Output for a long-running command: lines as they come, and a progress indicator while it waits.

On a terminal a spinner with the elapsed time stays on the last line and is erased before each printed line;
elsewhere (CI logs, pipes) each new wait is announced once as a plain line.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from typing import Self, TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """Prints lines and shows what is being waited for; `with Progress(out) as p: p.line(...); p.waiting(...)`."""

    def __init__(self, out: TextIO = sys.stdout, tty: bool | None = None, interval: float = 0.1) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.interval = interval
        self.started = time.monotonic()
        self._what: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        if self.tty:
            self._thread = threading.Thread(target=self._spin, name="demo-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._erase()

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    def line(self, text: str) -> None:
        """Print one line (above the spinner on a terminal)."""
        with self._lock:
            self._erase()
            self.out.write(text + "\n")
            self.out.flush()

    def waiting(self, what: str | None) -> None:
        """Say what is awaited now (None: nothing); a plain line when not on a terminal and it changed."""
        if what == self._what:
            return
        self._what = what
        if what and not self.tty:
            self.line(f"… {what}")

    def _spin(self) -> None:
        for frame in itertools.cycle(FRAMES):
            if self._stop.wait(self.interval):
                return
            with self._lock:
                if self._what:
                    self.out.write(f"\r\x1b[2K{frame} {self._what} ({self.elapsed():.0f}s)")
                    self.out.flush()

    def _erase(self) -> None:
        if self.tty:
            self.out.write("\r\x1b[2K")

