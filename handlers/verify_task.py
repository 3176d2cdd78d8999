"""Verify the DTS task (guide, "Creating Migration Task" steps 6-7): run DTS's check and report each failed
check item with its fix.

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
from core.steps import Outcome, StepResult
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import no_task, task_id
from storage.models import MigrationRequest

STEP = "verify_task"
POLL_SECONDS = 5.0


def failed_checks(check: dict[str, Any]) -> list[dict[str, str]]:
    """Each failed check item as {step, message, fix}, in DTS's order."""
    found = []
    for step in check.get("StepInfo") or []:
        if step.get("StepStatus") != "failed":
            continue
        name = step.get("StepName") or step.get("StepId") or "check"
        items = [i for i in step.get("DetailCheckItems") or [] if i.get("CheckResult") == "failed"]
        for item in items or [{}]:
            found.append({
                "step": name,
                "message": item.get("FailureReason") or item.get("Description") or step.get("StepMessage") or "",
                "fix": check_fix(step.get("StepId") or "", item.get("Solution")),
            })
    return found


def warnings(check: dict[str, Any]) -> list[str]:
    """Check items that passed with a warning, as one line each."""
    return [f"{step.get('StepName')}: {item.get('Description')}"
            for step in check.get("StepInfo") or [] for item in step.get("DetailCheckItems") or []
            if item.get("CheckResult") == "warning"]


@cloud_step(STEP)
def verify_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Start the check if none is pending, wait while it runs, then DONE or CHECK_FAILED with the failures."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return no_task(STEP)
    check = dts.call("DescribeMigrationCheckJob", {"JobId": job_id})
    status = check.get("Status")
    if status == "notStarted" or (status == "failed" and request.facts.get("check_reported")):
        dts.call("CreateMigrateCheckJob", {"JobId": job_id})
        return StepResult(Outcome.WAIT, facts={"check_reported": False}, retry_after=POLL_SECONDS,
                          notice=f"Verifying DTS task `{job_id}`…")
    if status == "success":
        notes = warnings(check)
        extra = "\n" + "\n".join(f"• :warning: {w}" for w in notes) if notes else ""
        return StepResult(Outcome.DONE, notice=f"Verification of `{job_id}` passed.{extra}")
    if status == "failed":
        failures = failed_checks(check)
        lines = "\n".join(f"• *{f['step']}*: {f['message']}\n   _Fix:_ {f['fix']}" for f in failures)
        return StepResult(Outcome.CHECK_FAILED, facts={"failed_checks": failures, "check_reported": True},
                          notice=f"Verification of `{job_id}` failed:\n{lines}\nFix these, then re-verify.")
    return StepResult(Outcome.WAIT, retry_after=POLL_SECONDS)
