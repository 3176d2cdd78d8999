"""Track a running DTS task: state, progress and lag from DescribeMigrationDetail. A notice goes to the channel
only when the state changes or progress crosses a quarter (25 %, 50 %, 75 %), not on every poll.
"""

from __future__ import annotations

from core.cloud import CloudClients
from core.steps import Diagnosis, Outcome, StepResult
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import job_detail, no_task, step_progress, task_id
from storage.models import MigrationRequest

STEP = "track_task"
POLL_SECONDS = 30.0
MOVING = frozenset({"readyRun", "running", "completing"})


@cloud_step(STEP)
def track_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """WAIT while migrating; DONE to ready_to_complete or revoking_access; FAILED when DTS fails or stops."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return no_task(STEP)
    detail = job_detail(dts, job_id)
    status = str(detail.get("Status"))
    lag = int((detail.get("StepInfo") or {}).get("SecondsBehindMaster") or 0)
    facts = {"dts_status": status, "lag_seconds": lag}
    if status == "readyComplete":
        return StepResult(Outcome.DONE, next_state="ready_to_complete", facts={**facts, "progress": 100},
                          notice=f"DTS task `{job_id}` is *ready to complete*: full data migrated, incremental "
                                 f"sync running (lag {lag}s). Complete it when writes to the source have stopped.")
    if status == "success":
        return StepResult(Outcome.DONE, next_state="revoking_access", facts={**facts, "progress": 100},
                          notice=f"DTS task `{job_id}` *succeeded*.")
    if status in MOVING:
        progress = step_progress(detail)
        changed = status != request.facts.get("dts_status")
        crossed = progress // 25 > (request.progress or 0) // 25
        notice = (f"DTS task `{job_id}` *{status}*: {progress}% (lag {lag}s)." if changed or crossed else None)
        return StepResult(Outcome.WAIT, facts={**facts, "progress": progress}, notice=notice,
                          retry_after=POLL_SECONDS)
    errors = detail.get("ErrorInfo") or []
    message = "; ".join(str(e.get("ErrorLog") or e.get("Code")) for e in errors) or detail.get("BriefMsg") or ""
    fix = next((e.get("Solution") for e in errors if e.get("Solution")), None)
    return StepResult(Outcome.FAILED, facts=facts, diagnosis=Diagnosis(
        "MigrationFailed" if status == "failed" else "MigrationStopped",
        f"{STEP}: DTS task `{job_id}` is `{status}`" + (f": {message}" if message else ""),
        "DTS stopped migrating." if status != "failed" else "The migration failed in DTS.",
        fix or "Look at the task in the DTS console, fix the cause, and create a new request.",
        detail.get("RequestId")))
