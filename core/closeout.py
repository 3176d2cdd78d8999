"""Close-out of a finished request's DTS task, as data: isolate it, keep it for `dts.retention_days`, destroy it.

Tencent documents the order (dts api.json; the Terraform provider's destroy does the same): `IsolateMigrateJob`
after the task finished or was cancelled (a billed task becomes `TradeInfo.TradeStatus=isolated`; a task that is
not billed is destroyed by the isolate call itself), `RecoverMigrateJob` only from a manual isolation, and
`DestroyMigrateJob` only once isolated. The phases live in the request's `closeout` column:

    isolating → retained → destroying → destroyed
                retained → recovering → kept          (*Undo close-out*, a target approver, during retention)
    isolating → destroyed                             (not billed: the isolate call destroyed it)
    no_task (nothing was bought), failed (a diagnosed failure; the thread says what to do)

A task that never ran (cancelled before StartMigrateJob: created, checkPass, checkNotPass) moved no data, so it
is destroyed right after its isolation, without retention: a cancel during verification leaves no task (and no
idle task counts against `LimitExceeded.MaxUnusedJobs`). The request's own state stays succeeded or cancelled;
close-out happens after the access was revoked, which happens only after the task was stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.i18n import N_
from core.workflow import State
from storage.models import MigrationRequest


class Phase(StrEnum):
    ISOLATING = "isolating"
    RETAINED = "retained"
    DESTROYING = "destroying"
    DESTROYED = "destroyed"
    RECOVERING = "recovering"
    KEPT = "kept"
    NO_TASK = "no_task"
    FAILED = "failed"


P = Phase

TRANSITIONS: dict[Phase, tuple[Phase, ...]] = {
    P.ISOLATING: (P.RETAINED, P.DESTROYING, P.DESTROYED, P.NO_TASK, P.FAILED),
    P.RETAINED: (P.DESTROYING, P.RECOVERING, P.KEPT, P.DESTROYED, P.FAILED),
    P.DESTROYING: (P.DESTROYED, P.KEPT, P.FAILED),
    P.RECOVERING: (P.KEPT, P.DESTROYED, P.FAILED),
    P.DESTROYED: (),
    P.KEPT: (),
    P.NO_TASK: (),
    P.FAILED: (),
}
NEXT: dict[Phase, Phase] = {P.ISOLATING: P.RETAINED, P.RETAINED: P.DESTROYING, P.DESTROYING: P.DESTROYED,
                            P.RECOVERING: P.KEPT}
"""Where a phase's step leads when it is done, unless the step says otherwise."""
DUE = frozenset(phase for phase, targets in TRANSITIONS.items() if targets)
"""Phases with work for the close-out runner (core/closeout_runner.py)."""
ENDS = frozenset({State.SUCCEEDED, State.CANCELLED})
"""Request states whose DTS task is closed out."""
NEVER_RAN = frozenset({"created", "checking", "checkPass", "checkNotPass"})
"""`JobItem.Status` of a task that was bought but never started: no data to keep, destroyed without retention."""
SETTLED = frozenset({P.RETAINED, P.DESTROYED, P.KEPT, P.NO_TASK, P.FAILED})
"""Phases in which close-out rests (or is over): the thread then gets the request's summary card."""

def begin(request: MigrationRequest, target: State) -> dict[str, Any]:
    """The columns that start close-out when the request moves to `target` (none unless it ends there). It starts
    by looking for the task even without a stored job id: a crash may have lost the id of a task DTS sold."""
    if target not in ENDS or request.closeout is not None:
        return {}
    return {"closeout": P.ISOLATING.value}


def retention(dts_status: str | None, retention_days: float) -> timedelta:
    """How long the isolated task is kept: `dts.retention_days`, nothing for a task that never ran (its
    `JobItem.Status` when it was isolated)."""
    if dts_status in NEVER_RAN:
        return timedelta()
    return timedelta(days=retention_days)


def check_phase(current: str | None, target: Phase) -> Phase:
    """`target` if the table allows current → target, else ValueError."""
    if current is None or target not in TRANSITIONS[Phase(current)]:
        raise ValueError(f"close-out cannot go from {current} to {target.value}")
    return target


def undo_refusal(request: MigrationRequest, now: datetime) -> str | None:
    """Why *Undo close-out* cannot recover the task at `now` (N_ text), or None when it can: only while retained,
    before the retention ends."""
    if request.closeout == P.RECOVERING or request.closeout == P.KEPT:
        return N_("The DTS task of {id} is already recovered or being recovered.")
    if request.closeout != P.RETAINED:
        return N_("The DTS task of {id} is not isolated and kept now ({phase}): there is nothing to undo.")
    until = request.facts.retain_until
    if until and now >= datetime.fromisoformat(until):
        return N_("The retention of the DTS task of {id} is over: it is being destroyed.")
    return None
