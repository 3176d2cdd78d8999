"""Live control of a running migration through `dtsbot serve`'s wiring (the real Bolt app over signed HTTP, the
scheduler with the real cloud steps, the Tencent Cloud sandbox): *Pause* and *Continue* round trips with the
DumperResumeCtrl warning, a pause made outside Slack, cancel from pause, and *Throttle*."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.models import Job, dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from storage import repository
from storage.db import session_scope
from tests.support.commands import INLINE
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import (
    CHANNEL,
    REQUESTER,
    SOURCE_OWNER,
    SOURCE_UIN,
    STRANGER,
    TARGET_OWNER,
    USERGROUPS,
    USERS,
    serve_settings,
)


@pytest.fixture
def story(tmp_path) -> Iterator[Serving]:
    """`dtsbot serve` on the sandboxes; the source instance's full load never ends by itself (a stall)."""
    with SlackEmulator(users=USERS, usergroups=USERGROUPS) as slack, \
            TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        cloud.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001").fail_checks.append("stall")
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'control.db'}")
        with serving(settings, slack, cloud) as running:
            yield running


def the_job(story: Serving, request_id: str) -> Job:
    backend = dts_backend(story.cloud.world)
    return eventually(lambda: next((j for j in list(backend.jobs.values())
                                    if j.tags.get("dtsbot-request") == request_id), None), WAIT, "the DTS task")


def the_facts(story: Serving, request_id: str):
    with session_scope(story.runtime.db) as session:
        return repository.get_request(session, request_id).facts


def buttons_of(message: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def notice_with(story: Serving, request_id: str, text: str) -> dict:
    return story.slack.wait_for(lambda: next((r for r in story.slack.thread(CHANNEL, story.message(request_id)["ts"])
                                              if text in r.get("text", "")), None), timeout=WAIT)


def message_with(story: Serving, request_id: str, action_id: str) -> dict:
    """The request message once it shows the button `action_id`."""
    def shown() -> dict | None:
        message = story.message(request_id)
        return message if action_id in buttons_of(message) else None
    return story.slack.wait_for(shown, timeout=WAIT)


def click(story: Serving, user: str, message: dict, action_id: str) -> str:
    count = len(story.slack.ephemerals(user))
    assert story.driver.click(user, message, action_id).status == 200
    return story.slack.wait_for(lambda: story.slack.ephemerals(user)[count:], timeout=WAIT)[0]["text"]


def test_pause_and_continue_round_trip_with_the_restart_warning(story: Serving) -> None:
    def not_resumable(params: dict) -> None:
        dts_backend(story.cloud.world).jobs[params["JobId"]].dumper_resumable = False
    story.cloud.hooks.before("StartMigrateJob", not_resumable, service="dts")
    rid = story.open(f"{INLINE} migrate_type=fullAndIncrement")
    story.approve(rid)
    story.reaches(rid, "running")
    message = message_with(story, rid, "pause")
    assert set(buttons_of(message)) == {"pause", "throttle", "cancel"}
    message = story.slack.wait_for(lambda: next((m for m in [story.message(rid)] if "starts over" in str(
        buttons_of(m).get("pause", {}).get("confirm"))), None), timeout=WAIT)  # warned before the click

    assert "Only an approver" in click(story, STRANGER, message, "pause")
    assert "Pause of" in click(story, SOURCE_OWNER, message, "pause")  # either side's approvers
    story.reaches(rid, "paused")
    job = the_job(story, rid)
    assert job.status(story.cloud.world.clock.now()) == "manualPaused"
    assert f"<@{SOURCE_OWNER}>" in notice_with(story, rid, "Pause requested")["text"]
    assert "*starts over*" in notice_with(story, rid, "is paused (`manualPaused`)")["text"]
    assert len(story.cloud.calls.of("PauseMigrateJob")) == 1

    paused = message_with(story, rid, "continue")
    assert set(buttons_of(paused)) == {"continue", "cancel"}
    assert "Continue of" in click(story, TARGET_OWNER, paused, "continue")
    story.reaches(rid, "running")
    notice_with(story, rid, "runs again (`running`)")
    assert len(story.cloud.calls.of("ContinueMigrateJob")) == 1


def test_a_pause_outside_slack_shows_continue_and_cancel_still_works(story: Serving) -> None:
    rid = story.open(f"{INLINE} migrate_type=fullAndIncrement")
    story.approve(rid)
    story.reaches(rid, "running")
    job = the_job(story, rid)
    eventually(lambda: job.status(story.cloud.world.clock.now()) == "running", WAIT, "DTS running")
    with story.cloud.world.lock:
        dts_backend(story.cloud.world).pause(job)  # in the DTS console
    story.reaches(rid, "paused")
    outside = notice_with(story, rid, "paused outside Slack")
    assert "DTS console" not in outside["text"]
    assert list(buttons_of(outside)) == ["continue"]
    assert "Continue of" in click(story, SOURCE_OWNER, outside, "continue")
    story.reaches(rid, "running")

    eventually(lambda: job.status(story.cloud.world.clock.now()) == "running", WAIT, "DTS running again")
    assert "Pause of" in click(story, TARGET_OWNER, message_with(story, rid, "pause"), "pause")
    story.reaches(rid, "paused")
    count = len(story.slack.ephemerals(TARGET_OWNER))
    assert story.driver.slash(TARGET_OWNER, f"cancel {rid}").status == 200
    confirm = story.slack.wait_for(lambda: story.slack.ephemerals(TARGET_OWNER)[count:], timeout=WAIT)[0]
    assert story.driver.click(TARGET_OWNER, confirm, "cancel").status == 200
    story.reaches(rid, "cancelled")
    assert len(story.cloud.calls.of("StopMigrateJob")) == 1
    assert REQUESTER  # the requester is no approver: the pause and cancel above were the approvers'


def test_throttling_changes_the_tasks_limits_and_the_thread_records_it(story: Serving) -> None:
    rid = story.open(f"{INLINE} migrate_type=fullAndIncrement")
    story.approve(rid)
    story.reaches(rid, "running")
    job = the_job(story, rid)
    message = message_with(story, rid, "throttle")
    eventually(lambda: story.state(rid) == "running" and the_facts(story, rid).rate_limit, WAIT, "limits read")

    assert "Only an approver" in click(story, STRANGER, message, "throttle")
    assert story.driver.click(SOURCE_OWNER, message, "throttle").status == 200  # the source owner protects the source
    view = story.slack.wait_for(lambda: story.slack.views, timeout=WAIT)[-1]
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert fields["DumpThread"] == "8" and fields["SinkerThread"] == "16"  # RateLimitOption, as DTS reported it

    refused = story.driver.submit_view(SOURCE_OWNER, view, {"DumpThread": "17", "SinkerThread": "0"})
    assert refused.body["response_action"] == "errors"
    assert set(refused.body["errors"]) == {"DumpThread", "SinkerThread"}
    assert "DumpThread must be a whole number from 1 to 16" in refused.body["errors"]["DumpThread"]
    assert story.state(rid) == "running" and job.rate_limit == {}

    assert story.driver.submit_view(SOURCE_OWNER, view, {"DumpThread": "2", "DumpRps": "5000"}).status == 200
    story.reaches(rid, "throttling", "running")
    eventually(lambda: job.rate_limit.get("DumpThread") == 2, WAIT, "the sandbox's limits")
    assert job.rate_limit == {"DumpThread": 2, "DumpRps": 5000, "LoadThread": 8, "LoadRps": 100_000,
                              "SinkerThread": 16}
    asked = notice_with(story, rid, "Rate limits change requested")
    assert "DumpThread 8 → 2, DumpRps 100000 → 5000" in asked["text"] and f"<@{SOURCE_OWNER}>" in asked["text"]
    notice_with(story, rid, "now runs with these rate limits: DumpThread 2, DumpRps 5000")
    story.reaches(rid, "running")
    assert len(story.cloud.calls.of("ModifyMigrateRateLimit")) == 1
    with story.cloud.world.lock:
        dts_backend(story.cloud.world).stall(job, False)  # the full load moves again, at the throttled pace
    assert job.run.speed == pytest.approx(0.05)  # 5000 of the default 100000 rows/s: the full load slows
