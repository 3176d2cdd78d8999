"""*Throttle*: apply the rate limits a person asked for to a running DTS task (ModifyMigrateRateLimit), then hand it
back to tracking.

The step reads RateLimitOption first: limits already in effect are not sent again (a re-run after a lost answer),
and within `pause_task.CONTROL_GRACE_SECONDS` of an accepted call the task is only read again. DTS changes limits
only while the task runs ("此操作仅在任务运行中可执行"): a task in another status is handed back unchanged.
"""

from __future__ import annotations

from core.cloud import CloudClients
from core.control import current_limits
from core.i18n import _
from core.steps import Outcome, StepResult
from handlers.pause_task import CONTROL_GRACE_SECONDS, POLL_SECONDS
from handlers.step import cloud_step
from handlers.task_lookup import job_detail, the_task
from storage.models import MigrationRequest


@cloud_step("throttle_task")
def throttle_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """ModifyMigrateRateLimit unless the limits are in effect; DONE (running) once RateLimitOption shows them."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    status = str(detail.get("Status"))
    current = current_limits(detail)
    wanted = request.facts.rate_limit_wanted or {}
    facts = {"dts_status": status, "rate_limit": current}
    if all((current or {}).get(name) == value for name, value in wanted.items()):
        shown = ", ".join(f"{name} {value}" for name, value in (current or {}).items())
        return StepResult(Outcome.DONE, facts={**facts, "rate_limit_wanted": None, "control_sent_at": None},
                          notice=_(":control_knobs: DTS task `{job_id}` now runs with these rate limits: {limits}.",
                                   job_id=job_id, limits=shown))
    if status != "running":
        return StepResult(Outcome.DONE, facts={**facts, "rate_limit_wanted": None, "control_sent_at": None},
                          notice=_("DTS task `{job_id}` is `{status}`: DTS changes rate limits only while the task "
                                   "runs, so they were not changed.", job_id=job_id, status=status))
    sent = request.facts.control_sent_at
    if sent is not None and clients.clock() - float(sent) < CONTROL_GRACE_SECONDS:
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS)
    dts.call("ModifyMigrateRateLimit", {"JobId": job_id, **wanted})
    return StepResult(Outcome.WAIT, facts={**facts, "control_sent_at": clients.clock()}, retry_after=1.0)
