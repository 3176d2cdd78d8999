"""Close-out, last step: DestroyMigrateJob on the isolated task once its retention is over, then wait until DTS
has it no more. Reads first: a task already gone is done; a task a person recovered in the console is kept."""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.closeout import Phase
from core.cloud import CloudClients
from core.error_codes import Decision as ErrorDecision
from core.error_codes import row_for
from core.i18n import _
from core.steps import Outcome, StepResult
from handlers.closeout_reads import Trade, task_or_none, trade_of, trade_status
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import task_id
from storage.models import MigrationRequest

STEP = "destroy_task"
POLL_SECONDS = 5.0


@cloud_step(STEP)
def destroy_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """DONE once DTS has the task no more (or reports it offlined); DestroyMigrateJob only while it is isolated."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    detail = task_or_none(dts, job_id) if job_id else None
    if detail is None or trade_of(detail) is Trade.GONE:
        return StepResult(Outcome.DONE, facts={"trade_status": "absent"},
                          notice=_("DTS task `{job_id}` destroyed: nothing of this request is left running or "
                                   "billing.", job_id=job_id or request.job_id))
    trade = trade_status(detail)
    if trade_of(detail) is Trade.ISOLATED:
        try:
            dts.call("DestroyMigrateJob", {"JobId": job_id})
        except TencentCloudSDKException as error:
            if row_for(str(error.get_code())).decision is not ErrorDecision.REREAD:
                raise
        return StepResult(Outcome.WAIT, facts={"trade_status": trade}, retry_after=POLL_SECONDS)
    if trade_of(detail) is Trade.CHANGING:  # e.g. reversing after a recovery: wait to see where it settles
        return StepResult(Outcome.WAIT, facts={"trade_status": trade}, retry_after=POLL_SECONDS)
    return StepResult(Outcome.DONE, next_state=Phase.KEPT, facts={"trade_status": trade},
                      notice=_("DTS task `{job_id}` is no longer isolated (`{trade}`): someone recovered it outside "
                               "the bot, so the bot keeps it. Its owner isolates and destroys it in the DTS console "
                               "when it is not needed.", job_id=job_id, trade=trade))
