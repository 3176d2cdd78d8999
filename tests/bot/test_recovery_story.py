"""Errors and recovery through `dtsbot serve`'s wiring (the real Bolt app over signed HTTP, the scheduler with the
real cloud steps, the Tencent Cloud sandbox): a low balance is diagnosed at once, never retried, and reaches the
target approvers in the thread and by DM; a task DTS could not recover within its AutoRetryTimeRangeMinutes comes
back to Running through a target approver's *Retry task* click."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.exceptions import TencentCloudError
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from tests.support.commands import INLINE
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import (
    CHANNEL,
    GROUP_MEMBER,
    REQUESTER,
    SOURCE_OWNER,
    TARGET_OWNER,
    TARGET_OWNERS_GROUP,
    TARGET_UIN,
    USERGROUPS,
    USERS,
    serve_settings,
)

RETRY_MINUTES = 5
"""The shortest window DTS documents: 300 sandbox seconds, 3 real seconds on the sandbox clock at speed 100."""


@pytest.fixture
def story(tmp_path) -> Iterator[Serving]:
    """`dtsbot serve` on the sandboxes; the target account's approvers are a person and a user group."""
    with SlackEmulator(users=USERS, usergroups=USERGROUPS) as slack, \
            TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'recovery.db'}")
        accounts = [a.model_copy(update={"approvers": [TARGET_OWNER, TARGET_OWNERS_GROUP]})
                    if a.name == "analytics" else a for a in settings.accounts]
        settings = settings.model_copy(update={
            "accounts": accounts, "dts": settings.dts.model_copy(update={"auto_retry_minutes": RETRY_MINUTES})})
        with serving(settings, slack, cloud) as running:
            yield running


def dm_texts(story: Serving, user: str) -> list[str]:
    return [str(m.get("blocks")) for m in story.slack.direct_messages(user)]


def buttons_of(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def notice_with(story: Serving, request_id: str, text: str) -> dict:
    return story.slack.wait_for(lambda: next((r for r in story.slack.thread(CHANNEL, story.message(request_id)["ts"])
                                              if text in r.get("text", "")), None), timeout=WAIT)


@pytest.mark.parametrize("code", ["OperationDenied.NotEnoughMoneyError", "InternalError.NotEnoughMoneyError"])
def test_a_low_balance_reaches_the_target_approvers_and_is_not_retried(story: Serving, code: str) -> None:
    if code == "OperationDenied.NotEnoughMoneyError":
        story.cloud.world.account(TARGET_UIN).balance = 0  # the sandbox's own answer to a purchase
    else:
        def no_money(_params: dict) -> None:
            raise TencentCloudError(code, "user balance is not enough")
        story.cloud.hooks.before("CreateMigrationService", no_money, service="dts", count=None)
    rid = story.open(INLINE)
    story.approve(rid)
    story.reaches(rid, "failed")
    assert len(story.cloud.calls.of("CreateMigrationService")) == 1  # diagnosed at once, never retried

    failed = notice_with(story, rid, code)
    assert f"The balance of the target account analytics ({TARGET_UIN}) is too low" in failed["text"]
    assert f"<@{TARGET_OWNER}>" in failed["text"] and f"<@{GROUP_MEMBER}>" in failed["text"]  # the group, resolved
    assert f"<@{SOURCE_OWNER}>" not in failed["text"] and f"<@{REQUESTER}>" not in failed["text"]
    for approver in (TARGET_OWNER, GROUP_MEMBER):
        dm = eventually(lambda a=approver: dm_texts(story, a), WAIT, f"the DM to {approver}")
        assert len(dm) == 1 and rid in dm[0] and f"analytics ({TARGET_UIN})" in dm[0] and "Top up" in dm[0]
    assert dm_texts(story, SOURCE_OWNER) == [] and dm_texts(story, REQUESTER) == []


def test_retry_task_brings_a_task_past_its_auto_retry_window_back_to_running(story: Serving) -> None:
    rid = story.open(f"{INLINE} migrate_type=fullAndIncrement")
    story.approve(rid)
    story.reaches(rid, "running", "ready_to_complete")
    plan = str(story.message(rid)["blocks"])
    assert f"retries the task by itself for up to {RETRY_MINUTES} minutes" in plan
    backend = dts_backend(story.cloud.world)
    [job] = [j for j in backend.jobs.values() if j.tags.get("dtsbot-request") == rid]
    assert job.config.auto_retry_minutes == RETRY_MINUTES
    with story.cloud.world.lock:
        backend.put(job, "resumableErr", then=[])  # the cause persists: DTS gives up when its window ends
    notice_with(story, rid, "it retries by itself until")
    story.reaches(rid, "failed")
    failed = notice_with(story, rid, "`error`")
    assert buttons_of(failed) == ["retry_task"]
    buttons = story.slack.wait_for(lambda: next((ids for ids in [buttons_of(story.message(rid))]
                                                 if "retry_task" in ids), None),
                                   timeout=WAIT)  # the message is brought up to the notice right after it
    assert buttons == ["retry_task", "cancel"]

    count = len(story.slack.ephemerals(REQUESTER))
    assert story.driver.click(REQUESTER, failed, "retry_task").status == 200  # not a target approver
    refusal = story.slack.wait_for(lambda: story.slack.ephemerals(REQUESTER)[count:], timeout=WAIT)[0]
    assert "Only the approvers of analytics" in refusal["text"] and story.state(rid) == "failed"

    assert story.driver.click(TARGET_OWNER, failed, "retry_task").status == 200
    story.reaches(rid, "running", "ready_to_complete")
    assert job.resume_options == ["normal"] and len(story.cloud.calls.of("ResumeMigrateJob")) == 1
    thread = story.thread_text(rid)
    assert "ResumeMigrateJob with ResumeOption `normal`" in thread
