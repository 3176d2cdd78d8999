"""Watch a task that is ready to complete: lag samples, the consistency check, the window, the gate's evidence.

The step of `ready_to_complete` (workflow: the request waits for a target approver's *Complete*). While DTS says
`readyComplete` it reads both lag figures (core.lag), follows the compare task (handlers.compare_data), and
recomputes the gate's evidence (core.cutover); the thread is told when the gate opens or closes. Any other status
is decided as `track_task` decides it (success → revoking access, error → failed, a pause → watched on).
"""

from __future__ import annotations

from core import cutover
from core.cloud import CloudClients
from core.i18n import _
from core.steps import Outcome, StepResult
from handlers import compare_data, window
from handlers.step import cloud_step
from handlers.task_lookup import job_detail, the_task
from handlers.track_task import track_task
from storage.models import MigrationRequest

STEP = "watch_cutover"
POLL_SECONDS = 30.0
MIN_POLL_SECONDS = 5.0
"""A ready task is read every `scheduler.poll_seconds`, within these bounds: DescribeMigrationDetail is limited to
2 calls a second per account and region (core.cloud.RATE_LIMITS), so ten ready requests of one account stay within
it even at the shortest interval."""


@cloud_step(STEP)
def watch_cutover(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """WAIT while DTS says readyComplete (the gate's evidence kept fresh); otherwise what track_task decides."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    if detail.get("Status") != "readyComplete":
        decided = track_task(request, clients)
        if decided.outcome is not Outcome.WAIT:  # the request ends (DTS completed or failed it): its compare
            compare_data.close_if_any(request, dts, job_id)  # task goes too (best effort: revoking comes first)
        return decided
    facts = cutover.readings(request, clients, detail)
    notices: list[str] = []
    facts.update(compare_data.follow(request.facts.merged(facts), request, clients, dts, job_id, notices))
    facts.update(window.follow(request.facts.merged(facts), request, clients, cutover.cutover_at(request), notices))
    merged = request.facts.merged(facts)
    facts["cutover_evidence"] = cutover.evidence(merged, clients.settings, cutover.cutover_at(request), clients.clock())
    void = cutover.uncovering(request.facts.merged(facts))
    if void:  # an override covers what was missing when it was given, not what went missing after
        facts["cutover_overrides"] = {side: given for side, given in (request.facts.cutover_overrides or {}).items()
                                      if side not in void}
        notices.append(_(":warning: The override of the {sides} side no longer covers the missing evidence ({why}): "
                         "it is void; give it again with a reason if the cutover should still go ahead.",
                         sides=", ".join(_(side) for side in void), why="; ".join(
                             cutover.line(item) for item in facts["cutover_evidence"] if not item["ok"])))
    was_open = cutover.gate_open(request.facts)
    now_open = cutover.gate_open(request.facts.merged(facts))
    if now_open and not was_open:
        notices.append(_(":white_check_mark: The cutover gate is open: every piece of evidence is in. A target "
                         "approver may *Complete* (stop writes on the source first)."))
    elif was_open and not now_open:
        notices.append(_(":x: The cutover gate closed again: {why}", why="; ".join(
            cutover.line(item) for item in facts["cutover_evidence"] if not item["ok"])))
    changed = (request.facts.cutover_evidence != facts["cutover_evidence"]
               or (request.facts.lag_seconds, request.facts.lag_mb) != (facts["lag_seconds"], facts["lag_mb"]))
    actions = ("complete",) if now_open and not was_open else ()
    reminded = bool(facts.get("cutover_reminded")) and not request.facts.cutover_reminded
    poll = min(POLL_SECONDS, max(MIN_POLL_SECONDS, clients.settings.scheduler.poll_seconds))
    return StepResult(Outcome.WAIT, facts=facts, notice="\n".join(notices) or None, retry_after=poll,
                      refresh=changed, actions=actions, reach="both" if reminded else None)
