"""SQLModel tables: migration requests, approvals, the audit log, the Slack outbox and cloud ownership.

No secret is ever stored here: API keys and database passwords stay in the configuration, temporary
credentials live only in memory. The external ID is stored because the bot needs it for every AssumeRole;
it is masked wherever it is shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.facts import Facts, FactsJSON


def utcnow() -> datetime:
    """Timezone-aware now, the one clock every row uses."""
    return datetime.now(UTC)


class MigrationRequest(SQLModel, table=True):
    """One cross-account migration, from the slash command to a finished DTS task."""

    __tablename__ = "migration_request"

    id: str = Field(primary_key=True, max_length=16)
    requester: str = Field(max_length=32)
    source_account: str = Field(max_length=32)
    source_uin: str = Field(max_length=20)
    source_region: str = Field(max_length=32)
    source_instance: str = Field(max_length=64)
    target_account: str = Field(max_length=32)
    target_uin: str = Field(max_length=20)
    target_region: str = Field(max_length=32)
    target_instance: str = Field(max_length=64)
    db_type: str = Field(max_length=16)
    role_name: str = Field(max_length=128)
    external_id: str | None = Field(default=None, max_length=128)
    executor: str = Field(default="root", max_length=20)
    migrate_type: str = Field(max_length=20)
    objects: str = Field(default="all", max_length=4000)
    write_mode: str | None = Field(default=None, max_length=16)
    """Redis' DstWriteMode (clearData, overwrite, normal); None for the engines that take none."""
    start_at: str | None = Field(default=None, max_length=40)
    """When DTS starts the task (ISO 8601 with zone: ModifyMigrationJob RunMode timed); None: at once."""
    cutover_at: str | None = Field(default=None, max_length=40)
    """The cutover window both owners approved (ISO 8601 with zone); None: none (core.cutover)."""
    read_only_target: str | None = Field(default=None, max_length=8)
    """"yes": the target is read-only while DTS migrates (MigrateOption.IsDstReadOnly, MySQL); None: writable."""

    state: str = Field(default="requested", max_length=32, index=True)
    version: int = Field(default=1)
    """Optimistic concurrency: every write checks and bumps it."""
    revision: int = Field(default=1)
    """Plan revision: an edit bumps it and voids approvals of earlier revisions."""
    dedupe_key: str | None = Field(default=None, max_length=64, unique=True)
    """Slack's trigger_id of the command that created it: a retried delivery finds this row."""

    channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    job_id: str | None = Field(default=None, max_length=64, index=True)
    progress: int | None = None
    failed_step: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=4000)
    facts: Facts = Field(default_factory=Facts, sa_column=Column(FactsJSON, nullable=False))
    """Step outputs needed later (custom policy id, check results); never secrets. Every key: storage/facts.py."""

    next_run_at: datetime | None = Field(default=None, index=True)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    attempts: int = Field(default=0)
    closeout: str | None = Field(default=None, max_length=16, index=True)
    """The DTS task's close-out phase once the request ended (core/closeout.py); None: not begun."""

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    state_changed_at: datetime = Field(default_factory=utcnow,
                                       sa_column_kwargs={"server_default": text("CURRENT_TIMESTAMP")})
    """When the request entered its current state (a retry or a progress update does not move it). The server
    default serves a replica of a version before the column (a rolling upgrade, migration 0006)."""

    def __setattr__(self, name: str, value: Any) -> None:
        """A mapping given as `facts` (a new row, a test) becomes `Facts` at once, as a loaded row's are."""
        super().__setattr__(name, Facts.of(value) if name == "facts" else value)


class Approval(SQLModel, table=True):
    """One side's approval of one plan revision; the unique key makes a click idempotent."""

    __table_args__ = (UniqueConstraint("request_id", "side", "revision", name="uq_approval_side_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="migration_request.id", index=True, max_length=16)
    side: str = Field(max_length=8)
    revision: int
    user_id: str = Field(max_length=32)
    approved_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Append-only record of every step, decision and cloud call (codes and ids, no secrets)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str | None = Field(default=None, index=True, max_length=16)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(default="dtsbot", max_length=32)
    step: str = Field(max_length=32)
    action: str = Field(default="", max_length=64)
    account: str = Field(default="", max_length=32)
    resource: str = Field(default="", max_length=256, sa_column_kwargs={"server_default": ""})
    """The cloud resource a call acted on (a role, a policy, a DTS task), as the call named it."""
    outcome: str = Field(max_length=16)
    cloud_request_id: str | None = Field(default=None, max_length=64)
    error_code: str | None = Field(default=None, max_length=128)
    detail: str = Field(default="", max_length=2000)


class OutboxMessage(SQLModel, table=True):
    """A channel notice waiting to reach Slack; `key` makes each notice unique across restarts."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=128)
    request_id: str = Field(index=True, max_length=16)
    kind: str = Field(max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    result_ts: str | None = Field(default=None, max_length=32)


class CloudOwnership(SQLModel, table=True):
    """What a request did to a cloud resource: `created` (a role or policy), `attached` (a policy to a role or
    sub-account), `uses` (a role it relies on) or `releases` (a role it deletes as its last user). The cloud copy of `created` is the `dtsbot:request` tag;
    `released_at` is set when the request gave it back (deleted, detached, or stopped using it)."""

    __tablename__ = "cloud_ownership"
    __table_args__ = (UniqueConstraint("request_id", "relation", "kind", "account_uin", "name", "holder",
                                       name="uq_cloud_ownership"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True, max_length=16)
    relation: str = Field(max_length=8)
    kind: str = Field(max_length=16)
    """role | role_policy | policy | user_policy"""
    account_uin: str = Field(max_length=20)
    name: str = Field(index=True, max_length=128)
    """The role's or the policy's name."""
    holder: str = Field(default="", max_length=128)
    """For an attachment: the role name or sub-account UIN it is attached to."""
    policy_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    recorded_at: datetime = Field(default_factory=utcnow)
    released_at: datetime | None = None


class ApprovalReminder(SQLModel, table=True):
    """The one reminder a side's approvers get before the request expires; the unique key makes it once, across
    restarts and replicas."""

    __tablename__ = "approval_reminder"
    __table_args__ = (UniqueConstraint("request_id", "side", name="uq_approval_reminder_side"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="migration_request.id", index=True, max_length=16)
    side: str = Field(max_length=8)
    reminded_at: datetime = Field(default_factory=utcnow)


class AlertEpisode(SQLModel, table=True):
    """One episode of an alert about a running migration (core/alerts.py): a lag that stayed high, a full load that
    stopped moving, an error state. `open_key` ("<request id>:<kind>", unique) is set while the episode is open and
    cleared when it ends, so two replicas cannot open the same episode twice; the alert and its "back to normal"
    notice are queued in the transaction that opens or closes it."""

    __tablename__ = "alert_episode"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True, max_length=16)
    kind: str = Field(max_length=16)
    """lag | stall | error"""
    open_key: str | None = Field(default=None, unique=True, max_length=40)
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    detail: str = Field(default="", max_length=500)
    """What was seen when it opened (the lag in seconds, the stuck progress, the DTS status)."""


class AlertSnooze(SQLModel, table=True):
    """A request's alerts silenced until `until` by a person's *Snooze* (the DM's button); one row per request."""

    __tablename__ = "alert_snooze"

    request_id: str = Field(primary_key=True, max_length=16)
    until: datetime
    by_user: str = Field(max_length=32)
