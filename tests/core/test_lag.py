"""core.lag: DTS's lag figures as documented (absent or -1 is unknown, never 0) and the bounded history."""

from __future__ import annotations

import pytest

from core import lag
from storage.facts import Facts


@pytest.mark.parametrize(("info", "expected"), [
    ({"SecondsBehindMaster": 3, "MasterSlaveDistance": 12}, (3, 12)),
    ({"SecondsBehindMaster": 0, "MasterSlaveDistance": 0}, (0, 0)),
    ({"SecondsBehindMaster": -1, "MasterSlaveDistance": -1}, (None, None)),
    ({}, (None, None)),
    ({"SecondsBehindMaster": None, "MasterSlaveDistance": 5}, (None, 5)),
])
def test_figures_are_unknown_where_dts_gives_none(info: dict, expected: tuple) -> None:
    assert lag.figures({"StepInfo": info}) == expected
    assert lag.figures({}) == (None, None)


def test_unknown_is_never_shown_as_zero() -> None:
    assert lag.words(None, None) == "unknown · unknown"
    assert lag.words(0, 0) == "0 s · 0 MB"


def test_zero_since_holds_until_a_figure_moves() -> None:
    facts = Facts().merged(lag.sample(Facts(), 100.0, 0, 0))
    facts = facts.merged(lag.sample(facts, 160.0, 0, 0))
    assert facts.lag_zero_since == 100.0 and lag.held_seconds(facts, 400.0) == 300.0
    facts = facts.merged(lag.sample(facts, 200.0, 0, None))
    assert facts.lag_zero_since is None and lag.held_seconds(facts, 400.0) is None


def test_the_history_keeps_the_last_hour_bounded() -> None:
    facts = Facts()
    for second in range(0, 3 * 3600, 5):
        facts = facts.merged(lag.sample(facts, float(second), second % 7, None))
    history = facts.lag_history or []
    assert len(history) <= lag.MAX_SAMPLES + 1
    assert history[0][0] >= 3 * 3600 - 5 - lag.HISTORY_SECONDS
    assert "·" in lag.history_line(facts)  # the unknown MB samples


def test_a_history_of_unknowns_shows_the_figures_without_a_curve() -> None:
    """DTS gives a lag only while catching up: during the full load every sample is unknown, and the line says so
    instead of drawing dots with a maximum of "?"."""
    facts = Facts()
    for second in (0.0, 30.0, 60.0):
        facts = facts.merged(lag.sample(facts, second, None, None))
    assert lag.history_line(facts) == "*Lag:* unknown · unknown"
