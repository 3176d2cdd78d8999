"""The call log: every request the sandbox answered (or dropped), with secrets redacted.

Tests read `CallLog.records` in-process or `GET /_sandbox/calls` over HTTP. Redaction replaces the value of
any parameter whose name contains Secret, Token or Password, or starts with Tmp, at any depth.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

REDACTED = "***"
_SECRET_NAME = re.compile(r"secret|token|password|^tmp", re.IGNORECASE)


def redact(value: Any) -> Any:
    """Copy of `value` with every secret-named field's value replaced by `***`."""
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_NAME.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass(frozen=True)
class CallRecord:
    """One request: `outcome` is `ok`, `error` (then `error_code`), `dropped` (not applied,
    no answer sent) or `committed-dropped` (applied, no answer sent)."""

    time: float
    service: str
    action: str
    region: str
    caller_uin: str
    params: dict[str, Any]
    outcome: str
    error_code: str
    request_id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CallLog:
    """Thread-safe append-only list of CallRecord."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._lock = threading.Lock()

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def of(self, action: str) -> list[CallRecord]:
        """Records of one action, oldest first."""
        return [r for r in self.records if r.action == action]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
