"""Verify the DTS task (guide, "Creating Migration Task" steps 6-7): run DTS's check and report each failed
and warning item as DTS gave it (reason, solution, help document, error log) with the fix.

`DescribeMigrationCheckJob.Status` is the state of the *check task* (notStarted, running, failed = the check task
itself failed, success = it finished); whether the job passed is `CheckFlag` (checkPass / checkNotPass). A check
that ran and found problems is `Status=success, CheckFlag=checkNotPass`. `CHECK`, `STEP_STATUS` and
`CHECK_RESULT` decide every documented value (SDK dts/v20211206 models: DescribeMigrationCheckJobResponse,
CheckStep, DetailCheckItem).

A new check on temporary credentials older than their life allows first re-assumes the role and configures
the task again (handlers.configure_task.credentials_expired). A re-verification reads both instances' topology
again (handlers.topology): an instance whose topology changed since the preflight fails DTS's check with the
old NodeType, so the task is configured again with the new one before the new check.

Re-verification: when a failed check has been reported (CHECK_FAILED, fact `check_reported`), the engine moves
verify_failed → verifying and calls this step again; seeing a failed check that was already reported, it starts a
NEW check (the person has fixed something) instead of reporting the old one twice. The fact is cleared when the
new check starts; a crash right after CreateMigrateCheckJob leaves the check running, which the next run waits
for. The engine persists facts for every outcome, WAIT included.
"""

from __future__ import annotations

from typing import Any

from core.cloud import CloudClients
from core.diagnosis import check_fix
from core.i18n import N_, _
from core.steps import Outcome, StepResult
from core.topology import Topology
from handlers.configure_task import credentials_expired, recorded_topologies, send_configuration
from handlers.decision import Decision, Verdict
from handlers.step import cloud_step, failed, role_session
from handlers.task_lookup import the_task
from handlers.topology import TopologyFailed, has_topology, read_topologies
from storage.models import MigrationRequest

STEP = "verify_task"
POLL_SECONDS = 5.0
D = Decision
CONNECT_CHECK = "ConnectDBCheck"
"""The check step that fails when DTS cannot log in to either database."""
NO_FLAG = ""
"""CheckFlag before DTS has set it (the check task has not finished)."""

CHECK: dict[tuple[str, str], Verdict] = {
    ("notStarted", NO_FLAG): Verdict(D.WAIT, N_("No verification of {job} has run yet: starting one.")),
    ("notStarted", "checkPass"): Verdict(D.WAIT, N_("No verification of {job} has run yet: starting one.")),
    ("notStarted", "checkNotPass"): Verdict(D.WAIT, N_("No verification of {job} has run yet: starting one.")),
    ("running", NO_FLAG): Verdict(D.WAIT, N_("Verification of {job} is running.")),
    ("running", "checkPass"): Verdict(D.WAIT, N_("Verification of {job} is running.")),
    ("running", "checkNotPass"): Verdict(D.WAIT, N_("Verification of {job} is running.")),
    ("failed", NO_FLAG): Verdict(D.CHECK_FAILED, N_("The verification task of {job} itself failed in DTS.")),
    ("failed", "checkPass"): Verdict(D.CHECK_FAILED, N_("The verification task of {job} itself failed in DTS.")),
    ("failed", "checkNotPass"): Verdict(D.CHECK_FAILED, N_("The verification task of {job} itself failed in DTS.")),
    ("success", NO_FLAG): Verdict(D.WAIT, N_("Verification of {job} finished; waiting for DTS's verdict.")),
    ("success", "checkPass"): Verdict(D.DONE, N_("Verification of {job} passed.")),
    ("success", "checkNotPass"): Verdict(D.CHECK_FAILED, N_("Verification of {job} failed.")),
}
"""Check task `Status` × `CheckFlag` → decision; only success × checkPass passes."""
UNLISTED_CHECK = Verdict(D.CHECK_FAILED, N_("DTS answered the verification of {job} with an undocumented status "
                                         "(`{status}`)."))

STEP_STATUS: dict[str, Verdict] = {
    "pass": Verdict(D.DONE, N_("passed")),
    "failed": Verdict(D.CHECK_FAILED, N_("failed")),
    "notStarted": Verdict(D.WAIT, N_("not started")),
    "blocked": Verdict(D.CHECK_FAILED, N_("blocked: the check could not run")),
    "warning": Verdict(D.DONE, N_("passed with a warning")),
}
"""`CheckStep.StepStatus` → whether the step's items are shown as failures (warning items are always shown)."""

CHECK_RESULT: dict[str, Verdict] = {
    "pass": Verdict(D.DONE, N_("passed")),
    "failed": Verdict(D.CHECK_FAILED, N_("failed")),
    "warning": Verdict(D.DONE, N_("warning")),
}
"""`DetailCheckItem.CheckResult` → failure, warning (passes, shown) or pass (not shown)."""


def _item(step: dict[str, Any], item: dict[str, Any], kind: str) -> dict[str, Any]:
    name = step.get("StepName") or step.get("StepId") or "check"
    reason = item.get("FailureReason") or item.get("Description") or step.get("StepMessage") or ""
    found = {"step": name, "kind": kind, "message": reason,
             "fix": check_fix(step.get("StepId") or "", item.get("Solution"))}
    for key, field in (("solution", "Solution"), ("help", "HelpDoc"), ("log", "ErrorLog")):
        if item.get(field):
            found[key] = item[field]
    return found


def check_items(check: dict[str, Any]) -> list[dict[str, Any]]:
    """Each failed and warning check item as {step, kind, message, fix, solution?, help?, log?}, in DTS's order.

    An unlisted StepStatus or CheckResult counts as failed; a failed or blocked step without failed items is
    itself one failed item (its StepMessage)."""
    found = []
    for step in check.get("StepInfo") or []:
        step_verdict = STEP_STATUS.get(step.get("StepStatus") or "", STEP_STATUS["failed"])
        failures, warned = [], []
        for item in step.get("DetailCheckItems") or []:
            result = CHECK_RESULT.get(item.get("CheckResult") or "", CHECK_RESULT["failed"])
            if result.decision is D.CHECK_FAILED:
                failures.append(item)
            elif result is CHECK_RESULT["warning"]:
                warned.append(item)
        if step_verdict.decision is D.CHECK_FAILED and not failures:
            failures = [{}]
        found += [_item(step, i, "failed") for i in failures] + [_item(step, i, "warning") for i in warned]
    return found


def _line(item: dict[str, Any]) -> str:
    icon = ":x:" if item["kind"] == "failed" else ":warning:"
    # the step name, FailureReason, Solution, HelpDoc and ErrorLog are DTS's own words: shown as DTS gave them
    text = f"• {icon} *{item['step']}*: {item['message']}\n   " + _("_Fix:_ {fix}", fix=item["fix"])
    if item.get("solution") and item["solution"] != item["fix"]:
        text += "\n   " + _("_DTS's solution:_ {solution}", solution=item["solution"])
    if item.get("help"):
        text += "\n   " + _("_Help:_ {help}", help=" ".join(str(h) for h in item["help"]))
    if item.get("log"):
        text += "\n   " + _("_Log:_ {log}", log="; ".join(str(line) for line in item["log"])[:300])
    return text


def _node_types(shapes: dict[str, Topology] | None) -> dict[str, str] | None:
    return {side: shape.node_type for side, shape in shapes.items()} if shapes is not None else None


def _login_may_have_rotated(request: MigrationRequest, clients: CloudClients, check: dict[str, Any]) -> bool:
    """DTS's connection check failed, a login comes from Secrets Manager, and it was not read again yet."""
    refused = any(step.get("StepId") == CONNECT_CHECK and STEP_STATUS.get(
        step.get("StepStatus") or "", STEP_STATUS["failed"]).decision is D.CHECK_FAILED
        for step in check.get("StepInfo") or [])
    return refused and not request.facts.login_reread and any(
        clients.logins.from_secrets_manager(i) for i in (request.source_instance, request.target_instance))


@cloud_step(STEP)
def verify_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Start the check if none is pending, wait while it runs, then DONE or CHECK_FAILED with the items."""
    dts, job_id = the_task(request, clients)
    check = dts.call("DescribeMigrationCheckJob", {"JobId": job_id})
    status, flag = str(check.get("Status") or ""), str(check.get("CheckFlag") or NO_FLAG)
    found = CHECK.get((status, flag), UNLISTED_CHECK)
    again = found.decision is D.CHECK_FAILED and request.facts.check_reported
    if found.decision is D.CHECK_FAILED and not again and _login_may_have_rotated(request, clients, check):
        fresh = {**send_configuration(request, clients, dts, job_id, fresh_logins=True), "login_reread": True}
        dts.call("CreateMigrateCheckJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, facts=fresh, retry_after=POLL_SECONDS, notice=_(
            "DTS could not log in to the database: read the logins again from Secrets Manager (a rotated password) "
            "and verifying `{job_id}` again…", job_id=job_id))
    if status == "notStarted" or again:
        facts: dict[str, Any] = {"check_reported": False, "login_reread": False}
        renewed = credentials_expired(request, clients)
        try:
            reread = bool(again and has_topology(request))  # a person fixed something: the instance may have changed
            shapes = read_topologies(request, clients, role_session(request, clients), STEP) if reread else None
            moved = shapes is not None and _node_types(shapes) != _node_types(recorded_topologies(request))
            if renewed or moved:  # DTS would check with expired credentials or an old topology: configure again
                facts.update(send_configuration(request, clients, dts, job_id, renew=renewed, shapes=shapes))
        except TopologyFailed as unknown:
            return failed(unknown.diagnosis)
        dts.call("CreateMigrateCheckJob", {"JobId": job_id})
        notice = (_("Verifying DTS task `{job_id}`… (with new temporary credentials: the earlier ones expired)",
                    job_id=job_id) if renewed else _("Verifying DTS task `{job_id}`…", job_id=job_id))
        if moved and shapes is not None:
            notice += "\n" + _("The topology changed since the preflight; the task is configured again with: "
                                "source {source}; target {target}.", source=shapes["source"].said(),
                                target=shapes["target"].said())
        return StepResult(Outcome.WAIT, facts=facts, retry_after=POLL_SECONDS, notice=notice)
    items = check_items(check)
    lines = "\n".join(_line(i) for i in items)
    if found.decision is D.DONE:
        return StepResult(Outcome.DONE, notice=found.say(job_id, status) + (f"\n{lines}" if lines else ""))
    if found.decision is D.CHECK_FAILED:
        failures = [i for i in items if i["kind"] == "failed"]
        brief = check.get("BriefMsg") or ""
        head = found.say(job_id, status) + (f" ({brief})" if brief and not failures else "")
        tail = _("Fix these, then re-verify.") if failures else _("Re-verify to run the check again.")
        return StepResult(Outcome.CHECK_FAILED, facts={"failed_checks": failures, "check_reported": True},
                          notice="\n".join(part for part in (head, lines, tail) if part))
    return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS)
