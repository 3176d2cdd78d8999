"""core.workflow: every legal transition is accepted, illegal ones raise."""

import itertools

import pytest

from core.workflow import (
    CANCELLABLE,
    CANCELLING_STATES,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    State,
    cancel_target,
    check_transition,
    retry_target,
)

LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
ILLEGAL = [(a, b) for a, b in itertools.product(State, State) if b not in TRANSITIONS[a]]


def test_every_state_has_an_entry():
    assert set(TRANSITIONS) == set(State)


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transitions(current, target):
    assert check_transition(current.value, target.value) is target


@pytest.mark.parametrize(("current", "target"), ILLEGAL[::7])
def test_illegal_transitions_raise(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


def test_happy_path_is_legal_end_to_end():
    path = ["requested", "approved", "authorizing_source", "granting_subaccount", "preflight", "creating_task",
            "configuring", "verifying", "verify_failed", "verifying", "starting", "running",
            "ready_to_complete", "completing", "revoking_access", "succeeded"]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_terminal_states_go_nowhere_and_unknown_states_raise():
    assert TERMINAL == {State.SUCCEEDED, State.REJECTED, State.CANCELLED, State.EXPIRED}
    with pytest.raises(IllegalTransition):
        check_transition("requested", "teleported")
    with pytest.raises(IllegalTransition):
        check_transition("succeeded", "running")


def test_nothing_is_bought_twice_by_a_retry_path():
    """Once a task is being bought, the only way back is a retry of a failed step, never to preflight."""
    assert State.PREFLIGHT not in TRANSITIONS[State.CREATING_TASK]
    assert State.CANCELLED not in TRANSITIONS[State.CREATING_TASK]


def test_retry_restarts_access_steps_from_the_source_role_and_later_steps_in_place():
    for step in ("authorizing_source", "granting_subaccount", "preflight"):
        assert retry_target(step) is State.AUTHORIZING_SOURCE
    for step in ("creating_task", "configuring", "verifying", "starting", "revoking_access"):
        assert retry_target(step) is State(step)
    assert all(retry_target(step) in TRANSITIONS[State.FAILED] for step in TRANSITIONS[State.FAILED]
               if step is not State.CANCELLING)


def test_every_unfinished_state_can_be_cancelled_and_a_task_that_may_run_is_stopped_first():
    assert CANCELLABLE | CANCELLING_STATES == set(State) - TERMINAL - {State.REVOKING_ACCESS}
    for state in CANCELLABLE:
        assert cancel_target(state) in TRANSITIONS[state]
    for state in ("starting", "running", "ready_to_complete", "completing"):
        assert cancel_target(state) is State.STOPPING_TASK
    for state in ("authorizing_source", "preflight", "creating_task", "configuring", "verifying", "verify_failed"):
        assert cancel_target(state) is State.CANCELLING
    assert cancel_target("requested") is cancel_target("approved") is State.CANCELLED
    # a failed request: DTS is asked unless it failed setting up access and has no task
    assert cancel_target("failed", "starting") is State.STOPPING_TASK
    assert cancel_target("failed", "preflight") is State.CANCELLING
    assert cancel_target("failed", "preflight", has_task=True) is State.STOPPING_TASK
    assert cancel_target("failed", "cancelling") is State.CANCELLING  # an access-only cancel failed: revoke again
    # the revoke comes only after the stop (cancelling), or after DTS reported the cutover done (revoking_access)
    assert TRANSITIONS[State.STOPPING_TASK] == (State.CANCELLING, State.REVOKING_ACCESS, State.FAILED)
