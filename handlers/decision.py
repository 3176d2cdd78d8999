"""What a DTS step does with one documented value of a DTS enum: the shape of the decision tables.

Each step that reads an enum (`JobItem.Status` in track_task, the check's `Status` × `CheckFlag`, `StepStatus` and
`CheckResult` in verify_task) holds a table from every documented value to a `Verdict`; the drift test
(tests/handlers/test_dts_enum_drift.py) reads the values from the SDK's docstrings and fails on one without a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.i18n import _


class Decision(StrEnum):
    WAIT = "wait"  # DTS is working: ask again later
    DONE = "done"  # the step's goal holds
    CHECK_FAILED = "check_failed"  # the verification did not pass: show the items, offer Re-verify
    RECOVERABLE = "recoverable"  # DTS retries by itself: say so, keep watching, alert if it lasts
    AUTO_RETRY = "auto_retry"  # DTS retries by itself within the task's retry window; past it, a person decides
    PAUSED = "paused"  # a person paused the task: say so, keep watching
    FAILED = "failed"  # the task cannot go on: diagnose


@dataclass(frozen=True)
class Verdict:
    """A decision and the sentence the channel sees (`{job}` and `{status}` are filled in); sentences are
    marked `N_` and translated when said."""

    decision: Decision
    sentence: str

    def say(self, job_id: str, status: str, **more: object) -> str:
        return _(self.sentence, job=f"`{job_id}`", status=status, **more)
