"""Start the verified DTS task (guide, step 6 "Start Task"); a task already started counts as done.

`START` decides every documented `JobItem.Status` before StartMigrateJob: only `checkPass` starts; a task that
already runs (or retries, or is paused) is done; one still being created or checked is waited for. A task
verified so long ago that the temporary credentials DTS holds have expired is configured again with new ones
and verified again before it starts.
"""

from __future__ import annotations

from core.cloud import CloudClients
from core.i18n import N_, _
from core.steps import Diagnosis, Outcome, StepResult
from handlers.configure_task import already_configured, credentials_expired, send_configuration
from handlers.decision import Decision, Verdict
from handlers.step import cloud_step, failed
from handlers.task_lookup import job_detail, the_task
from storage.models import MigrationRequest

STEP = "start_task"
POLL_SECONDS = 5.0
D = Decision
_STARTED = Verdict(D.DONE, N_("DTS task {job} is running."))
_NOT_VERIFIED = Verdict(D.FAILED, N_("DTS task {job} is `{status}`, not verified"))

START: dict[str, Verdict] = {
    "creating": Verdict(D.WAIT, N_("DTS task {job} is still being created.")),
    "created": Verdict(D.WAIT, N_("DTS task {job} was configured again: verifying it before it starts.")),
    "checking": Verdict(D.WAIT, N_("DTS task {job} is being verified.")),
    "checkPass": Verdict(D.WAIT, N_("DTS task {job} passed verification: starting it.")),  # the one that starts
    "checkNotPass": _NOT_VERIFIED,
    "readyRun": _STARTED, "running": _STARTED, "readyComplete": _STARTED, "completing": _STARTED,
    "success": _STARTED, "pausing": _STARTED, "manualPaused": _STARTED, "resumableErr": _STARTED,
    "resuming": _STARTED, "stopping": _STARTED, "canceled": _STARTED,
    "failed": _STARTED, "error": _STARTED,  # started and ended: track_task reports the failure
    "unknown": Verdict(D.WAIT, N_("DTS reports the task's status as unknown: waiting.")),
}
"""Every documented `JobItem.Status` → what starting does (an unlisted value: not verified)."""


@cloud_step(STEP)
def start_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """StartMigrateJob when the check passed; DONE without a call when the task already runs."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    status = str(detail.get("Status"))
    found = START.get(status, _NOT_VERIFIED)
    if status == "created" and not already_configured(detail, request):
        found = _NOT_VERIFIED
    if found.decision is D.DONE:
        return StepResult(Outcome.DONE, notice=found.say(job_id, status))
    if found.decision is D.FAILED:
        return failed(Diagnosis(
            "StatusInConflict", f"{STEP}: {found.say(job_id, status)}",
            _("A task starts only after its verification passed."), _("Re-verify the task, then start it again.")))
    if status == "created":  # configured again with new credentials, its check not begun (a crash between)
        dts.call("CreateMigrateCheckJob", {"JobId": job_id})
    if status != "checkPass":
        return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS)
    if credentials_expired(request, clients):
        facts = send_configuration(request, clients, dts, job_id, renew=True)
        dts.call("CreateMigrateCheckJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS, notice=(
            _("The temporary credentials DTS task `{job_id}` holds have expired: assumed the role again, "
              "configured the task with new ones and verifying it again before it starts.", job_id=job_id)))
    dts.call("StartMigrateJob", {"JobId": job_id})
    return StepResult(Outcome.DONE, notice=_("DTS task `{job_id}` started: *Running*.", job_id=job_id))
