"""The one retry policy: its delays, its attempts, and the loop that repeats a call — all without sleeping."""

from __future__ import annotations

import pytest

from core.retry import Backoff


def test_delays_double_up_to_the_cap():
    policy = Backoff(base=2.0, cap=60.0)
    assert [policy.delay(n) for n in range(1, 8)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_jitter_draws_between_the_share_it_leaves_and_the_full_delay():
    half = Backoff(base=2.0, cap=300.0, jitter=0.5)
    assert half.delay(3, draw=lambda: 0.0) == 8.0 and half.delay(3, draw=lambda: 0.999) == pytest.approx(4.004)
    full = Backoff(base=0.5, cap=8.0, jitter=1.0)
    assert full.delay(10, draw=lambda: 0.25) == 6.0


def test_attempts_are_bounded_only_when_asked():
    assert Backoff(1.0, 1.0, max_attempts=3).gives_up_after(3)
    assert not Backoff(1.0, 1.0, max_attempts=3).gives_up_after(2)
    assert not Backoff(1.0, 1.0).gives_up_after(10_000)


@pytest.mark.parametrize("fields", [{"base": 0.0, "cap": 1.0}, {"base": 2.0, "cap": 1.0},
                                    {"base": 1.0, "cap": 1.0, "jitter": 1.5},
                                    {"base": 1.0, "cap": 1.0, "max_attempts": 0}])
def test_a_policy_that_cannot_work_is_refused(fields):
    with pytest.raises(ValueError):
        Backoff(**fields)


def test_run_repeats_an_accepted_error_and_returns_the_success_after_it():
    answers = iter([ConnectionError("lost"), ConnectionError("lost"), "ok"])
    slept: list[float] = []
    result = Backoff(base=1.0, cap=10.0, max_attempts=3).run(
        lambda: answer(next(answers)), lambda error: isinstance(error, ConnectionError), sleep=slept.append)
    assert result == "ok" and slept == [1.0, 2.0]


def test_run_raises_the_last_error_when_attempts_run_out_and_never_repeats_a_refused_one():
    policy = Backoff(base=1.0, cap=10.0, max_attempts=2)
    slept: list[float] = []
    runs = iter([ConnectionError("first"), ConnectionError("second")])
    with pytest.raises(ConnectionError, match="second"):
        policy.run(lambda: answer(next(runs)), lambda error: True, sleep=slept.append)
    assert slept == [1.0]
    with pytest.raises(ValueError):
        policy.run(lambda: answer(ValueError("bad input")), lambda error: isinstance(error, ConnectionError),
                   sleep=slept.append)
    assert slept == [1.0]


def answer(item):
    if isinstance(item, Exception):
        raise item
    return item
