"""Reminders before expiry, through the real Bolt app, the outbox and the Slack emulator: each undecided side's
approvers get one DM at `approval_reminder_hours` before expiry, never after that side decided; the requester is
told by DM when the request expires. The clock is passed in: tests move it, nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

from core.reminders import queue_reminders
from tests.support.harness import Bot
from tests.support.workspace import GROUP_MEMBER, REQUESTER, SOURCE_OWNER, TARGET_OWNER

DUE = timedelta(hours=72 - 24, minutes=1)
"""Defaults: approval_expiry_hours 72, approval_reminder_hours 24."""


def dms(bot: Bot, user: str) -> list[str]:
    return [m["text"] for m in bot.slack.direct_messages(user)]


def deliver(bot: Bot) -> None:
    """Deliver the outbox: a side's reminder, then the one DM per approver it fans out into."""
    bot.notifier.flush()
    bot.notifier.flush()


def remind(bot: Bot, request_id: str, after: timedelta) -> list[tuple[str, str]]:
    queued = queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + after)
    deliver(bot)
    return queued


def test_each_undecided_approver_is_reminded_once(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    assert remind(bot, request_id, DUE - timedelta(minutes=2)) == []  # not due yet
    assert remind(bot, request_id, DUE) == [(request_id, "source"), (request_id, "target")]
    assert dms(bot, SOURCE_OWNER) == [f"Reminder: {request_id} waits for your approval of the source side"]
    assert dms(bot, TARGET_OWNER) == [f"Reminder: {request_id} waits for your approval of the target side"]
    assert dms(bot, GROUP_MEMBER) == dms(bot, TARGET_OWNER)  # through the user group S0TGTOWNERS
    assert dms(bot, REQUESTER) == []
    reminder = bot.slack.direct_messages(SOURCE_OWNER)[0]["blocks"][0]["text"]["text"]
    assert "expires <!date^" in reminder and "/archives/C0DTSBOT01/p" in reminder
    # later sweeps (a restart, another replica) send nothing more
    assert remind(bot, request_id, DUE + timedelta(hours=1)) == []
    assert remind(bot, request_id, DUE + timedelta(hours=2)) == []
    assert len(dms(bot, SOURCE_OWNER)) == len(dms(bot, TARGET_OWNER)) == 1


def test_a_side_that_decided_is_not_reminded(bot: Bot) -> None:
    request_id = bot.create()
    bot.click(SOURCE_OWNER, bot.posted(request_id), "approve_source")
    assert remind(bot, request_id, DUE) == [(request_id, "target")]
    assert dms(bot, SOURCE_OWNER) == []
    assert len(dms(bot, TARGET_OWNER)) == 1


def test_a_decision_between_queueing_and_delivery_sends_nothing(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    queued = queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    assert queued == [(request_id, "source"), (request_id, "target")]
    bot.click(TARGET_OWNER, message, "approve_target")  # before the notifier delivers the reminders
    deliver(bot)
    assert dms(bot, TARGET_OWNER) == [] and dms(bot, GROUP_MEMBER) == []
    assert len(dms(bot, SOURCE_OWNER)) == 1


def test_the_requester_is_told_when_the_request_expires(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    created = bot.request(request_id).created_at
    assert bot.requests.expire_overdue(now=created + timedelta(hours=71)) == []
    assert bot.requests.expire_overdue(now=created + timedelta(hours=72, minutes=1)) == [request_id]
    deliver(bot)
    assert dms(bot, REQUESTER) == [f"Your request {request_id} expired"]
    assert "not approved by both sides within 72 hours" in str(bot.slack.direct_messages(REQUESTER)[0]["blocks"])
    assert remind(bot, request_id, DUE + timedelta(hours=30)) == []  # an expired request is not reminded
    assert [m["text"] for m in bot.slack.thread("C0DTSBOT01", message["ts"])][-1].startswith("Expired")


def test_a_decision_after_the_fan_out_stops_the_remaining_dms(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    bot.notifier.flush()  # each side's reminder becomes one notice per approver, none sent yet
    assert dms(bot, TARGET_OWNER) == [] and dms(bot, GROUP_MEMBER) == []
    bot.click(GROUP_MEMBER, message, "approve_target")
    bot.notifier.flush()
    assert dms(bot, TARGET_OWNER) == [] and dms(bot, GROUP_MEMBER) == []
    assert len(dms(bot, SOURCE_OWNER)) == 1


def test_an_approver_slack_says_is_gone_does_not_hold_the_others(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    bot.slack.workspace.deactivate(TARGET_OWNER)
    assert remind(bot, request_id, DUE) == [(request_id, "source"), (request_id, "target")]
    assert dms(bot, TARGET_OWNER) == [] and len(dms(bot, GROUP_MEMBER)) == 1
    refused = [c.response["error"] for c in bot.slack.calls
               if c.method == "chat.postMessage" and c.args.get("channel") == TARGET_OWNER]
    assert refused == ["user_disabled"]  # tried once, not retried


def test_reminders_can_be_switched_off(bot: Bot) -> None:
    settings = bot.settings.model_copy(update={"scheduler": bot.settings.scheduler.model_copy(
        update={"approval_reminder_hours": 0})})
    request_id = bot.create()
    bot.posted(request_id)
    assert queue_reminders(bot.db, settings, now=bot.request(request_id).created_at + timedelta(hours=71)) == []
