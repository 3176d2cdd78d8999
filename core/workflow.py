"""The request's states and legal transitions, as data.

requested → approved (by both sides) → authorizing_source → [granting_subaccount] → preflight → creating_task
→ configuring → verifying → starting → running → [ready_to_complete → completing] → revoking_access → succeeded,
plus rejected, cancelled, expired, failed, and verify_failed → verifying (re-verify).
Every unfinished request can be cancelled. After the bot touched the cloud it goes through cancelling (access
revoked) to cancelled, so no cancelled request leaves the cross-account door open; once a DTS task may run
(started, or StartMigrateJob attempted), it first goes through stopping_task (StopMigrateJob, then wait until
DTS reports the task canceled), so the access is never revoked under a running task.
A task DTS reports in `error` (or still in `resumableErr` past its automatic retry window) fails the request at
`running`; a target approver's *Retry task* takes it through resuming_task (ResumeMigrateJob) back to running.
A person's *Pause* takes a running task through pausing (PauseMigrateJob, until DTS reports manualPaused) to
paused, and *Continue* through continuing (ContinueMigrateJob) back to running; a pause made outside Slack goes from
running straight to paused. A paused task may still run again: it can be cancelled (stopping_task first).
*Throttle* takes a running task through throttling (ModifyMigrateRateLimit) back to running.
Guided mode (an account with `access: guided`): instead of the bot's CAM call, a step posts the owner's steps and
the request waits in awaiting_owner until an approver of that side presses verify (→ the next step); a preflight
that fails for a reason in that owner's hands goes back there.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    AUTHORIZING_SOURCE = "authorizing_source"
    GRANTING_SUBACCOUNT = "granting_subaccount"
    PREFLIGHT = "preflight"
    CREATING_TASK = "creating_task"
    CONFIGURING = "configuring"
    VERIFYING = "verifying"
    VERIFY_FAILED = "verify_failed"
    STARTING = "starting"
    RUNNING = "running"
    READY_TO_COMPLETE = "ready_to_complete"
    COMPLETING = "completing"
    REVOKING_ACCESS = "revoking_access"
    STOPPING_TASK = "stopping_task"
    RESUMING_TASK = "resuming_task"
    """A person's *Retry task*: ResumeMigrateJob, then running again once DTS has taken it."""
    PAUSING = "pausing"
    """A person's *Pause*: PauseMigrateJob, then paused once DTS reports manualPaused."""
    PAUSED = "paused"
    """DTS reports the task manualPaused (paused from Slack or outside it); *Continue* goes on."""
    CONTINUING = "continuing"
    """A person's *Continue*: ContinueMigrateJob, then running again once DTS runs the task."""
    THROTTLING = "throttling"
    """A person's *Throttle*: ModifyMigrateRateLimit with the limits asked for, then running again."""
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    AWAITING_OWNER = "awaiting_owner"
    """Guided mode: an account owner does the CAM steps the bot posted, then presses verify."""


S = State

# Steps that a failed request may be retried from (the step it failed in).
RETRYABLE_STEPS = (
    S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT, S.PREFLIGHT, S.CREATING_TASK, S.CONFIGURING, S.VERIFYING,
    S.STARTING, S.REVOKING_ACCESS, S.STOPPING_TASK, S.CANCELLING,
)

TRANSITIONS: dict[State, tuple[State, ...]] = {
    S.REQUESTED: (S.APPROVED, S.REJECTED, S.CANCELLED, S.EXPIRED),
    S.APPROVED: (S.AUTHORIZING_SOURCE, S.CANCELLED),
    S.AUTHORIZING_SOURCE: (S.GRANTING_SUBACCOUNT, S.PREFLIGHT, S.FAILED, S.CANCELLING, S.AWAITING_OWNER),
    S.GRANTING_SUBACCOUNT: (S.PREFLIGHT, S.FAILED, S.CANCELLING, S.AWAITING_OWNER),
    S.PREFLIGHT: (S.CREATING_TASK, S.FAILED, S.CANCELLING, S.AWAITING_OWNER),
    S.CREATING_TASK: (S.CONFIGURING, S.FAILED, S.CANCELLING),
    S.CONFIGURING: (S.VERIFYING, S.FAILED, S.CANCELLING),
    S.VERIFYING: (S.STARTING, S.VERIFY_FAILED, S.FAILED, S.CANCELLING),
    S.VERIFY_FAILED: (S.VERIFYING, S.CANCELLING, S.FAILED),
    S.STARTING: (S.RUNNING, S.FAILED, S.STOPPING_TASK),
    S.RUNNING: (S.READY_TO_COMPLETE, S.REVOKING_ACCESS, S.FAILED, S.STOPPING_TASK, S.PAUSING, S.PAUSED,
                S.THROTTLING),
    S.READY_TO_COMPLETE: (S.COMPLETING, S.FAILED, S.STOPPING_TASK, S.REVOKING_ACCESS),  # revoking: DTS completed
    S.COMPLETING: (S.REVOKING_ACCESS, S.FAILED, S.STOPPING_TASK, S.READY_TO_COMPLETE),  # ready: the lag rose
    S.REVOKING_ACCESS: (S.SUCCEEDED, S.FAILED),
    S.STOPPING_TASK: (S.CANCELLING, S.REVOKING_ACCESS, S.FAILED),  # revoking: DTS had completed it
    S.RESUMING_TASK: (S.RUNNING, S.FAILED, S.STOPPING_TASK),
    S.PAUSING: (S.PAUSED, S.RUNNING, S.FAILED, S.STOPPING_TASK),  # running: DTS did not take the pause
    S.PAUSED: (S.CONTINUING, S.RUNNING, S.FAILED, S.STOPPING_TASK),  # running: continued outside Slack
    S.CONTINUING: (S.RUNNING, S.FAILED, S.STOPPING_TASK),
    S.THROTTLING: (S.RUNNING, S.FAILED, S.STOPPING_TASK),
    S.CANCELLING: (S.CANCELLED, S.FAILED),
    S.FAILED: (*RETRYABLE_STEPS, S.RESUMING_TASK, S.STOPPING_TASK, S.CANCELLING),
    S.SUCCEEDED: (),
    S.REJECTED: (),
    S.CANCELLED: (),
    S.EXPIRED: (),
    S.AWAITING_OWNER: (S.GRANTING_SUBACCOUNT, S.PREFLIGHT, S.CANCELLING, S.FAILED),
}

NEXT: dict[State, State] = {
    S.APPROVED: S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT: S.PREFLIGHT, S.PREFLIGHT: S.CREATING_TASK,
    S.CREATING_TASK: S.CONFIGURING, S.CONFIGURING: S.VERIFYING, S.VERIFYING: S.STARTING, S.STARTING: S.RUNNING,
    S.RUNNING: S.REVOKING_ACCESS, S.COMPLETING: S.REVOKING_ACCESS, S.REVOKING_ACCESS: S.SUCCEEDED,
    S.STOPPING_TASK: S.CANCELLING, S.CANCELLING: S.CANCELLED, S.RESUMING_TASK: S.RUNNING,
    S.PAUSING: S.PAUSED, S.PAUSED: S.RUNNING, S.CONTINUING: S.RUNNING, S.THROTTLING: S.RUNNING,
}
"""Where a state's step leads when it is done, unless the step says otherwise (authorizing_source: next_after)."""

TERMINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# States in which the scheduler has cloud work to do or a DTS task to watch.
ACTIVE = frozenset({
    S.APPROVED, S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT, S.PREFLIGHT, S.CREATING_TASK, S.CONFIGURING,
    S.VERIFYING, S.STARTING, S.RUNNING, S.COMPLETING, S.REVOKING_ACCESS, S.STOPPING_TASK, S.CANCELLING,
    S.RESUMING_TASK, S.PAUSING, S.PAUSED, S.CONTINUING, S.THROTTLING,
    S.READY_TO_COMPLETE,  # ready: the lag, the compare task and the window are watched
})
# Cancel: outright while nothing exists in the cloud, through `cancelling` (revoke access) once the bot has
# started its cloud work, through `stopping_task` first once a DTS task may run.
CANCELLING_STATES = frozenset({S.STOPPING_TASK, S.CANCELLING})
CANCELLABLE = frozenset(
    state for state, targets in TRANSITIONS.items()
    if state not in CANCELLING_STATES and {S.CANCELLED, S.CANCELLING, S.STOPPING_TASK} & set(targets)
)
STEP_STATES = ACTIVE - {S.APPROVED}
"""States whose cloud step (handlers.STEPS) the engine runs; approved only moves on."""
TASK_MAY_RUN = frozenset({S.STARTING, S.RUNNING, S.READY_TO_COMPLETE, S.COMPLETING, S.RESUMING_TASK,
                          S.PAUSING, S.PAUSED, S.CONTINUING, S.THROTTLING})
"""States in which StartMigrateJob was attempted: the DTS task may be running."""


ACCESS_STEPS = frozenset({S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT, S.PREFLIGHT})
"""Steps that set up and prove the cross-account access."""


def next_after(state: str | State, executor: str) -> State:
    """Where a done step leads by the table; the sub-account grant comes only for a sub-account executor."""
    state = State(state)
    if state is S.AUTHORIZING_SOURCE:
        return S.PREFLIGHT if executor == "root" else S.GRANTING_SUBACCOUNT
    return NEXT[state]


def retry_target(failed_step: str | State) -> State:
    """Where a retry of a failed request starts: its failed step, the source role when access failed, the task's
    resume (ResumeMigrateJob) when DTS stopped migrating.

    A failure up to the preflight is usually a role, policy or grant someone changed (the guide's FAQ);
    authorize_source and grant_subaccount are idempotent and repair exactly what is missing, so a retry starts
    there instead of repeating a preflight that would fail the same way.
    """
    step = State(failed_step)
    if step in (S.RUNNING, S.RESUMING_TASK, S.PAUSING, S.PAUSED, S.CONTINUING, S.THROTTLING):
        return S.RESUMING_TASK
    return S.AUTHORIZING_SOURCE if step in ACCESS_STEPS else step


def cancel_target(current: str | State, failed_step: str | None = None, has_task: bool = False) -> State:
    """Where a cancel leads from `current`: cancelled, cancelling (revoke access), or stopping_task first.

    A failed request goes through stopping_task unless it failed in an access step with no DTS task: what
    DTS reports, not what the bot last recorded, decides whether a task runs (an answer may have been lost).
    """
    state = State(current)
    if S.CANCELLED in TRANSITIONS[state]:
        return S.CANCELLED
    if state in TASK_MAY_RUN:
        return S.STOPPING_TASK
    if state is S.FAILED and (has_task or failed_step is None or State(failed_step) not in ACCESS_STEPS | {
            S.CANCELLING}):  # a failed access-only cancel has no task to stop: it only revokes again
        return S.STOPPING_TASK
    return S.CANCELLING


class IllegalTransition(ValueError):
    """A transition the table does not allow."""

    def __init__(self, current: str, target: str):
        super().__init__(f"cannot go from {current} to {target}")
        self.current, self.target = current, target


def check_transition(current: str | State, target: str | State) -> State:
    """Return `target` as a State if the table allows current → target, else raise IllegalTransition."""
    try:
        source, goal = State(current), State(target)
    except ValueError:
        raise IllegalTransition(str(current), str(target)) from None
    if goal not in TRANSITIONS[source]:
        raise IllegalTransition(source, goal)
    return goal
