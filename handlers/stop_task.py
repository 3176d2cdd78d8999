"""Stop a started DTS task (cancel): StopMigrateJob while it runs, then wait until DTS says canceled."""

from __future__ import annotations

from core.cloud import CloudClients
from core.steps import Outcome, StepResult
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import job_detail, task_id
from storage.models import MigrationRequest

STEP = "stop_task"
POLL_SECONDS = 5.0
STOPPABLE = frozenset({"readyRun", "running", "readyComplete"})


@cloud_step(STEP)
def stop_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """StopMigrateJob when the task runs; WAIT while stopping; DONE when it no longer runs (or never ran)."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return StepResult(Outcome.DONE)
    status = job_detail(dts, job_id).get("Status")
    if status in STOPPABLE:
        dts.call("StopMigrateJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS, notice=f"Stopping DTS task `{job_id}`…")
    if status in ("stopping", "completing", "checking"):
        return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS)
    return StepResult(Outcome.DONE, facts={"dts_status": status}, notice=f"DTS task `{job_id}` is `{status}`.")
