"""*Retry task*: resume a DTS task that stopped migrating with an error (ResumeMigrateJob), then hand it back to
tracking once DTS has taken the retry.

Every documented `JobItem.Status` has a decision in `DECISIONS`: a status ResumeMigrateJob takes is resumed
(core/recovery.py: `error`, `resumableErr`, and `failed` on a Redis link) with the documented `ResumeOption`; a
task that already runs again (DTS recovered by itself, or took the retry) is done; one DTS ended otherwise cannot
be resumed and is diagnosed. The step reads the status before it acts, so a re-run after a lost answer does not
resume twice; within `RESUME_GRACE_SECONDS` of an accepted call a task still in `error` is only read again.
"""

from __future__ import annotations

from enum import StrEnum

from core import recovery
from core.cloud import CloudClients
from core.i18n import _
from core.steps import Diagnosis, Outcome, StepResult
from handlers.step import cloud_step, failed
from handlers.task_lookup import job_detail, the_task
from storage.models import MigrationRequest

STEP = "resume_task"
POLL_SECONDS = 5.0
RESUME_GRACE_SECONDS = 60.0
"""How long an accepted ResumeMigrateJob may take to show in the status before it is sent again (a guess: the
documents do not say)."""


class Decision(StrEnum):
    RESUME = "resume"  # ResumeMigrateJob takes it (recovery.resumable)
    WAIT = "wait"  # DTS does not say where the task is: read again
    RUNS = "runs"  # DTS runs the task again (or it moved on): tracking takes over
    ENDED = "ended"  # DTS ended the task another way: it cannot be resumed


DECISIONS: dict[str, Decision] = {
    "error": Decision.RESUME, "resumableErr": Decision.RESUME,
    "resuming": Decision.RUNS, "readyRun": Decision.RUNS, "running": Decision.RUNS, "readyComplete": Decision.RUNS,
    "completing": Decision.RUNS, "success": Decision.RUNS, "pausing": Decision.RUNS, "manualPaused": Decision.RUNS,
    "unknown": Decision.WAIT,
    "failed": Decision.ENDED,  # a Redis link resumes from `failed` too (recovery.resumable decides first)
    "creating": Decision.ENDED, "created": Decision.ENDED, "checking": Decision.ENDED, "checkPass": Decision.ENDED,
    "checkNotPass": Decision.ENDED, "stopping": Decision.ENDED, "canceled": Decision.ENDED,
}
"""Every documented `JobItem.Status` → what *Retry task* does (an unlisted value: read again)."""


@cloud_step(STEP)
def resume_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """ResumeMigrateJob when DTS takes it; WAIT until the task runs again, then DONE (back to running)."""
    dts, job_id = the_task(request, clients)
    status = str(job_detail(dts, job_id).get("Status"))
    decision = Decision.RESUME if recovery.resumable(status, request.db_type) else DECISIONS.get(status,
                                                                                                  Decision.WAIT)
    facts = {"job_id": job_id, "dts_status": status}
    now = clients.clock()
    if decision is Decision.RESUME:
        sent = request.facts.resume_sent_at
        if sent is not None and now - float(sent) < RESUME_GRACE_SECONDS:
            return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
        option = recovery.resume_option(request)
        dts.call("ResumeMigrateJob", {"JobId": job_id, "ResumeOption": option})
        return StepResult(Outcome.WAIT, facts={**facts, "resume_sent_at": now}, retry_after=POLL_SECONDS,
                          notice=_("Retrying DTS task `{job_id}` (was `{status}`): ResumeMigrateJob with "
                                   "ResumeOption `{option}`.", job_id=job_id, status=status, option=option))
    if decision is Decision.WAIT:
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
    if decision is Decision.RUNS:
        return StepResult(Outcome.DONE, facts={**facts, "resume_sent_at": None, "dts_attention": ""},
                          notice=_("DTS task `{job_id}` runs again (`{status}`): tracking it.", job_id=job_id,
                                   status=status))
    return failed(Diagnosis(
        "MigrationStopped", f"{STEP}: " + _("DTS task `{job_id}` is `{status}`", job_id=job_id, status=status),
        _("DTS ended the task (`{status}`): ResumeMigrateJob cannot resume it.", status=status),
        _("Cancel this request (its access is revoked) and open a new one.")))
