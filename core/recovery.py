"""Recovery of a DTS task that stopped migrating with an error, as Tencent documents it.

`ResumeMigrateJob` is "the retry of a migration task, for abnormal situations; for Redis also after a failure"
(dts v20211206 api.json), so a task in `error` or `resumableErr` (and a Redis task in `failed`) can be resumed.
Its `ResumeOption`: `normal` for every link but Redis; `clearData` (empty the target first) or `overwrite`
(write over the target's keys) for Redis only. `resume_option` is the one place that picks it.
`AutoRetryTimeRangeMinutes` (ModifyMigrationJob, 5-720 minutes, 0 = no retry) is how long DTS retries a
`resumableErr` by itself; past it a target approver decides (*Retry task*).
"""

from __future__ import annotations

from typing import Protocol

from core.db_kinds import db_kind

RESUMABLE = frozenset({"error", "resumableErr"})
"""The abnormal statuses ResumeMigrateJob retries ("针对异常情况可进行重试")."""
RESUMABLE_REDIS = RESUMABLE | {"failed"}
"""Redis links may also be retried after a failure ("对于redis在失败时也可重试")."""
REDIS_WRITE_MODES = ("overwrite", "clearData")
"""ResumeOption values documented for Redis only; `normal` is documented for every other link only."""
SAFE_REDIS_WRITE_MODE = "overwrite"
"""A Redis task resumed without a chosen write mode writes over the keys it migrates and keeps the target's
other keys; `clearData` would empty the target instance first, so it is never chosen for a person."""


class Resumed(Protocol):
    """What the resume reads of a request (storage.models.MigrationRequest)."""

    @property
    def db_type(self) -> str: ...


def is_redis(db_type: str) -> bool:
    """Whether the link is Redis (the documents name ResumeOption's Redis values for `redis` links)."""
    return db_kind(db_type).database_type == "redis"


def resumable(status: str | None, db_type: str) -> bool:
    """Whether ResumeMigrateJob is documented for a task of this engine in `status`."""
    return (status or "") in (RESUMABLE_REDIS if is_redis(db_type) else RESUMABLE)


def resume_option(request: Resumed) -> str:
    """ResumeMigrateJob's `ResumeOption`: `normal` for non-Redis links; for Redis the request's write mode when it
    is one ResumeOption takes, else `overwrite`, which destroys nothing."""
    if not is_redis(request.db_type):
        return "normal"
    mode = getattr(request, "write_mode", None)  # the one place the Redis `write_mode=` request field is read
    return mode if mode in REDIS_WRITE_MODES else SAFE_REDIS_WRITE_MODE
