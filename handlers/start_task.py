"""Start the verified DTS task (guide, step 6 "Start Task"); a task already started counts as done."""

from __future__ import annotations

from core.cloud import CloudClients
from core.steps import Diagnosis, Outcome, StepResult
from handlers.step import cloud_step, failed, target_dts
from handlers.task_lookup import job_detail, no_task, task_id
from storage.models import MigrationRequest

STEP = "start_task"
STARTED = frozenset({"readyRun", "running", "readyComplete", "completing", "success"})


@cloud_step(STEP)
def start_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """StartMigrateJob when the check passed; DONE without a call when the task already runs."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return no_task(STEP)
    status = job_detail(dts, job_id).get("Status")
    if status in STARTED:
        return StepResult(Outcome.DONE, notice=f"DTS task `{job_id}` is running.")
    if status != "checkPass":
        return failed(Diagnosis(
            "StatusInConflict", f"{STEP}: DTS task `{job_id}` is `{status}`, not verified",
            "A task starts only after its verification passed.", "Re-verify the task, then start it again."))
    dts.call("StartMigrateJob", {"JobId": job_id})
    return StepResult(Outcome.DONE, notice=f"DTS task `{job_id}` started: *Running*.")
