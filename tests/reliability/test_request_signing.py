"""Only Slack may talk to the bot: unsigned, forged, stale and replayed requests get 401 and change nothing.

A replay is the very bytes and signature of an accepted request sent again. More than 5 minutes later it is
stale and refused. Within 5 minutes Slack's scheme accepts it (its own retries look the same), so idempotence
covers it: the replay is answered and changes nothing.
"""

from __future__ import annotations

import pytest

from tests.support.commands import INLINE
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER, STRANGER, TARGET_OWNER

BROKEN = [{"signed": False}, {"forged": True}, {"skew_seconds": -600}, {"skew_seconds": 600}]  # 10 min off


@pytest.mark.parametrize("delivery", BROKEN)
def test_broken_signatures_are_refused_and_change_nothing(bot: Bot, delivery: dict) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    counts, calls = bot.counts(), len(bot.slack.calls)
    assert bot.driver.slash(REQUESTER, INLINE, **delivery).status == 401
    assert bot.driver.click(SOURCE_OWNER, message, "approve_source", **delivery).status == 401
    assert bot.counts() == counts and len(bot.slack.calls) == calls


def test_a_replay_after_five_minutes_is_stale_and_within_them_changes_nothing(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    assert bot.driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    bot.slack.wait_for(lambda: bot.counts()["Approval"] == 1)
    original = bot.driver.sent[-1]
    counts = bot.counts()
    stale = str(int(original.timestamp) - 600)  # the captured request, seen 10 minutes after it was signed
    assert bot.driver.again(original, timestamp=stale).status == 401
    assert bot.counts() == counts
    answers = len(bot.slack.ephemerals(SOURCE_OWNER))
    assert bot.driver.again(original, timestamp=original.timestamp).status == 200
    bot.slack.wait_for(lambda: len(bot.slack.ephemerals(SOURCE_OWNER)) > answers)  # the replay was handled
    assert bot.counts()["Approval"] == 1 and bot.counts()["MigrationRequest"] == 1


@pytest.mark.parametrize(("user", "action", "why"), [
    (STRANGER, "approve_source", "non-approver"),
    (TARGET_OWNER, "approve_source", "the wrong side"),
    (SOURCE_OWNER, "approve_target", "the wrong side"),
])
def test_refused_approvals_are_audited_and_change_nothing(bot: Bot, user: str, action: str,
                                                          why: str) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    assert bot.driver.click(user, message, action).status == 200
    bot.slack.wait_for(lambda: bot.all_refusals())
    assert bot.all_refusals() == [(user, action, request_id)], why
    assert bot.counts()["Approval"] == 0 and bot.kicked == []


def test_self_approval_is_refused_and_audited(bot: Bot) -> None:
    request_id = bot.create(user=SOURCE_OWNER)  # the source owner asks, then approves their own request
    message = bot.posted(request_id)
    assert bot.driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    bot.slack.wait_for(lambda: bot.all_refusals())
    assert bot.all_refusals() == [(SOURCE_OWNER, "approve_source", request_id)]
    assert bot.counts()["Approval"] == 0
