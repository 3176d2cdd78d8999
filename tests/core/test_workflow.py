"""core.workflow: whole request journeys through its public functions, each move checked by check_transition.

A journey is a list of what happens to a request (a step done, a check failed, a cancel, a retry...); the
expected paths are written out by hand, so a wrong entry in the tables shows up as a different path.
"""

from __future__ import annotations

import pytest

from core.workflow import (
    CANCELLABLE,
    TERMINAL,
    IllegalTransition,
    State,
    cancel_target,
    check_transition,
    next_after,
    retry_target,
)

S = State


class Journey:
    """One request walking the workflow as the engine and people's buttons move it."""

    def __init__(self, executor: str = "root") -> None:
        self.executor = executor
        self.state = S.REQUESTED
        self.failed_step: State | None = None
        self.has_task = False
        self.path = [self.state.value]

    def _go(self, target: State) -> Journey:
        self.state = check_transition(self.state, target)
        self.path.append(self.state.value)
        return self

    def approve(self) -> Journey:
        return self._go(S.APPROVED)

    def click(self, target: State) -> Journey:
        """A person's button (complete, re-verify, owner's steps verified) moves the request to `target`."""
        return self._go(target)

    def done(self, times: int = 1, instead: State | None = None) -> Journey:
        """The current step finishes (`times` steps in a row); `instead`: the step chose where to go."""
        for _ in range(times):
            self.has_task |= self.state is S.CREATING_TASK
            self._go(instead or next_after(self.state, self.executor))
        return self

    def check_failed(self) -> Journey:
        return self._go(S.VERIFY_FAILED)

    def fail(self) -> Journey:
        self.failed_step = self.state
        return self._go(S.FAILED)

    def retry(self) -> Journey:
        assert self.failed_step is not None
        step, self.failed_step = self.failed_step, None
        return self._go(retry_target(step))

    def cancel(self) -> Journey:
        return self._go(cancel_target(self.state, self.failed_step, self.has_task))


ROOT_HAPPY = ["requested", "approved", "authorizing_source", "preflight", "creating_task", "configuring",
              "verifying", "starting", "running", "revoking_access", "succeeded"]


def test_happy_path_of_a_root_executor():
    assert Journey().approve().done(9).path == ROOT_HAPPY


def test_happy_path_of_a_subaccount_executor_grants_it_after_the_source_role():
    assert Journey("sub-account").approve().done(10).path == [
        *ROOT_HAPPY[:3], "granting_subaccount", *ROOT_HAPPY[3:]]


def test_a_task_that_waits_for_a_person_to_complete_it():
    journey = Journey().approve().done(7).done(instead=S.READY_TO_COMPLETE)
    journey.click(S.COMPLETING).done(2)  # the person's click, then CompleteMigrateJob and the revoke
    assert journey.path[-5:] == ["running", "ready_to_complete", "completing", "revoking_access", "succeeded"]


def test_a_failed_verification_is_verified_again():
    journey = Journey().approve().done(5).check_failed()
    journey.click(S.VERIFYING).done(4)  # the person's re-verify
    assert journey.path[6:] == ["verifying", "verify_failed", "verifying", "starting", "running",
                                "revoking_access", "succeeded"]


@pytest.mark.parametrize(("steps_done", "cancel_path"), [
    (0, ["requested", "cancelled"]),
    (1, ["approved", "cancelled"]),
    (2, ["authorizing_source", "cancelling", "cancelled"]),
    (4, ["creating_task", "cancelling", "cancelled"]),
    (6, ["verifying", "cancelling", "cancelled"]),
    (7, ["starting", "stopping_task", "cancelling", "cancelled"]),
    (8, ["running", "stopping_task", "cancelling", "cancelled"]),
])
def test_cancel_from_each_phase_revokes_once_the_cloud_was_touched_and_stops_a_task_first(steps_done, cancel_path):
    journey = Journey()
    if steps_done:
        journey.approve().done(steps_done - 1)
    journey.cancel().done(len(cancel_path) - 2)
    assert journey.path[-len(cancel_path):] == cancel_path


def test_a_stopped_task_that_dts_had_completed_ends_by_revoking_access():
    journey = Journey().approve().done(7).cancel().done(instead=S.REVOKING_ACCESS).done()
    assert journey.path[-4:] == ["running", "stopping_task", "revoking_access", "succeeded"]


@pytest.mark.parametrize(("failed_in", "restarts_at"), [
    ("authorizing_source", "authorizing_source"), ("preflight", "authorizing_source"),
    ("creating_task", "creating_task"), ("verifying", "verifying"), ("starting", "starting"),
    ("revoking_access", "revoking_access"),
])
def test_a_retry_repairs_access_from_the_source_role_and_resumes_later_steps_in_place(failed_in, restarts_at):
    journey = Journey().approve().done(ROOT_HAPPY.index(failed_in) - 1)
    journey.fail().retry()
    assert journey.path[-3:] == [failed_in, "failed", restarts_at]
    journey.done(len(ROOT_HAPPY) - 1 - ROOT_HAPPY.index(restarts_at))
    assert journey.state is S.SUCCEEDED


def test_cancelling_a_failed_request_stops_a_task_unless_only_access_was_set_up():
    access_only = Journey().approve().done(2).fail().cancel().done()
    assert access_only.path[-4:] == ["preflight", "failed", "cancelling", "cancelled"]
    with_task = Journey().approve().done(4).fail().cancel().done(2)
    assert with_task.path[-5:] == ["configuring", "failed", "stopping_task", "cancelling", "cancelled"]
    revoke_failed = Journey().approve().done(1).cancel().fail().cancel().done()
    assert revoke_failed.path[-4:] == ["cancelling", "failed", "cancelling", "cancelled"]


def test_guided_mode_waits_for_the_owner_and_sends_a_failed_preflight_back():
    journey = Journey("sub-account").approve().done().done(instead=S.AWAITING_OWNER)
    journey.click(S.GRANTING_SUBACCOUNT).done(instead=S.AWAITING_OWNER)  # the source owner verified
    journey.click(S.PREFLIGHT).done(instead=S.AWAITING_OWNER)  # the target owner verified; access still missing
    journey.click(S.PREFLIGHT).done(7)
    assert journey.path == ["requested", "approved", "authorizing_source", "awaiting_owner", "granting_subaccount",
                            "awaiting_owner", "preflight", "awaiting_owner", *ROOT_HAPPY[3:]]
    waiting = Journey().approve().done().done(instead=S.AWAITING_OWNER).cancel().done()
    assert waiting.path[-3:] == ["awaiting_owner", "cancelling", "cancelled"]


def test_moves_the_workflow_refuses():
    with pytest.raises(IllegalTransition):  # nothing is bought twice: no way back to the preflight
        Journey().approve().done(3).click(S.PREFLIGHT)
    with pytest.raises(IllegalTransition):  # the access never goes under a running task
        Journey().approve().done(7).click(S.CANCELLING)
    with pytest.raises(IllegalTransition):
        check_transition("requested", "teleported")
    for finished in TERMINAL:
        assert finished not in CANCELLABLE
        with pytest.raises(IllegalTransition):
            check_transition(finished, S.AUTHORIZING_SOURCE)
