"""ERROR records from every logger: a listener that raised after its ack shows up only there."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ErrorLog(logging.Handler):
    """Collects ERROR records."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.records.append(record)


@contextmanager
def captured_errors() -> Iterator[ErrorLog]:
    """ERROR records from every logger while the block runs."""
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
