"""core.cutover: the gate's evidence as data, and the override of what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

from core import cutover, lag
from core.config import CutoverSettings
from storage.facts import Facts
from tests.support.workspace import bot_settings

SETTINGS = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db")


def settings(**cutover_keys: object):
    return SETTINGS.model_copy(update={"cutover": CutoverSettings.model_validate(cutover_keys)})


def states(items: list[dict]) -> dict[str, tuple[bool, str]]:
    return {item["item"]: (item["ok"], item["state"]) for item in items}


def test_every_item_is_needed_by_default() -> None:
    facts = Facts().merged(lag.sample(Facts(), 0.0, 0, 0))
    found = states(cutover.evidence(facts, settings(), None, 60.0))
    assert found == {"lag": (False, "holding"), "compare": (False, "none"), "window": (True, "none")}
    held = states(cutover.evidence(facts.merged({"compare_conclusion": "same"}), settings(), None, 301.0))
    assert held == {"lag": (True, "held"), "compare": (True, "same"), "window": (True, "none")}


def test_a_difference_unknown_lag_and_a_closed_window_keep_it_closed() -> None:
    facts = Facts().merged({**lag.sample(Facts(), 0.0, None, 0), "compare_conclusion": "different"})
    at = datetime(2030, 1, 1, tzinfo=UTC)
    found = states(cutover.evidence(facts, settings(hold_minutes=0), at, at.timestamp() - 1))
    assert found == {"lag": (False, "unknown"), "compare": (False, "different"), "window": (False, "closed")}
    assert states(cutover.evidence(facts, settings(), at, at.timestamp()))["window"] == (True, "open")


def test_off_drops_the_check_but_not_available_still_needs_the_override() -> None:
    assert states(cutover.evidence(Facts(), settings(compare="off"), None, 0.0))["compare"] == (True, "off")
    unavailable = Facts().merged({"compare_conclusion": "unavailable"})
    assert states(cutover.evidence(unavailable, settings(compare="off"), None, 0.0))["compare"] == (
        False, "unavailable")


def test_the_override_takes_both_sides() -> None:
    closed = Facts().merged({"cutover_evidence": [{"item": "lag", "ok": False, "state": "unknown",
                                                   "figures": "unknown · unknown"}]})
    assert not cutover.gate_open(closed) and "The cutover gate is closed" in (cutover.refusal(closed) or "")
    one = closed.merged({"cutover_overrides": {"source": {"user": "U1", "reason": "r"}}})
    assert not cutover.gate_open(one)
    both = one.merged({"cutover_overrides": {"source": {"user": "U1", "reason": "r", "items": ["lag:unknown"]},
                                             "target": {"user": "U2", "reason": "s", "items": ["lag:unknown"]}}})
    assert cutover.gate_open(both) and cutover.refusal(both) is None
    behind = both.merged({"cutover_evidence": [{"item": "lag", "ok": False, "state": "behind", "figures": "9 s"}]})
    assert not cutover.gate_open(behind) and cutover.uncovering(behind) == ["source", "target"]
    assert not cutover.gate_open(Facts())  # no evidence gathered yet: closed
