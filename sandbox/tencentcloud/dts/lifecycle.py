"""A DTS job's status as a timeline: actions schedule timed transitions, reads compute the status lazily.

No background threads: `StartMigrateJob` at t appends (t, readyRun), (t+2, running), (t+22, success) and a
read at any later moment picks the last transition not in the future. Durations are sandbox seconds, so a
clock with speed 100 runs a whole migration in a fraction of a real second.

`JOB_STATUSES` are the values `JobItem.Status` documents (SDK dts/v20211206); `continuation` is what DTS does
next from each on its own (resumableErr → resuming → running, pausing → manualPaused, stopping → canceled,
completing → success), so a test that puts a job into any documented status sees the documented lifecycle.
DTS retries a `resumableErr` by itself only within the job's `AutoRetryTimeRangeMinutes` (0: it does not); a job
still in `resumableErr` when that window ends is in `error` (`within_retry_window`; the documents are silent on
what follows the window: a guess, see README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHECK_SECONDS = 5.0
READY_RUN_SECONDS = 2.0
RUN_SECONDS = 20.0
COMPLETING_SECONDS = 3.0
STOPPING_SECONDS = 3.0
RESUME_SECONDS = 3.0
PAUSING_SECONDS = 2.0
STALLED_SECONDS = 10.0 ** 9
"""How long a run that does not move "has left": it does not end."""

CREATED = "created"
CHECKING = "checking"
CHECK_PASS = "checkPass"
CHECK_NOT_PASS = "checkNotPass"
READY_RUN = "readyRun"
RUNNING = "running"
READY_COMPLETE = "readyComplete"
COMPLETING = "completing"
SUCCESS = "success"
FAILED = "failed"
STOPPING = "stopping"
CANCELED = "canceled"
CREATING = "creating"
PAUSING = "pausing"
MANUAL_PAUSED = "manualPaused"
RESUMABLE_ERR = "resumableErr"
RESUMING = "resuming"
UNKNOWN = "unknown"
ERROR = "error"

JOB_STATUSES = (CREATING, CREATED, CHECKING, CHECK_PASS, CHECK_NOT_PASS, READY_RUN, RUNNING, READY_COMPLETE,
                SUCCESS, FAILED, STOPPING, COMPLETING, PAUSING, MANUAL_PAUSED, RESUMABLE_ERR, RESUMING, UNKNOWN,
                ERROR, CANCELED)
CONFIGURABLE = frozenset({CREATED, CHECK_PASS, CHECK_NOT_PASS})
STOPPABLE = frozenset({RUNNING, READY_RUN, READY_COMPLETE, ERROR, MANUAL_PAUSED, UNKNOWN})
"""StopMigrateJob's documented list: "运行中、准备运行、准备完成、错误、暂停、未知" (dts api.json), exactly."""
RESUMABLE = frozenset({ERROR, RESUMABLE_ERR})
"""ResumeMigrateJob: "针对异常情况可进行重试" (abnormal statuses); a Redis link also from `failed`."""
FINISHED = frozenset({SUCCESS, FAILED, CANCELED, ERROR})

ALL_ACTIONS = ["view", "modify", "check", "start", "configure", "stop", "complete", "isolate", "offline"]
_ALLOWED = {
    CREATED: ["view", "modify", "configure", "check", "isolate"],
    CHECKING: ["view"],
    CHECK_PASS: ["view", "modify", "configure", "check", "start", "isolate"],
    CHECK_NOT_PASS: ["view", "modify", "configure", "check", "isolate"],
    READY_RUN: ["view", "stop"],
    RUNNING: ["view", "stop"],
    READY_COMPLETE: ["view", "stop", "complete"],
    COMPLETING: ["view"],
    STOPPING: ["view"],
    SUCCESS: ["view", "isolate"],
    FAILED: ["view", "isolate"],
    CANCELED: ["view", "isolate"],
    CREATING: ["view"],
    PAUSING: ["view"],
    MANUAL_PAUSED: ["view", "stop"],
    RESUMABLE_ERR: ["view"],
    RESUMING: ["view"],
    UNKNOWN: ["view", "stop"],
    ERROR: ["view", "stop", "isolate"],
}


def allowed_actions(status: str) -> list[str]:
    """The console actions a job in `status` allows (the API's `MigrateAction.AllowedAction`)."""
    return list(_ALLOWED.get(status, ["view"]))


def within_retry_window(steps: list[tuple[float, str]], window: float) -> list[tuple[float, str]]:
    """What follows a `resumableErr` that DTS retries for `window` seconds: `steps` when they leave it within the
    window, else `error` when the window ends."""
    leaves = next((delay for delay, status in steps if status != RESUMABLE_ERR), None)
    if leaves is not None and leaves < window:
        return steps
    return [(window, ERROR)]


def continuation(status: str, run_left: float, end: str) -> list[tuple[float, str]]:
    """What DTS does on its own after entering `status`, as (delay, status) steps; `run_left` seconds of running
    remain before the run ends in `end` (readyComplete, success or failed). Resting states continue with [].
    A `resumableErr` recovers this way only within the job's retry window (`within_retry_window`)."""
    run = [(run_left, end)]
    steps: dict[str, list[tuple[float, str]]] = {
        CREATING: [(READY_RUN_SECONDS, CREATED)],
        READY_RUN: [(READY_RUN_SECONDS, RUNNING), (READY_RUN_SECONDS + run_left, end)],
        RUNNING: run,
        RESUMABLE_ERR: [(RESUME_SECONDS, RESUMING), (2 * RESUME_SECONDS, RUNNING), (2 * RESUME_SECONDS + run_left,
                                                                                     end)],
        RESUMING: [(RESUME_SECONDS, RUNNING), (RESUME_SECONDS + run_left, end)],
        PAUSING: [(PAUSING_SECONDS, MANUAL_PAUSED)],
        STOPPING: [(STOPPING_SECONDS, CANCELED)],
        COMPLETING: [(COMPLETING_SECONDS, SUCCESS)],
    }
    return steps.get(status, [])


@dataclass
class Timeline:
    """Ordered (at, status) transitions; the status at time t is the last one with at <= t."""

    events: list[tuple[float, str]] = field(default_factory=list)

    def status(self, now: float) -> str:
        current = self.events[0][1]
        for at, status in self.events:
            if at > now:
                break
            current = status
        return current

    def entered(self, status: str, now: float) -> float | None:
        """When the job last entered `status` (at or before `now`), or None."""
        found = None
        for at, name in self.events:
            if at > now:
                break
            if name == status:
                found = at
        return found

    def schedule(self, now: float, *steps: tuple[float, str]) -> None:
        """Drop transitions still in the future, then add `steps` as (delay from now, status)."""
        self.events = [event for event in self.events if event[0] <= now]
        self.events.extend((now + delay, status) for delay, status in steps)

    def time_in(self, status: str, since: float, now: float) -> float:
        """Seconds spent in `status` between `since` and `now` (over every visit)."""
        total, entered = 0.0, None
        for at, name in self.events:
            if at > now:
                break
            if entered is not None:
                total += max(0.0, at - entered)
            entered = max(at, since) if name == status else None
        return total + (max(0.0, now - entered) if entered is not None else 0.0)

    def last_at(self, now: float) -> float:
        """Time of the last transition that already happened (the job's update time)."""
        return max(at for at, _ in self.events if at <= now)


def fraction(start: float, duration: float, now: float) -> float:
    """Share of a phase of `duration` seconds begun at `start` that has elapsed at `now`, in [0, 1]."""
    if duration <= 0:
        return 1.0
    return min(1.0, max(0.0, (now - start) / duration))
