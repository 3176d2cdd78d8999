"""`run_flow`: drive a request through the cloud steps by state, as the workflow engine does, without a DB."""

from __future__ import annotations

import time

from core.cloud import CloudClients
from core.engine import next_state
from core.steps import Outcome, StepResult
from core.workflow import NEXT, State
from handlers import STEPS
from storage.models import MigrationRequest

SOURCE_UIN, TARGET_UIN, EXECUTOR_UIN = "100000000001", "100000000002", "100000000021"
EXTERNAL_ID = "dtsbot-test-external-id-0123456789"
SPEED = 500.0  # sandbox seconds per real second: a whole DTS migration takes a few hundredths of a second

FIRST = NEXT[State.APPROVED]
CLICKS = {State.READY_TO_COMPLETE: State.COMPLETING, State.VERIFY_FAILED: State.VERIFYING}
"""What a person's button does in the states that wait for one (WorkflowEngine.request_complete/reverify)."""


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
    if request.state not in STEPS and request.state not in CLICKS:
        request.state = FIRST
    results: list[StepResult] = []
    for _ in range(max_runs):
        state = request.state
        if state == until or state in ("succeeded", "failed"):
            return results
        if state in CLICKS:
            request.state = CLICKS[State(state)]
            continue
        result = STEPS[state](request, clients)
        results.append(result)
        apply(request, result)
        if result.outcome is Outcome.WAIT:
            time.sleep(0.01)
        elif result.outcome is Outcome.DONE:
            request.state = next_state(request, result)
        elif result.outcome is Outcome.CHECK_FAILED:
            request.state = "verify_failed"
            return results
        else:
            request.state = "failed"
            return results
    raise AssertionError(f"flow did not reach {until} in {max_runs} step runs (at {request.state})")
