"""The cutover window and the timed start through `dtsbot serve`'s wiring (the real Bolt app, the scheduler with the
real cloud steps, the Tencent Cloud sandbox): `cutover_at=` keeps the gate closed until its time, reminds the
approvers before it and posts the checklist when it opens, read by an injected clock (no sleep); `start_at=` is
sent as ModifyMigrationJob RunMode timed with ExpectRunTime as documented (Beijing time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.cloud import CloudClients
from core.engine import record_cloud_call
from core.scheduler import Scheduler
from handlers import STEPS
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from tests.bot.test_cutover_gate import buttons, gate_shows, reply_with, stale_complete
from tests.support.commands import inline
from tests.support.serving import Serving, serving
from tests.support.workspace import SOURCE_OWNER, TARGET_OWNER, USERGROUPS, USERS, serve_settings


class MovableClock:
    """Epoch seconds that run with real time plus whatever the test moved it by."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@contextmanager
def story(tmp_path: Path, clock: MovableClock, cutover: dict[str, Any]) -> Iterator[Serving]:
    """`dtsbot serve` whose cloud steps read `clock`."""
    def scheduler(settings: Any, db: Any, notifier: Any, requests: Any, owner: str, _metrics: Any) -> Scheduler:
        clients = CloudClients(settings, on_call=record_cloud_call, logins=requests.logins, clock=clock)
        return Scheduler(settings, db, STEPS, clients, notifier.flush, owner, expire=requests.expire_overdue,
                         watched_fallback=1.0)
    with SlackEmulator(users=USERS, usergroups=USERGROUPS) as slack, \
            TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'window.db'}", cutover=cutover)
        with serving(settings, slack, cloud, scheduler_factory=scheduler) as running:
            yield running


def test_the_window_opens_the_gate_at_its_time(tmp_path: Path) -> None:
    clock = MovableClock()
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    with story(tmp_path, clock, {"hold_minutes": 0, "compare": "off", "reminder_minutes": 30}) as s:
        rid = s.open(inline(cutover_at=at.isoformat()))
        assert "Cutover window: *Complete* waits for" in str(s.message(rid)["blocks"])
        s.approve(rid)
        s.reaches(rid, "ready_to_complete")
        gate_shows(s, rid, f"✗ Cutover window opens at {at:%Y-%m-%d %H:%M} UTC")
        assert "The cutover gate is closed" in stale_complete(s, rid)

        clock.offset = timedelta(hours=1, minutes=40).total_seconds()  # 20 minutes before the window
        reminder = reply_with(s, rid, "The cutover window opens at")
        assert "(in 20 min)" in reminder["text"] or "(in 19 min)" in reminder["text"]
        assert f"<@{SOURCE_OWNER}>" in reminder["text"] and f"<@{TARGET_OWNER}>" in reminder["text"]
        assert s.state(rid) == "ready_to_complete"

        clock.offset = timedelta(hours=2, minutes=1).total_seconds()
        checklist = reply_with(s, rid, "The cutover window is open")
        assert "Stop writes on the source" in checklist["text"] and "no sessions remain" in checklist["text"]
        opened = reply_with(s, rid, "The cutover gate is open")
        assert buttons(opened) == ["complete"]
        gate_shows(s, rid, "✓ Cutover window open since")
        assert s.driver.click(TARGET_OWNER, opened, "complete").status == 200
        s.reaches(rid, "succeeded")


def test_a_timed_start_is_sent_as_documented(tmp_path: Path) -> None:
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with story(tmp_path, MovableClock(), {"hold_minutes": 0, "compare": "off"}) as s:
        rid = s.open(inline(start_at=start.isoformat(), read_only_target="yes"))
        plan = str(s.message(rid)["blocks"])
        assert "DTS starts the task at" in plan and "read-only while DTS migrates" in plan
        s.approve(rid)
        s.reaches(rid, "running", "ready_to_complete")
        [modify] = s.cloud.calls.of("ModifyMigrationJob")[-1:]
        beijing = start.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
        assert modify.params["RunMode"] == "timed" and modify.params["ExpectRunTime"] == beijing
        assert modify.params["MigrateOption"]["IsDstReadOnly"] is True


def test_the_reminder_comes_while_dts_still_migrates(tmp_path: Path) -> None:
    clock = MovableClock()
    start = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    at = start + timedelta(hours=3)
    with story(tmp_path, clock, {"hold_minutes": 0, "compare": "off", "reminder_minutes": 30}) as s:
        rid = s.open(inline(start_at=start.isoformat(), cutover_at=at.isoformat()))
        s.approve(rid)
        s.reaches(rid, "running")  # the timed task waits in readyRun for its start
        clock.offset = timedelta(hours=3, minutes=10).total_seconds()
        reminder = reply_with(s, rid, "The cutover window opens at")
        assert f"<@{SOURCE_OWNER}>" in reminder["text"] and s.state(rid) == "running"
        assert "The cutover window is open" not in s.thread_text(rid)
