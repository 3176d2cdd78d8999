"""Close-out, first step: IsolateMigrateJob on the finished or cancelled task, then wait for `isolated`.

Reads first: a task already isolated (a re-run after a lost answer) is not isolated again; a task DTS no longer has
(not billed: the isolate call destroyed it, as documented) is destroyed; a billing change under way (resizing,
reversing, isolating, offlining: closeout_reads.TRADE) is waited out, never isolated over. Which `JobItem.Status` may be isolated is
`DECISIONS`: the finished ones and those of a task bought but never started; a status on the way there waits; a
task that may still run is never isolated (the workflow stops it before the access goes, so this is a person's
console change: close-out fails and says so).
"""

from __future__ import annotations

from enum import StrEnum

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.closeout import Phase
from core.cloud import CloudClients
from core.error_codes import Decision as ErrorDecision
from core.error_codes import row_for
from core.i18n import _
from core.steps import Diagnosis, Outcome, StepResult
from handlers.closeout_reads import Trade, task_or_none, trade_of, trade_status
from handlers.step import cloud_step, failed, target_dts
from handlers.task_lookup import task_id
from storage.models import MigrationRequest

STEP = "isolate_task"
POLL_SECONDS = 5.0


class Decision(StrEnum):
    ISOLATE = "isolate"  # finished, or bought and never started
    WAIT = "wait"  # on its way to a finished status
    RUNS = "runs"  # may still run: never isolated by the bot


DECISIONS: dict[str, Decision] = {
    "success": Decision.ISOLATE, "failed": Decision.ISOLATE, "canceled": Decision.ISOLATE,
    "created": Decision.ISOLATE, "checkPass": Decision.ISOLATE, "checkNotPass": Decision.ISOLATE,
    "error": Decision.ISOLATE,
    "creating": Decision.WAIT, "checking": Decision.WAIT, "stopping": Decision.WAIT, "completing": Decision.WAIT,
    "pausing": Decision.WAIT, "resuming": Decision.WAIT, "resumableErr": Decision.WAIT, "unknown": Decision.WAIT,
    "readyRun": Decision.RUNS, "running": Decision.RUNS, "readyComplete": Decision.RUNS,
    "manualPaused": Decision.RUNS,
}
"""Every documented `JobItem.Status` (tests/handlers/test_dts_enum_drift.py holds the list)."""


@cloud_step(STEP)
def isolate_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """DONE once the task is isolated (→ retained), DONE to destroyed when DTS has it no more; else WAIT."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return StepResult(Outcome.DONE, next_state=Phase.NO_TASK,
                          notice=_("No DTS task was bought for this request: nothing to close out."))
    detail = task_or_none(dts, job_id)
    trade = trade_of(detail)
    if detail is None or trade is Trade.GONE:
        return StepResult(Outcome.DONE, next_state=Phase.DESTROYED, facts={"job_id": job_id, "trade_status": "absent"},
                          notice=_("DTS task `{job_id}` is gone (a task that is not billed is destroyed by its "
                                   "isolation): nothing is left running or billing.", job_id=job_id))
    status = str(detail.get("Status"))
    facts = {"job_id": job_id, "trade_status": trade_status(detail), "dts_status": status}
    if trade is Trade.ISOLATED:
        return StepResult(Outcome.DONE, facts=facts)
    if trade is Trade.CHANGING:
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
    decision = DECISIONS.get(status, Decision.WAIT)
    if decision is Decision.RUNS:
        return failed(Diagnosis(
            "TaskStillRuns", _("isolate_task: DTS task `{job_id}` is `{status}`", job_id=job_id, status=status),
            _("The request has ended, yet its task may run again (it was started outside the bot)."),
            _("Stop the task in the DTS console (target account {account}), then isolate and destroy it there.",
              account=request.target_account), reach="target"))
    if decision is Decision.WAIT:
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
    try:
        dts.call("IsolateMigrateJob", {"JobId": job_id})
    except TencentCloudSDKException as error:
        if row_for(str(error.get_code())).decision is not ErrorDecision.REREAD:
            raise
    return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS,
                      notice=_("Isolating DTS task `{job_id}` (`{status}`): it stops billing.", job_id=job_id,
                               status=status))
