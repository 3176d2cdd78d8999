"""Track a running DTS task: state, progress and lag from DescribeMigrationDetail. A notice goes to the channel
only when the state changes or progress crosses a quarter (25 %, 50 %, 75 %), not on every poll.

`JOB_STATUS` decides every documented `JobItem.Status` (SDK dts/v20211206 models, the same text as tccli's
api.json). DTS's own retry (`resumableErr`, `resuming`) is not a failure: the channel is told once, the request message shows it (`facts["dts_attention"]`), and the task is
watched on; a task that stays recoverable longer than `scheduler.recoverable_alert_minutes` gets one notice.
A task paused outside Slack (`pausing`, `manualPaused`) takes the request to `paused`, with *Continue*
(handlers/pause_task.py).
DTS retries a `resumableErr` by itself only within the task's `AutoRetryTimeRangeMinutes` (core/recovery.py): the
thread says until when; past it, and when DTS reports `error`, the request fails with *Retry task*
(ResumeMigrateJob, a target approver's decision).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core import cutover, lag, recovery
from core.cloud import CloudClients
from core.control import current_limits, resume_words
from core.dts_words import status_words
from core.i18n import N_, _
from core.steps import Diagnosis, Outcome, StepResult
from handlers import window
from handlers.decision import Decision, Verdict
from handlers.step import cloud_step
from handlers.task_lookup import job_detail, step_progress, the_task
from storage.models import MigrationRequest

STEP = "track_task"
POLL_SECONDS = 30.0
D = Decision

JOB_STATUS: dict[str, Verdict] = {
    "creating": Verdict(D.WAIT, N_("DTS task {job} is still being created ({status}).")),
    "created": Verdict(D.FAILED, N_("DTS task {job} is back to `created`: it was modified outside the bot and "
                                 "no longer runs.")),
    "checking": Verdict(D.FAILED, N_("DTS task {job} is being verified again (`checking`): it was changed outside "
                                  "the bot and no longer runs.")),
    "checkPass": Verdict(D.WAIT, N_("DTS task {job} accepted the start and has not begun yet ({status}).")),
    "checkNotPass": Verdict(D.FAILED, N_("DTS task {job} failed a verification run outside the bot "
                                      "(`checkNotPass`) and no longer runs.")),
    "readyRun": Verdict(D.WAIT, N_("DTS task {job} is about to run ({status}).")),
    "running": Verdict(D.WAIT, N_("DTS task {job} is running.")),
    "readyComplete": Verdict(D.DONE, N_("DTS task {job} is ready to complete.")),
    "success": Verdict(D.DONE, N_("DTS task {job} succeeded.")),
    "failed": Verdict(D.FAILED, N_("The migration failed in DTS.")),
    "stopping": Verdict(D.FAILED, N_("DTS task {job} is being stopped (`stopping`): DTS stopped migrating.")),
    "completing": Verdict(D.WAIT, N_("DTS task {job} is completing.")),
    "pausing": Verdict(D.PAUSED, N_(":double_vertical_bar: DTS task {job} is being paused outside Slack "
                                 "(pausing): *Continue* goes on.")),
    "manualPaused": Verdict(D.PAUSED, N_(":double_vertical_bar: DTS task {job} was paused outside Slack "
                                      "(manualPaused): *Continue* goes on.")),
    "resumableErr": Verdict(D.AUTO_RETRY, N_(":warning: DTS is retrying after an error (resumableErr): it retries "
                                          "by itself until {until}, then a target approver decides.")),
    "resuming": Verdict(D.RECOVERABLE, N_(":warning: DTS is resuming the task after an error (resuming): "
                                       "nothing to do yet.")),
    "unknown": Verdict(D.RECOVERABLE, N_(":warning: DTS reports the task's status as unknown: nothing to do yet; "
                                      "the bot keeps watching.")),
    "error": Verdict(D.FAILED, N_("DTS task {job} stopped migrating with an error (`error`).")),
    "canceled": Verdict(D.FAILED, N_("DTS task {job} was stopped (`canceled`): DTS stopped migrating.")),
}
"""Every documented `JobItem.Status` of a started task → decision and sentence (an unlisted value: FAILED)."""

UNLISTED = Verdict(D.FAILED, N_("DTS task {job} is in a status DTS does not document (`{status}`)."))
ATTENTION = frozenset({D.RECOVERABLE, D.PAUSED, D.AUTO_RETRY})
RECOVERING = frozenset({D.RECOVERABLE, D.AUTO_RETRY})


def verdict(status: str) -> Verdict:
    """The decision for a `JobItem.Status` value."""
    return JOB_STATUS.get(status, UNLISTED)


@cloud_step(STEP)
def track_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """WAIT while migrating, retrying or paused; DONE to ready_to_complete or revoking_access; FAILED otherwise."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    status = str(detail.get("Status"))
    info = detail.get("StepInfo") or {}
    seconds, mb = lag.figures(detail)  # absent or -1: unknown, never 0
    facts: dict[str, Any] = {"dts_status": status, **lag.sample(request.facts, clients.clock(), seconds, mb,
                                                          clients.settings.scheduler.poll_seconds),
                             "dts_attention": "", "dts_step_now": int(info.get("StepNow") or 0),
                             "dts_step_all": int(info.get("StepAll") or 0),
                             "dumper_resume": detail.get("DumperResumeCtrl") or None,
                             "rate_limit": current_limits(detail)}
    found = verdict(status)
    if found.decision is D.PAUSED:  # paused outside Slack: the request shows it, with *Continue*
        words = found.say(job_id, status)
        return StepResult(Outcome.DONE, next_state="paused", facts={**facts, "paused_by": "", "dts_attention": words},
                          notice=f"{words} {resume_words(facts['dumper_resume'])}")
    if status == "readyComplete":
        facts = {**facts, **cutover.readings(request, clients, detail)}
        return StepResult(Outcome.DONE, next_state="ready_to_complete", facts={**facts, "progress": 100},
                          actions=cutover.gate_actions(request.facts.merged(facts), clients.settings),
                          notice=_("DTS task `{job_id}` is *ready to complete*: full data migrated, incremental "
                                   "sync running (lag {lag}). Complete it when writes to the source have stopped "
                                   "and the cutover gate's evidence is in.", job_id=job_id,
                                   lag=lag.words(seconds, mb)))
    if found.decision is D.DONE:
        return StepResult(Outcome.DONE, next_state="revoking_access", facts={**facts, "progress": 100},
                          notice=_("DTS task `{job_id}` *succeeded*.", job_id=job_id))
    changed = status != request.facts.dts_status
    progress = step_progress(detail)
    if found.decision is D.AUTO_RETRY and past_retry_window(request, clients):
        return _failed(request, detail, job_id, status, found, facts, window=retry_minutes(request, clients))
    if found.decision in ATTENTION:
        return _attention(request, clients, job_id, status, found, facts, progress, changed)
    if found.decision is D.WAIT:
        crossed = progress // 25 > (request.progress or 0) // 25
        notice = (_("DTS task `{job_id}` *{words}* (`{status}`): {percent}% (lag {lag}).", job_id=job_id,
                    words=status_words(status), status=status, percent=progress, lag=lag.words(seconds, mb))
                  if changed or crossed else None)
        reminders: list[str] = []  # a cutover window near while DTS still migrates: its approvers are told
        facts.update(window.follow(request.facts, request, clients, cutover.cutover_at(request), reminders,
                                   opening=False))
        return StepResult(Outcome.WAIT, facts={**facts, "progress": progress, "attention_since": None},
                          notice="\n".join(filter(None, [notice, *reminders])) or None, retry_after=POLL_SECONDS,
                          reach="both" if reminders else None)
    return _failed(request, detail, job_id, status, found, facts)


def _attention(request: MigrationRequest, clients: CloudClients, job_id: str, status: str, found: Verdict,
               facts: dict[str, Any], progress: int, changed: bool) -> StepResult:
    """Keep watching a task DTS is retrying or a person paused: one notice on entry, one alert if it lasts."""
    now = clients.clock()
    recoverable = found.decision in RECOVERING
    since = request.facts.attention_since if recoverable else None
    if recoverable and since is None:
        since = now
    sentence = found.say(job_id, status, until=_utc(float(since or now) + 60 * retry_minutes(request, clients)))
    same_episode = since is not None and since == request.facts.attention_since
    alerted = bool(request.facts.attention_alerted) and same_episode
    notice = sentence + " " + _("Progress {percent}%.", percent=progress) if changed else None
    limit = clients.settings.scheduler.recoverable_alert_minutes
    if recoverable and not alerted and since is not None and now - float(since) >= limit * 60:
        alerted = True
        notice = (f":eyes: DTS task `{job_id}` has been recovering from an error for over {limit:g} minutes "
                  f"(`{status}`): look at it in the DTS console. The bot keeps watching.")
    facts = {**facts, "progress": progress, "dts_attention": sentence, "attention_since": since,
             "attention_alerted": alerted}
    return StepResult(Outcome.WAIT, facts=facts, notice=notice, retry_after=POLL_SECONDS)


def retry_minutes(request: MigrationRequest, clients: CloudClients) -> int:
    """The task's AutoRetryTimeRangeMinutes: as configured (a fact), else the setting."""
    configured = request.facts.auto_retry_minutes
    return clients.settings.dts.auto_retry_minutes if configured is None else configured


def past_retry_window(request: MigrationRequest, clients: CloudClients) -> bool:
    """Whether DTS has had its whole retry window since the bot first saw this recovery episode."""
    since = request.facts.attention_since
    now = clients.clock()
    return now - float(now if since is None else since) >= 60 * retry_minutes(request, clients)


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _failed(request: MigrationRequest, detail: dict[str, Any], job_id: str, status: str, found: Verdict,
            facts: dict[str, Any], window: int | None = None) -> StepResult:
    """DTS stopped migrating: the diagnosis with DTS's own message and fix; *Retry task* when DTS can resume it."""
    errors = detail.get("ErrorInfo") or []
    message = "; ".join(str(e.get("ErrorLog") or e.get("Code")) for e in errors) or detail.get("BriefMsg") or ""
    fix = next((e.get("Solution") for e in errors if e.get("Solution")), None)
    code = "MigrationFailed" if status in ("failed", "error") else "MigrationStopped"
    why = found.say(job_id, status, until="-")
    if window is not None:
        code = "AutoRetryExhausted"
        why = (_("DTS retried the task by itself for {minutes} minutes (AutoRetryTimeRangeMinutes) and it has not "
                 "recovered.", minutes=window) if window else
               _("DTS does not retry this task by itself (AutoRetryTimeRangeMinutes 0)."))
    if recovery.resumable(status, request.db_type):
        after = _("then a target approver clicks *Retry task* (ResumeMigrateJob), or *Cancel*.")
        fix = f"{fix} — {after}" if fix else _("Fix the cause DTS names above; {then}", then=after)
    facts = {**facts, "attention_since": None, "attention_alerted": False}  # a retry starts a new episode
    return StepResult(Outcome.FAILED, facts=facts, diagnosis=Diagnosis(
        code, f"{STEP}: " + _("DTS task `{job_id}` is `{status}`", job_id=job_id, status=status)
        + (f": {message}" if message else ""),  # DTS's ErrorInfo message as DTS gave it
        why, fix or _("Look at the task in the DTS console, fix the cause, and create a new request."),
        detail.get("RequestId")))
