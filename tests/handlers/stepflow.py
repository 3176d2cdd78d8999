"""`run_flow`: drive a request through the cloud steps by state, as the workflow engine does, without a DB."""

from __future__ import annotations

import time

from core.cloud import CloudClients
from core.steps import Outcome, StepResult
from handlers import STEPS
from storage.models import MigrationRequest

SOURCE_UIN, TARGET_UIN, EXECUTOR_UIN = "100000000001", "100000000002", "100000000021"
EXTERNAL_ID = "dtsbot-test-external-id-0123456789"
SPEED = 500.0  # sandbox seconds per real second: a whole DTS migration takes a few hundredths of a second

FIRST = "authorizing_source"
AFTER = {
    "authorizing_source": "preflight", "granting_subaccount": "preflight", "preflight": "creating_task",
    "creating_task": "configuring", "configuring": "verifying", "verifying": "starting",
    "starting": "running", "running": "revoking_access", "ready_to_complete": "completing",
    "completing": "revoking_access", "revoking_access": "succeeded", "verify_failed": "verifying",
    "cancelling": "cancelled",
}


def next_state(state: str, request: MigrationRequest, result: StepResult) -> str:
    if result.next_state:
        return result.next_state
    if state == "authorizing_source" and request.executor != "root":
        return "granting_subaccount"
    return AFTER[state]


def apply(request: MigrationRequest, result: StepResult) -> None:
    """Persist facts as the engine does: job_id and progress as columns, the rest into request.facts."""
    facts = dict(result.facts)
    if "job_id" in facts:
        request.job_id = facts.pop("job_id")
    if "progress" in facts:
        request.progress = facts.pop("progress")
    request.facts = request.facts.merged(facts)


def run_flow(request: MigrationRequest, clients: CloudClients, until: str = "running",
             max_runs: int = 500) -> list[StepResult]:
    """Run steps from `request.state` until `until`, a failure or a check failure; return every result.

    A step that raises leaves `request.state` where it was, so calling run_flow again resumes there.
    `ready_to_complete` moves on to `completing` (the person's click); `verify_failed` re-verifies.
    """
    if request.state not in STEPS and request.state not in ("ready_to_complete", "verify_failed"):
        request.state = FIRST
    results: list[StepResult] = []
    for _ in range(max_runs):
        state = request.state
        if state == until or state in ("succeeded", "failed"):
            return results
        if state in ("ready_to_complete", "verify_failed"):
            request.state = AFTER[state]
            continue
        result = STEPS[state](request, clients)
        results.append(result)
        apply(request, result)
        if result.outcome is Outcome.WAIT:
            time.sleep(0.01)
        elif result.outcome is Outcome.DONE:
            request.state = next_state(state, request, result)
        elif result.outcome is Outcome.CHECK_FAILED:
            request.state = "verify_failed"
            return results
        else:
            request.state = "failed"
            return results
    raise AssertionError(f"flow did not reach {until} in {max_runs} step runs (at {request.state})")
