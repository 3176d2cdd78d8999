"""Complete the DTS task when it is ready (readyComplete): CompleteMigrateJob, then wait for success."""

from __future__ import annotations

from core import cutover, lag
from core.cloud import CloudClients
from core.i18n import _
from core.steps import Diagnosis, Outcome, StepResult
from handlers import compare_data
from handlers.step import cloud_step, failed
from handlers.task_lookup import job_detail, the_task
from storage.models import MigrationRequest

STEP = "complete_task"
POLL_SECONDS = 5.0


@cloud_step(STEP)
def complete_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """CompleteMigrateJob in readyComplete; WAIT while completing; DONE at success."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    status = detail.get("Status")
    if status == "readyComplete" and request.facts.dts_status != "completing":
        seconds, mb = lag.figures(detail)
        now = "lag:unknown" if seconds is None or mb is None else "lag:behind"
        if (seconds, mb) != (0, 0) and not cutover.covered(request.facts, now):
            # the gate read the evidence at the watch's last reading, some seconds ago: the lag now decides
            facts = {"dts_status": status, **lag.sample(request.facts, clients.clock(), seconds, mb,
                                                               clients.settings.scheduler.poll_seconds)}
            facts["cutover_evidence"] = cutover.evidence(request.facts.merged(facts), clients.settings,
                                                         cutover.cutover_at(request), clients.clock())
            return StepResult(Outcome.DONE, next_state="ready_to_complete", facts=facts, refresh=True,
                              notice=_("DTS task `{job_id}` was *not completed*: the lag now reads {lag}, not 0 s "
                                       "and 0 MB. The cutover gate waits for it again.", job_id=job_id,
                                       lag=lag.words(seconds, mb)))
    compare_data.close_if_any(request, dts, job_id)  # the request ends: its consistency check goes too
    if status == "success":
        return StepResult(Outcome.DONE, facts={"dts_status": status, "progress": 100},
                          notice=_("DTS task `{job_id}` *completed*.", job_id=job_id))
    if status == "readyComplete":
        dts.call("CompleteMigrateJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS, facts={"dts_status": "completing"},
                          notice=_("Completing DTS task `{job_id}`…", job_id=job_id))
    if status == "completing":
        return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS)
    return failed(Diagnosis(
        "StatusInConflict",
        f"{STEP}: " + _("DTS task `{job_id}` is `{status}`, not ready to complete", job_id=job_id, status=status),
        _("A task completes only from readyComplete."), _("Look at the task in the DTS console.")))
