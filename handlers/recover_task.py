"""Close-out undone: RecoverMigrateJob on the isolated task (*Undo close-out* during retention), then wait until
it is billed normally again. Documented only from a manual isolation, which is what IsolateMigrateJob makes."""

from __future__ import annotations

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

STEP = "recover_task"
POLL_SECONDS = 5.0


@cloud_step(STEP)
def recover_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """DONE (→ kept) once the task is no longer isolated; RecoverMigrateJob while it is."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    detail = task_or_none(dts, job_id) if job_id else None
    if detail is None or trade_of(detail) is Trade.GONE:
        return StepResult(Outcome.DONE, next_state=Phase.DESTROYED, facts={"trade_status": "absent"},
                          notice=_("DTS task `{job_id}` cannot be recovered: DTS no longer has it.",
                                   job_id=job_id or request.job_id))
    trade = trade_status(detail)
    if trade_of(detail) is Trade.ISOLATED:
        try:
            dts.call("RecoverMigrateJob", {"JobId": job_id})
        except TencentCloudSDKException as error:
            if row_for(str(error.get_code())).decision is not ErrorDecision.REREAD:
                raise
        return StepResult(Outcome.WAIT, facts={"trade_status": trade}, retry_after=POLL_SECONDS)
    if trade == "offlining":
        return failed(Diagnosis("TaskOfflining", _("recover_task: DTS task `{job_id}` is being destroyed",
                                                   job_id=job_id),
                                _("DTS is destroying the task; it cannot be recovered."),
                                _("Open a new request if the data must move again.")))
    if trade_of(detail) is Trade.CHANGING:
        return StepResult(Outcome.WAIT, facts={"trade_status": trade}, retry_after=POLL_SECONDS)
    return StepResult(Outcome.DONE, facts={"trade_status": trade},
                      notice=_("DTS task `{job_id}` recovered (`{trade}`): it is kept, and billed again, until its "
                               "owner isolates it in the DTS console.", job_id=job_id, trade=trade))
