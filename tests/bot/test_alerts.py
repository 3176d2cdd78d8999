"""Alerts to a person through `dtsbot serve`'s wiring on the emulators, with two replicas on one database and a
restart: a stalled full load and a rising lag each bring exactly one DM per approver per episode and one "back to
normal"; a throttled task's stall reaches the source approvers too; *Snooze* in the DM silences the DMs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlmodel import select

from core.config import AlertSettings, RateLimitSettings, Settings
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.models import Job, dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from storage.db import session_scope
from storage.models import AuditEntry
from tests.support.commands import INLINE
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import (
    CHANNEL,
    REQUESTER,
    SOURCE_OWNER,
    SOURCE_UIN,
    TARGET_OWNER,
    USERGROUPS,
    USERS,
    serve_settings,
)

ALERTS = AlertSettings(lag_seconds=60, lag_minutes=0.02, stall_minutes=0.02, snooze_hours=4)
"""1.2 s of real time for each condition to hold: the sandbox clock runs 100 times faster."""


class Replicas:
    """Two `dtsbot serve` replicas on one database, Slack and cloud; `restart(i)` stops one and starts another."""

    def __init__(self, settings: Settings, slack: SlackEmulator, cloud: TencentCloudSandbox) -> None:
        self.settings, self.slack, self.cloud = settings, slack, cloud
        self.stacks = [ExitStack(), ExitStack()]
        self.replicas = [stack.enter_context(serving(settings, slack, cloud)) for stack in self.stacks]

    @property
    def first(self) -> Serving:
        return self.replicas[0]

    def restart(self, index: int) -> None:
        self.stacks[index].close()
        self.stacks[index] = ExitStack()
        self.replicas[index] = self.stacks[index].enter_context(serving(self.settings, self.slack, self.cloud))

    def close(self) -> None:
        for stack in self.stacks:
            stack.close()


def replicas(tmp_path, marker: str, rate_limited: bool) -> Iterator[Replicas]:
    with SlackEmulator(users=USERS, usergroups=USERGROUPS) as slack, \
            TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        cloud.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001").fail_checks.append(marker)
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'alerts.db'}")
        accounts = [a.model_copy(update={"rate_limit": RateLimitSettings(dump_thread=4)})
                    if a.name == "shop-prod" and rate_limited else a for a in settings.accounts]
        both = Replicas(settings.model_copy(update={"alerts": ALERTS, "accounts": accounts}), slack, cloud)
        try:
            yield both
        finally:
            both.close()


@pytest.fixture
def stalling(tmp_path) -> Iterator[Replicas]:
    """The source's full load stops moving once started; the source account limits the export (DumpThread 4)."""
    yield from replicas(tmp_path, "stall", rate_limited=True)


@pytest.fixture
def lagging(tmp_path) -> Iterator[Replicas]:
    """The task's lag rises by a second every sandbox second from its start."""
    yield from replicas(tmp_path, "lag", rate_limited=False)


def the_job(story: Serving, request_id: str) -> Job:
    backend = dts_backend(story.cloud.world)
    return eventually(lambda: next((j for j in list(backend.jobs.values())
                                    if j.tags.get("dtsbot-request") == request_id), None), WAIT, "the DTS task")


def dms(story: Serving, user: str, request_id: str, text: str) -> list[dict]:
    return [m for m in story.slack.direct_messages(user) if request_id in m.get("text", "") and text in m["text"]]


def thread_with(story: Serving, request_id: str, text: str) -> list[dict]:
    return [r for r in story.slack.thread(CHANNEL, story.message(request_id)["ts"]) if text in r.get("text", "")]


def cycles_pass(both: Replicas, count: int = 4) -> None:
    """Wait until each running replica has listed the tasks `count` more times (DescribeMigrationJobs)."""
    calls = len(both.cloud.calls.of("DescribeMigrationJobs"))
    eventually(lambda: len(both.cloud.calls.of("DescribeMigrationJobs")) >= calls + 2 * count, WAIT,
               "more watch cycles")


def exactly_one(both: Replicas, request_id: str, people: list[str], dm_text: str, thread_text: str) -> None:
    story = both.first
    for person in people:
        eventually(lambda p=person: dms(story, p, request_id, dm_text), WAIT, f"the DM to {person}")
    eventually(lambda: thread_with(story, request_id, thread_text), WAIT, "the thread's notice")
    cycles_pass(both)
    for person in people:
        assert len(dms(story, person, request_id, dm_text)) == 1, person
    assert len(thread_with(story, request_id, thread_text)) == 1


def test_a_stalled_full_load_alerts_each_approver_once_across_replicas_and_a_restart(stalling: Replicas) -> None:
    story = stalling.first
    rid = story.open(f"{INLINE} migrate_type=fullAndIncrement")
    story.approve(rid)
    story.reaches(rid, "running")
    job = the_job(story, rid)
    assert job.rate_limit == {"DumpThread": 4}  # the source account's rate_limit, sent at configure time
    # a throttled task's stall may be the limits': the source approvers hear it too
    exactly_one(stalling, rid, [TARGET_OWNER, SOURCE_OWNER], "has not moved", "*Stalled*")
    assert dms(story, REQUESTER, rid, "has not moved") == []

    stalling.restart(0)
    story = stalling.first
    cycles_pass(stalling)
    assert len(dms(story, TARGET_OWNER, rid, "has not moved")) == 1

    with story.cloud.world.lock:
        dts_backend(story.cloud.world).stall(job, False)
    exactly_one(stalling, rid, [TARGET_OWNER, SOURCE_OWNER], "back to normal", "*Back to normal*")
    with session_scope(story.runtime.db) as session:
        rows = session.exec(select(AuditEntry.action, AuditEntry.outcome).where(
            AuditEntry.request_id == rid, AuditEntry.step == "alert")).all()
    assert sorted(rows) == [("stall", "cleared"), ("stall", "opened")]


def test_a_rising_lag_alerts_the_target_approvers_once_and_snooze_silences_the_dms(lagging: Replicas) -> None:
    story = lagging.first
    rid = story.open(f"{INLINE} migrate_type=fullAndIncrement")
    story.approve(rid)
    story.reaches(rid, "running", "ready_to_complete")
    job = the_job(story, rid)
    exactly_one(lagging, rid, [TARGET_OWNER], "behind the source", "*Lag alert*")
    assert dms(story, SOURCE_OWNER, rid, "behind") == []  # not throttled: the target's matter

    lagging.restart(1)
    with story.cloud.world.lock:
        dts_backend(story.cloud.world).fall_behind(job, 0)
    exactly_one(lagging, rid, [TARGET_OWNER], "back to normal", "*Back to normal*")

    [alert] = dms(story, TARGET_OWNER, rid, "behind the source")
    count = len(story.slack.ephemerals(TARGET_OWNER))
    assert story.driver.click(TARGET_OWNER, alert, "snooze_alerts").status == 200
    answer = story.slack.wait_for(lambda: story.slack.ephemerals(TARGET_OWNER)[count:], timeout=WAIT)[0]
    assert "snoozed for 4 h" in answer["text"]
    with story.cloud.world.lock:
        dts_backend(story.cloud.world).fall_behind(job, 1.0)  # a second episode while snoozed
    eventually(lambda: len(thread_with(story, rid, "*Lag alert*")) == 2, WAIT, "the second episode in the thread")
    cycles_pass(lagging)
    assert len(dms(story, TARGET_OWNER, rid, "behind the source")) == 1
