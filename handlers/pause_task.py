"""*Pause* and *Continue* of a running DTS task: PauseMigrateJob until DTS reports `manualPaused`, ContinueMigrateJob
until it runs again, and the watch of a paused task (a *Continue* made outside Slack).

Each step reads the task's status before it acts, so a re-run after a lost answer does not send the call twice;
within `CONTROL_GRACE_SECONDS` of an accepted call a task still in the old status is only read again. The
thread is told whether the full export will resume from its checkpoint or start over (`DumperResumeCtrl`, in the
detail: "yes" resumable, "no" it restarts).
"""

from __future__ import annotations

from typing import Any

from core.cloud import Api, CloudClients
from core.control import resume_words
from core.i18n import _
from core.steps import Outcome, StepResult
from handlers.step import cloud_step
from handlers.task_lookup import job_detail, the_task
from handlers.track_task import verdict
from storage.models import MigrationRequest

POLL_SECONDS = 5.0
PAUSED_POLL_SECONDS = 60.0
"""A paused task is watched in batches (core/watcher.py); its own read is only the fallback."""
CONTROL_GRACE_SECONDS = 60.0
"""How long an accepted PauseMigrateJob / ContinueMigrateJob may take to show in the status before it is sent
again (a guess: the documents do not say)."""
PAUSED = frozenset({"pausing", "manualPaused"})
PAUSABLE = frozenset({"running"})
"""Where PauseMigrateJob is sent (the documents list no statuses: a guess, see sandbox/tencentcloud/README.md)."""


def _read(request: MigrationRequest, clients: CloudClients) -> tuple[Api, str, dict[str, Any], str]:
    """The task's API, id, the facts a control step keeps (status, DumperResumeCtrl) and its status now."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    status = str(detail.get("Status"))
    facts: dict[str, Any] = {"dts_status": status, "dumper_resume": detail.get("DumperResumeCtrl") or None}
    return dts, job_id, facts, status


def _recently_sent(request: MigrationRequest, clients: CloudClients) -> bool:
    sent = request.facts.control_sent_at
    return sent is not None and clients.clock() - float(sent) < CONTROL_GRACE_SECONDS


@cloud_step("pause_task")
def pause_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """PauseMigrateJob on a running task; WAIT until `manualPaused`, then DONE (paused). A task DTS no longer
    runs is handed back to tracking (running), which decides what it is."""
    dts, job_id, facts, status = _read(request, clients)
    if status == "manualPaused":
        return StepResult(Outcome.DONE, facts={**facts, "control_sent_at": None},
                          notice=_(":double_vertical_bar: DTS task `{job_id}` is paused (`manualPaused`). {words} "
                                   "*Continue* goes on; *Cancel* still stops it.", job_id=job_id,
                                   words=resume_words(facts["dumper_resume"])))
    if status == "pausing" or (status in PAUSABLE and _recently_sent(request, clients)):
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
    if status in PAUSABLE:
        dts.call("PauseMigrateJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, facts={**facts, "control_sent_at": clients.clock()},
                          retry_after=POLL_SECONDS)
    return StepResult(Outcome.DONE, next_state="running", facts={**facts, "control_sent_at": None, "paused_by": None},
                      notice=_("DTS task `{job_id}` is `{status}`: it cannot be paused now; tracking it.",
                               job_id=job_id, status=status))


@cloud_step("continue_task")
def continue_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """ContinueMigrateJob on a paused task; WAIT until DTS runs it, then DONE (running)."""
    dts, job_id, facts, status = _read(request, clients)
    if status == "manualPaused" and not _recently_sent(request, clients):
        dts.call("ContinueMigrateJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, facts={**facts, "control_sent_at": clients.clock()},
                          retry_after=POLL_SECONDS)
    if status in PAUSED:
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
    return StepResult(Outcome.DONE, facts={**facts, "control_sent_at": None, "paused_by": None, "dts_attention": ""},
                      notice=_(":arrow_forward: DTS task `{job_id}` runs again (`{status}`).", job_id=job_id,
                               status=status))


@cloud_step("paused_task")
def paused_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Watch a paused task: WAIT while DTS keeps it paused; DONE (running) once it was continued outside Slack."""
    _dts, job_id, facts, status = _read(request, clients)
    if status in PAUSED:
        if request.facts.paused_by or status == request.facts.dts_status:
            return StepResult(Outcome.WAIT, facts=facts, retry_after=PAUSED_POLL_SECONDS)
        words = verdict(status).say(job_id, status)  # paused outside Slack: pausing → manualPaused, said
        return StepResult(Outcome.WAIT, facts={**facts, "dts_attention": words}, notice=words,
                          retry_after=PAUSED_POLL_SECONDS)
    return StepResult(Outcome.DONE, facts={**facts, "paused_by": None, "dts_attention": ""},
                      notice=_(":arrow_forward: DTS task `{job_id}` was continued outside Slack (`{status}`); "
                               "tracking it.", job_id=job_id, status=status))
