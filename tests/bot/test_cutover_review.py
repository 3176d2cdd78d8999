"""A DBA's review of the cutover gate, through `dtsbot serve`'s wiring (the real Bolt app, the scheduler with the real
cloud steps, the Tencent Cloud sandbox): the gate's evidence is a reading some seconds old, so *Complete* re-reads
the lag before CompleteMigrateJob; an override covers the evidence missing when it was given, not a lag that rises
after; a lag reading after a gap in the readings cannot prove the lag held through the gap."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.cloud import CloudClients
from core.engine import record_cloud_call
from core.scheduler import Scheduler
from core.steps import Outcome, StepResult
from core.workflow import State
from handlers import STEPS
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.compare import compare_backend
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import budget, eventually
from storage import repository
from storage.db import session_scope
from tests.bot.test_cutover_gate import SOURCE, buttons, gate_shows, ready, reply_with, stale_complete
from tests.bot.test_cutover_window import MovableClock
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import SOURCE_OWNER, SOURCE_UIN, TARGET_OWNER, USERGROUPS, USERS, serve_settings


@contextmanager
def story(tmp_path: Path, clock: MovableClock, cutover: dict[str, Any], **source: Any) -> Iterator[Serving]:
    """`dtsbot serve` whose cloud steps read `clock`; `source` sets the source instance's sandbox attributes."""
    def scheduler(settings: Any, db: Any, notifier: Any, requests: Any, owner: str, _metrics: Any) -> Scheduler:
        clients = CloudClients(settings, on_call=record_cloud_call, logins=requests.logins, clock=clock)
        return Scheduler(settings, db, STEPS, clients, notifier.flush, owner, expire=requests.expire_overdue)
    with SlackEmulator(users=USERS, usergroups=USERGROUPS) as slack, \
            TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        instance = cloud.world.instance(SOURCE_UIN, "ap-guangzhou", SOURCE)
        assert instance is not None
        for name, value in source.items():
            setattr(instance, name, value)
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'review.db'}", cutover=cutover)
        with serving(settings, slack, cloud, scheduler_factory=scheduler) as running:
            yield running


def between_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch of a ready task between two readings (30 s apart in production), held here: the request keeps its
    last reading's evidence; a reading already under way is let finish."""
    held = threading.Event()

    def hold(_request: Any, _clients: Any) -> StepResult:
        held.set()  # a request's steps run one at a time (its lease): a reading under way has finished
        return StepResult(Outcome.WAIT, retry_after=0.2)

    monkeypatch.setitem(STEPS, State.READY_TO_COMPLETE, hold)
    assert held.wait(budget(WAIT)), "the held watch never ran"


def load(s: Serving, seconds: int) -> None:
    instance = s.cloud.world.instance(SOURCE_UIN, "ap-guangzhou", SOURCE)
    assert instance is not None
    instance.write_load = seconds


def facts(s: Serving, rid: str) -> Any:
    with session_scope(s.runtime.db) as session:
        request = repository.get_request(session, rid)
        assert request is not None
        return request.facts


def test_complete_rereads_the_lag_the_gate_saw_at_its_last_reading(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with story(tmp_path, MovableClock(), {"hold_minutes": 0, "compare": "off"}) as s:
        rid = ready(s)
        opened = reply_with(s, rid, "is *ready to complete*")
        assert buttons(opened) == ["complete"]
        between_readings(monkeypatch)
        load(s, 30)  # writes resumed on the source after the last reading
        monkeypatch.undo()
        assert s.driver.click(TARGET_OWNER, opened, "complete").status == 200
        try:
            refused = reply_with(s, rid, "not completed")
        except TimeoutError:
            raise AssertionError(f"{s.state(rid)}: {s.cloud.calls.of('CompleteMigrateJob')}\n{s.thread_text(rid)}")
        assert "30 s · 15 MB" in refused["text"]
        assert s.reaches(rid, "ready_to_complete") and not s.cloud.calls.of("CompleteMigrateJob")
        gate_shows(s, rid, "✗ Lag 30 s · 15 MB: not at 0 s and 0 MB")


def override_both(s: Serving, rid: str) -> dict:
    for person, reason in ((SOURCE_OWNER, "no compare on this link"), (TARGET_OWNER, "checked by hand")):
        views = len(s.slack.views)
        assert s.driver.click(person, s.message(rid), "override_gate").status == 200
        view = s.slack.wait_for(lambda seen=views: s.slack.views[seen:], timeout=WAIT)[0]
        assert s.driver.submit_view(person, view, {"reason": reason}).status == 200
        reply_with(s, rid, reason)  # each owner acts on what the thread shows: one half, then the other
    return reply_with(s, rid, "both sides overrode the missing evidence")


def test_an_override_covers_what_was_missing_not_a_lag_that_rises_later(tmp_path: Path) -> None:
    with story(tmp_path, MovableClock(), {"hold_minutes": 0, "compare": "auto"}, compare_unsupported=True) as s:
        rid = ready(s)
        gate_shows(s, rid, "✓ Lag 0 s and 0 MB")
        gate_shows(s, rid, "✗ Consistency check not available")
        assert buttons(override_both(s, rid)) == ["complete"]

        load(s, 30)  # writes resumed: the overrides said nothing about a lag
        reply_with(s, rid, "no longer covers")
        gate_shows(s, rid, "✗ Lag 30 s · 15 MB: not at 0 s and 0 MB")
        answer = stale_complete(s, rid)
        assert "The cutover gate is closed" in answer and "Lag 30 s" in answer
        assert s.state(rid) == "ready_to_complete" and not s.cloud.calls.of("CompleteMigrateJob")


def test_a_reading_after_a_gap_cannot_prove_the_lag_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = MovableClock()
    with story(tmp_path, clock, {"hold_minutes": 5, "compare": "off"}) as s:
        rid = ready(s)
        gate_shows(s, rid, "✗ Lag 0 s and 0 MB for 0 min")
        between_readings(monkeypatch)  # the bot down, or its scheduler stalled, for two hours
        clock.offset = 2 * 3600.0
        moved = clock()
        monkeypatch.undo()
        eventually(lambda: (facts(s, rid).lag_history or [[0]])[-1][0] >= moved, timeout=WAIT)
        evidence = facts(s, rid).cutover_evidence
        assert evidence[0]["state"] == "holding", evidence
        assert "The cutover gate is closed" in stale_complete(s, rid)


def test_the_compare_task_goes_when_dts_completes_the_task_outside_the_bot(tmp_path: Path) -> None:
    with story(tmp_path, MovableClock(), {"hold_minutes": 0, "compare": "manual"}) as s:
        rid = ready(s)
        message = gate_shows(s, rid, "✗ Consistency check not run yet")
        assert s.driver.click(SOURCE_OWNER, message, "check_data").status == 200
        reply_with(s, rid, "*Consistency check:* same")
        assert compare_backend(s.cloud.world).tasks
        with session_scope(s.runtime.db) as session:
            job_id = repository.get_request(session, rid).job_id
        dts_backend(s.cloud.world).complete(dts_backend(s.cloud.world).jobs[job_id])  # in the DTS console
        s.reaches(rid, "succeeded")
        eventually(lambda: not compare_backend(s.cloud.world).tasks, timeout=WAIT, what="the compare task deleted")


def test_a_same_compare_that_skipped_tables_does_not_prove_them(tmp_path: Path) -> None:
    with story(tmp_path, MovableClock(), {"hold_minutes": 0, "compare": "auto"},
               skipped_tables=["shop.audit_log"]) as s:
        rid = ready(s)
        report = reply_with(s, rid, "*Consistency check:* same")
        assert "1 skipped" in report["text"] and "`shop.audit_log`: no primary key" in report["text"]
        message = gate_shows(s, rid, "✗ Consistency check concluded *same* but skipped 1 tables")
        assert "complete" not in buttons(message)
        assert "The cutover gate is closed" in stale_complete(s, rid)


def test_a_same_compare_from_before_the_lag_last_rose_is_no_longer_evidence(tmp_path: Path) -> None:
    """Writes after the check (the lag rose, then caught up) may have changed the data the check compared: its *same*
    turns ✗ until *Check data* runs again, and *Complete* is refused meanwhile."""
    with story(tmp_path, MovableClock(), {"hold_minutes": 0, "compare": "auto"}) as s:
        rid = ready(s)
        reply_with(s, rid, "*Consistency check:* same")
        gate_shows(s, rid, "✓ Consistency check (dataCheck) concluded *same*")
        load(s, 30)
        gate_shows(s, rid, "✗ Lag 30 s")
        load(s, 0)
        message = gate_shows(s, rid, "✗ Consistency check concluded *same*, but the lag rose after it")
        assert "complete" not in buttons(message)
        assert "The cutover gate is closed" in stale_complete(s, rid)
        assert s.driver.click(SOURCE_OWNER, message, "check_data").status == 200
        gate_shows(s, rid, "✓ Consistency check (dataCheck) concluded *same*")
