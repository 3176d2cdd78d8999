"""Stop a DTS task that may run (cancel): StopMigrateJob, then wait until DTS reports it stopped.

The access is revoked only after this step is DONE, so DONE means "no DTS task of this request can run":
never started, or finished (`canceled` after the stop, or `success` / `failed`). Every documented
`JobItem.Status` has a decision in `DECISIONS`; a status DTS documents later (or does not document) waits. A stop
DTS refuses as a status conflict (a status outside StopMigrateJob's documented list, e.g. `resumableErr`) is read
again until the task moves on.
"""

from __future__ import annotations

from enum import StrEnum

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import CloudClients
from core.error_codes import Decision as ErrorDecision
from core.error_codes import row_for
from core.i18n import _
from core.steps import Outcome, StepResult
from handlers import compare_data
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import job_detail, task_id
from storage.models import MigrationRequest

STEP = "stop_task"
POLL_SECONDS = 5.0
START_GRACE_SECONDS = 120.0
"""How long a task that says it never started (created, checkPass) is watched before the access goes: a
StartMigrateJob DTS accepted a moment ago may not show yet (the documents do not say how long; a guess)."""
NOT_STARTED = frozenset({"created", "checkPass"})


class Decision(StrEnum):
    STOP = "stop"  # StopMigrateJob accepts it (SDK: running, readyRun, readyComplete, error, paused, unknown)
    WAIT = "wait"  # moving between states: read again
    STOPPED = "stopped"  # no longer runs, or never started: the access may go


DECISIONS: dict[str, Decision] = {
    "readyRun": Decision.STOP, "running": Decision.STOP, "readyComplete": Decision.STOP,
    "error": Decision.STOP, "manualPaused": Decision.STOP, "unknown": Decision.STOP,
    "resumableErr": Decision.STOP,
    "creating": Decision.WAIT, "checking": Decision.WAIT, "stopping": Decision.WAIT, "completing": Decision.WAIT,
    "pausing": Decision.WAIT, "resuming": Decision.WAIT,
    "created": Decision.STOPPED, "checkPass": Decision.STOPPED, "checkNotPass": Decision.STOPPED,
    "success": Decision.STOPPED, "failed": Decision.STOPPED, "canceled": Decision.STOPPED,
}


@cloud_step(STEP)
def stop_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """StopMigrateJob when the task may run; WAIT until DTS reports it stopped; DONE when it cannot run."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return StepResult(Outcome.DONE, notice=_("No DTS task was bought: revoking the cross-account access."))
    compare_data.close_if_any(request, dts, job_id)  # the request ends: its consistency check goes too
    status = str(job_detail(dts, job_id).get("Status"))
    decision = DECISIONS.get(status, Decision.WAIT)
    if decision is Decision.STOP:
        try:
            dts.call("StopMigrateJob", {"JobId": job_id})
        except TencentCloudSDKException as error:
            if row_for(str(error.get_code())).decision is not ErrorDecision.REREAD:
                raise
            # not in this status (the documented list is running, readyRun, readyComplete, error, paused,
            # unknown): read again until DTS moves the task on; the access stays until it is stopped
            return StepResult(Outcome.WAIT, facts={"job_id": job_id, "dts_status": status}, retry_after=POLL_SECONDS,
                              notice=_("DTS does not take a stop of task `{job_id}` while it is `{status}`; the bot "
                                       "stops it once its status changes, and only then revokes the access.",
                                       job_id=job_id, status=status))
        return StepResult(Outcome.WAIT, facts={"job_id": job_id, "dts_status": status}, retry_after=POLL_SECONDS,
                          notice=_("Stopping DTS task `{job_id}` (was `{status}`); the access is revoked once "
                                   "DTS reports it stopped.", job_id=job_id, status=status))
    if decision is Decision.WAIT:
        return StepResult(Outcome.WAIT, facts={"job_id": job_id, "dts_status": status}, retry_after=POLL_SECONDS)
    if status in NOT_STARTED:  # not started yet, or a start that does not show yet: watch it a while first
        first_seen = request.facts.not_started_since or clients.clock()
        if clients.clock() - first_seen < START_GRACE_SECONDS:
            return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS, facts={
                "job_id": job_id, "dts_status": status, "not_started_since": first_seen})
    if status == "success":  # the cutover finished before the cancel could stop it: the request succeeded
        return StepResult(Outcome.DONE, facts={"job_id": job_id, "dts_status": status}, next_state="revoking_access",
                          notice=_("DTS task `{job_id}` had already completed (`success`) when the cancel came: "
                                   "the migration succeeded; revoking the cross-account access.", job_id=job_id))
    return StepResult(Outcome.DONE, facts={"job_id": job_id, "dts_status": status},
                      notice=_("DTS task `{job_id}` is `{status}`: revoking the cross-account access.", job_id=job_id,
                               status=status))
