"""What a request remembers between its steps: every key of `MigrationRequest.facts`, typed, in one place.

Stored as the same JSON object as before (only the keys that were ever set), so rows written earlier read as
they are: a missing key reads as its default, a key this list does not know is kept as it was. Steps hand
their new facts as a mapping (`StepResult.facts`); `Facts.merged` refuses a key that is not listed here, so a
misspelt fact fails where it is written, not where it is read. Never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Facts(BaseModel):
    """The step outputs a request keeps (the task id and progress have their own columns)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    # the request and its plan
    role_plan: dict[str, Any] | None = None
    """What CAM said about the named role when the plan was made (handlers.role_check); None: not read."""
    reject_reason: str | None = None
    """Why an approver rejected the request, as typed (shown on the request message)."""
    round: int = 0
    """How many times a person sent the request on again (Retry, Re-verify, the owner's guided steps done)."""

    # guided mode: the owner runs the CAM steps
    guided_side: str | None = None
    """The side ("source" or "target") whose owner must run the generated CAM steps now."""
    guided_next: str | None = None
    """The state the request goes to once that owner says the steps are done."""

    # access in the source account and the sub-account grant
    role_used: bool | None = None
    """The request's access step used the role (it took part in the role's life; revoke_access decides on it)."""
    role_owner: str | None = None
    """The request that created the role, when the bot did; None: a role a person made."""
    role_gone_proof: dict[str, str] | None = None
    """Guided source: STS's answer to *Role deleted — check* that proved the owner's role gone ({code,
    request_id}); until then the cross-account access is not closed (the request message says so)."""
    keep_role_for: str | None = None
    """Set by the engine when another unfinished request still uses the role: revoke keeps it for that one."""
    inherits_from: list[str] | None = None
    """Set by the engine for the last user's revoke: the ended requests that made the role or the grant and kept
    it for the requests still using it; what carries their tag is this request's to delete."""
    grant_policy_id: int | None = None
    """CAM policy id of the sub-account's sts:AssumeRole grant in the target account."""

    # the DTS task
    source_topology: dict[str, str] | None = None
    """The source instance's topology as last read (core.topology.Topology.fact: node_type, read, label)."""
    target_topology: dict[str, str] | None = None
    """The target instance's topology as last read (same shape)."""
    credentials_issued_at: float | None = None
    """Epoch seconds when the role's temporary credentials were handed to DTS (their life is counted from it)."""
    auto_retry_minutes: int | None = None
    """`AutoRetryTimeRangeMinutes` the task was configured with: how long DTS retries `resumableErr` itself."""
    failed_checks: list[dict[str, Any]] | None = None
    """The verification's failed or warning items, each with the guide's fix (core.dts_checks)."""
    check_reported: bool | None = None
    """The failed verification above was reported; a re-run that finds it again checks once more first."""
    login_reread: bool | None = None
    """DTS could not log in, so the Secrets Manager logins were read again and the check run once more (a rotated
    password); a second refusal is reported. Cleared when a person re-verifies."""
    dts_status: str | None = None
    """The task's `Status` as its step last read it (the steps compare it to decide their notices)."""
    watched_status: str | None = None
    """The task's status as the watcher (core.watcher) last listed it; "absent" when the listing lost it."""
    lag_seconds: int | None = None
    """Seconds the incremental sync is behind the source, as last read; None: unknown (DTS gave none, or -1)."""
    dts_step_now: int | None = None
    """DTS's current step number (StepInfo.StepNow): the last one of a fullAndIncrement task is catching up."""
    dts_step_all: int | None = None
    """How many steps the DTS task has (StepInfo.StepAll)."""
    dts_attention: str | None = None
    """The sentence shown on the request message while DTS retries or a person paused the task; "" when none."""
    attention_since: float | None = None
    """Epoch seconds since DTS has been recovering from an error in this episode; None when it is not."""
    attention_alerted: bool | None = None
    """The "recovering for too long" alert of this episode was sent."""
    resume_sent_at: float | None = None
    """Epoch seconds of the last accepted ResumeMigrateJob (*Retry task*), so a re-run does not resume twice."""
    dumper_resume: str | None = None
    """DTS's DumperResumeCtrl as last read: "yes", a paused full export resumes from its checkpoint; "no", it
    starts over (the Pause button's confirmation warns of it)."""
    paused_by: str | None = None
    """Who paused the task: a Slack user ID (*Pause*), "" when it was paused outside Slack; None when not paused."""
    control_sent_at: float | None = None
    """Epoch seconds of the last accepted PauseMigrateJob or ContinueMigrateJob, so a re-run does not send it twice."""
    rate_limit: dict[str, int] | None = None
    """The task's rate limits as last read (RateLimitOption's Current* values by parameter name)."""
    rate_limit_wanted: dict[str, int] | None = None
    """The limits a person's *Throttle* asked for, until the throttling step applied them."""
    not_started_since: float | None = None
    """Epoch seconds the stop step first saw a task that says it never started (its grace period)."""

    # the cutover (core/lag.py, core/cutover.py, handlers/compare_data.py)
    lag_mb: int | None = None
    """MB the incremental sync is behind the source (StepInfo.MasterSlaveDistance) as last read; None: unknown."""
    lag_history: list[list[float | None]] | None = None
    """The last hour of lag samples, [epoch seconds, seconds or None, MB or None], oldest first (bounded)."""
    lag_zero_since: float | None = None
    """Epoch seconds since both lag figures have read 0 without a break; None when they do not now."""
    compare_task_id: str | None = None
    """The DTS compare task (CreateCompareTask) the bot made for this request, until it is deleted."""
    compare_status: str | None = None
    """Its `Status` as last read (created, readyRun, running, success, stopping, failed, canceled)."""
    compare_conclusion: str | None = None
    """Its `Conclusion` once finished (same, different, skipAll); "unavailable" when DTS cannot compare the link."""
    compare_report: dict[str, Any] | None = None
    """What the thread was told of the finished check: tables checked, differing tables and rows, skipped."""
    compare_finished_at: float | None = None
    """Epoch seconds the compare task concluded: a *same* is evidence only while the lag has held at 0 since."""
    compare_wanted: bool | None = None
    """A person pressed *Check data* (or the lag first reached 0 under `cutover.compare: auto`): run one."""
    compare_closed: bool | None = None
    """The compare task was stopped and deleted when the request ended."""
    cutover_evidence: list[dict[str, Any]] | None = None
    """The gate's evidence as last computed: [{item, ok, detail}] (core.cutover)."""
    cutover_overrides: dict[str, dict[str, Any]] | None = None
    """The two-sided override of missing evidence: {side: {user, reason, items}}, `items` the gate's items that
    were missing when it was given (what it covers)."""
    cutover_reminded: bool | None = None
    """The approvers were reminded of the coming cutover window."""
    cutover_window_opened: bool | None = None
    """The window opened and the thread got the cutover checklist."""

    # close-out of the DTS task (core/closeout.py)
    trade_status: str | None = None
    """The task's `TradeInfo.TradeStatus` as close-out last read it ("absent" once DTS no longer lists it)."""
    isolated_at: str | None = None
    """When close-out saw the task isolated (ISO time, UTC)."""
    retain_until: str | None = None
    """Until when an isolated task is kept (`dts.retention_days`) before it is destroyed (ISO time, UTC)."""
    destroyed_at: str | None = None
    """When close-out saw the task destroyed (ISO time, UTC)."""
    closeout_undone_by: str | None = None
    """Who pressed *Undo close-out* (a target approver's Slack ID)."""

    def merged(self, changes: Mapping[str, Any]) -> Facts:
        """These facts with `changes` applied; a key not listed on this class is a mistake (ValueError)."""
        unknown = sorted(set(changes) - set(Facts.model_fields))
        if unknown:
            raise ValueError(f"not a fact of a request: {', '.join(unknown)} (storage/facts.py lists them)")
        return Facts.model_validate({**self.stored(), **changes})

    def stored(self) -> dict[str, Any]:
        """The JSON object as the column holds it: the keys that were set, and any unknown ones read earlier."""
        return self.model_dump(mode="json", exclude_unset=True)

    @classmethod
    def of(cls, value: Facts | Mapping[str, Any] | None) -> Facts:
        """Facts from the column's JSON (or a mapping a test or an older caller gives); None reads as empty."""
        if isinstance(value, Facts):
            return value
        return cls.model_validate(dict(value or {}))


class FactsJSON(TypeDecorator[Facts]):
    """The `facts` column: `Facts` in Python, the same JSON object in the database."""

    impl = JSON
    cache_ok = True
    comparator_factory = JSON.Comparator  # facts["watched_status"] in SQL, as on a plain JSON column

    def process_bind_param(self, value: Facts | Mapping[str, Any] | None, dialect: Dialect) -> dict[str, Any]:
        return Facts.of(value).stored()

    def process_result_value(self, value: Mapping[str, Any] | None, dialect: Dialect) -> Facts:
        return Facts.of(value)
