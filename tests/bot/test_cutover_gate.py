"""The cutover gate through `dtsbot serve`'s wiring (the real Bolt app over signed HTTP, the scheduler with the real
cloud steps, the Tencent Cloud sandbox): *Complete* is refused while the lag is above zero, unknown or not yet held;
a consistency check that finds differences blocks the gate and its report names the tables; the override needs one
approver of each side, each with a reason, and is audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlmodel import select

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.compare import compare_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import Instance, default_world
from sandbox.waiting import eventually
from storage.db import session_scope
from storage.models import AuditEntry
from tests.support.commands import INLINE
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import (
    CHANNEL,
    SOURCE_OWNER,
    SOURCE_UIN,
    STRANGER,
    TARGET_OWNER,
    USERGROUPS,
    USERS,
    serve_settings,
)

SOURCE = "cdb-src00001"


@contextmanager
def story(tmp_path: Path, cutover: dict[str, Any], source: Callable[[Instance], None] = lambda _i: None
          ) -> Iterator[Serving]:
    """`dtsbot serve` on the sandboxes with these `cutover:` settings; `source` shapes the source instance."""
    with SlackEmulator(users=USERS, usergroups=USERGROUPS) as slack, \
            TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        instance = cloud.world.instance(SOURCE_UIN, "ap-guangzhou", SOURCE)
        assert instance is not None
        source(instance)
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'cutover.db'}", cutover=cutover)
        with serving(settings, slack, cloud) as running:
            yield running


def ready(story: Serving) -> str:
    """A request opened, approved, and ready to complete."""
    rid = story.open(INLINE)
    story.approve(rid)
    story.reaches(rid, "ready_to_complete")
    return rid


def buttons(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def text_of(message: dict) -> str:
    return str(message["blocks"])


def gate_shows(story: Serving, rid: str, words: str) -> dict:
    """The request message once its evidence list shows `words`."""
    def shown() -> dict | None:
        message = story.message(rid)
        return message if words in text_of(message) else None
    try:
        return story.slack.wait_for(shown, timeout=WAIT)
    except AssertionError:
        raise AssertionError(f"not shown: {words}\n{text_of(story.message(rid))}\n{story.thread_text(rid)}") from None


def stale_complete(story: Serving, rid: str) -> str:
    """A target approver's *Complete* from a stale render of the message (the button no longer shown): the server
    decides; returns the ephemeral answer."""
    message = story.message(rid)
    stale = {**message, "blocks": [*message["blocks"], {"type": "actions", "block_id": "stale", "elements": [
        {"type": "button", "action_id": "complete", "value": f"{rid}:1",
         "text": {"type": "plain_text", "text": "Complete"}}]}]}
    count = len(story.slack.ephemerals(TARGET_OWNER))
    assert story.driver.click(TARGET_OWNER, stale, "complete").status == 200
    return story.slack.wait_for(lambda: story.slack.ephemerals(TARGET_OWNER)[count:], timeout=WAIT)[0]["text"]


def reply_with(story: Serving, rid: str, words: str) -> dict:
    return story.slack.wait_for(lambda: next((r for r in story.slack.thread(CHANNEL, story.message(rid)["ts"])
                                              if words in r.get("text", "")), None), timeout=WAIT)


def audit(story: Serving, rid: str, action: str) -> list[AuditEntry]:
    with session_scope(story.runtime.db) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.request_id == rid,
                                                          AuditEntry.action == action)).all())


def test_complete_is_refused_while_the_lag_is_above_zero_then_offered_once_it_is_zero(tmp_path: Path) -> None:
    def busy(instance: Instance) -> None:
        instance.write_load = 30
    with story(tmp_path, {"hold_minutes": 0, "compare": "off"}, busy) as s:
        rid = ready(s)
        message = gate_shows(s, rid, "✗ Lag 30 s · 15 MB: not at 0 s and 0 MB")
        assert "*Lag:* 30 s · 15 MB · last hour" in text_of(message)
        assert "complete" not in buttons(message) and "override_gate" in buttons(message)
        answer = stale_complete(s, rid)
        assert "The cutover gate is closed" in answer and "Lag 30 s · 15 MB" in answer
        assert s.state(rid) == "ready_to_complete" and audit(s, rid, "complete")[0].outcome == "refused"

        s.cloud.world.instance(SOURCE_UIN, "ap-guangzhou", SOURCE).write_load = 0  # writes stopped: the lag falls
        opened = reply_with(s, rid, "The cutover gate is open")
        assert buttons(opened) == ["complete"]
        gate_shows(s, rid, "✓ Lag 0 s and 0 MB")
        assert s.driver.click(TARGET_OWNER, opened, "complete").status == 200
        s.reaches(rid, "succeeded")


def test_an_unknown_lag_is_never_shown_as_zero_and_closes_the_gate(tmp_path: Path) -> None:
    def no_figures(instance: Instance) -> None:
        instance.lag_unknown = True
    with story(tmp_path, {"hold_minutes": 0, "compare": "off"}, no_figures) as s:
        rid = ready(s)
        message = gate_shows(s, rid, "✗ Lag unknown · unknown: DTS gives no figure")
        assert "lag 0" not in text_of(message).lower()
        assert "The cutover gate is closed" in stale_complete(s, rid)
        assert s.state(rid) == "ready_to_complete"


def test_a_lag_at_zero_must_hold_before_complete(tmp_path: Path) -> None:
    with story(tmp_path, {"hold_minutes": 5, "compare": "off"}) as s:
        rid = ready(s)
        gate_shows(s, rid, "✗ Lag 0 s and 0 MB for 0 min of the 5 min it must hold")
        answer = stale_complete(s, rid)
        assert "The cutover gate is closed" in answer and "of the 5 min it must hold" in answer
        assert s.state(rid) == "ready_to_complete"


def test_a_differing_compare_blocks_the_gate_until_both_sides_override(tmp_path: Path) -> None:
    def differs(instance: Instance) -> None:
        instance.differing_tables = ["shop.payments"]
    with story(tmp_path, {"hold_minutes": 0, "compare": "auto", "compare_method": "sampleDataCheck",
                          "sample_rate": 20}, differs) as s:
        rid = ready(s)
        report = reply_with(s, rid, "*Consistency check:* different")
        assert "`shop.payments` (3 rows)" in report["text"] and "4 tables checked" in report["text"]
        created = s.cloud.calls.of("CreateCompareTask")[0]
        assert created.params["Options"] == {"Method": "sampleDataCheck", "SampleRate": 20}
        message = gate_shows(s, rid, "✗ Consistency check found *differences*")
        assert "complete" not in buttons(message)
        assert "The cutover gate is closed" in stale_complete(s, rid)

        refused = s.driver.click(STRANGER, message, "override_gate")
        assert refused.status == 200
        for person, reason in ((SOURCE_OWNER, "payments differ by the test rows only"),
                               (TARGET_OWNER, "agreed with finance: cut over now")):
            views = len(s.slack.views)
            assert s.driver.click(person, s.message(rid), "override_gate").status == 200
            view = s.slack.wait_for(lambda seen=views: s.slack.views[seen:], timeout=WAIT)[0]
            assert s.driver.submit_view(person, view, {"reason": reason}).status == 200
            reply_with(s, rid, reason)  # each owner acts on what the thread shows: one half, then the other
        both = reply_with(s, rid, "both sides overrode the missing evidence")
        assert "agreed with finance" in both["text"] and buttons(both) == ["complete"]
        assert [(e.actor, e.detail) for e in audit(s, rid, "override_source")] == [
            (SOURCE_OWNER, "payments differ by the test rows only")]
        assert [(e.actor, e.detail) for e in audit(s, rid, "override_target")] == [
            (TARGET_OWNER, "agreed with finance: cut over now")]
        gate_shows(s, rid, "Overridden for the source side")
        assert any(e.outcome == "refused" and e.actor == STRANGER for e in audit(s, rid, "override_gate"))

        assert s.driver.click(TARGET_OWNER, both, "complete").status == 200
        s.reaches(rid, "succeeded")
        eventually(lambda: not compare_backend(s.cloud.world).tasks, timeout=WAIT)  # deleted at the end


def test_check_data_is_for_either_sides_approvers_and_opens_the_gate_when_same(tmp_path: Path) -> None:
    with story(tmp_path, {"hold_minutes": 0, "compare": "manual"}) as s:
        rid = ready(s)
        message = gate_shows(s, rid, "✗ Consistency check not run yet")
        assert not s.cloud.calls.of("CreateCompareTask")  # manual: nothing until someone asks
        count = len(s.slack.ephemerals(STRANGER))
        assert s.driver.click(STRANGER, message, "check_data").status == 200
        assert "Only an approver of either side" in s.slack.wait_for(
            lambda: s.slack.ephemerals(STRANGER)[count:], timeout=WAIT)[0]["text"]
        assert s.driver.click(SOURCE_OWNER, message, "check_data").status == 200
        report = reply_with(s, rid, "*Consistency check:* same")
        assert "3 of 3 tables checked, 0 differ" in report["text"]
        assert buttons(reply_with(s, rid, "The cutover gate is open")) == ["complete"]
        gate_shows(s, rid, "✓ Consistency check (dataCheck) concluded *same*")


def test_a_link_dts_cannot_compare_needs_the_override(tmp_path: Path) -> None:
    def no_compare(instance: Instance) -> None:
        instance.compare_unsupported = True
    with story(tmp_path, {"hold_minutes": 0, "compare": "auto"}, no_compare) as s:
        rid = ready(s)
        assert "UnsupportedOperation" in reply_with(s, rid, "DTS cannot run the consistency check")["text"]
        gate_shows(s, rid, "✗ Consistency check not available for this link (DTS): override needed")
        assert "The cutover gate is closed" in stale_complete(s, rid)
