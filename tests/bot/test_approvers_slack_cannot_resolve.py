"""Approvers Slack cannot resolve now (an outage of usergroups.users.list or users.lookupByEmail, a missing
users:read.email scope): reminders wait and are delivered once Slack answers, a refusal costs one lookup a
minute rather than one per Home opening, and a click is told to try again rather than refused. Through the real
Bolt app, the outbox and the Slack emulator (tests/support/harness.py); the directory's clock is moved, never
slept on. (Reminders and the Home in each reader's language: tests/bot/test_languages.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.directory import RESOLVED_SECONDS
from core.reminders import queue_reminders
from sandbox.waiting import eventually
from tests.support.harness import Bot, running_bot
from tests.support.workspace import (
    GROUP_MEMBER,
    SOURCE_OWNER,
    STRANGER,
    TARGET_OWNER,
    bot_settings,
)

DUE = timedelta(hours=72 - 24, minutes=1)
"""Defaults: approval_expiry_hours 72, approval_reminder_hours 24."""
SAM = "sam@dtsbot-sandbox.example"
"""SOURCE_OWNER's profile e-mail in the emulator's workspace."""


def dms(bot: Bot, user: str) -> list[str]:
    return [m["text"] for m in bot.slack.direct_messages(user)]


def delivered_to(bot: Bot, user: str) -> list[str]:
    """Deliver what is due, then `user`'s DMs."""
    bot.notifier.flush()
    return dms(bot, user)


def test_a_slack_outage_during_the_reminder_fan_out_loses_no_group_members_reminder(bot: Bot) -> None:
    """A 5xx of usergroups.users.list while a side's reminder fans out must delay the group's DMs, not drop them
    (the notifier promises "an outage delays notices, never loses them")."""
    request_id = bot.create()
    bot.posted(request_id)
    bot.directory_clock.advance(RESOLVED_SECONDS)  # what opening the request resolved has expired: Slack is asked
    outage = bot.slack.faults.server_error(method="usergroups.users.list", count=3)  # outlasts slack_sdk's 2 retries
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    bot.notifier.flush()  # the target side's reminder fans out while Slack answers 500
    assert outage.remaining == 0, "the outage was hit by the fan-out"
    assert dms(bot, TARGET_OWNER) == []  # the side's fan-out waits for Slack as a whole
    # Slack is back: the owner named by ID and the group member (S0TGTOWNERS) both get the reminder
    eventually(lambda: delivered_to(bot, GROUP_MEMBER), what="the group member's reminder after the outage")
    assert len(dms(bot, TARGET_OWNER)) == 1


@pytest.fixture
def email_bot(slack: Any, db: Any) -> Any:
    """The source account's approver given by e-mail address (as the README allows), the rest as usual."""
    url = db.url.render_as_string(hide_password=False)
    settings = bot_settings(slack.base_url, url)
    source = settings.accounts[0].model_copy(update={"approvers": [SAM]})
    settings = settings.model_copy(update={"accounts": [source, settings.accounts[1]]})
    with running_bot(slack, db, settings) as running:
        yield running


def test_a_slack_outage_during_the_reminder_fan_out_loses_no_email_approvers_reminder(email_bot: Bot) -> None:
    """Same for an approver given by e-mail: a 5xx of users.lookupByEmail during the fan-out must not drop it."""
    bot = email_bot
    request_id = bot.create()
    bot.posted(request_id)
    bot.directory_clock.advance(RESOLVED_SECONDS)
    outage = bot.slack.faults.server_error(method="users.lookupByEmail", count=3)
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    bot.notifier.flush()
    assert outage.remaining == 0, "the outage was hit by the fan-out"
    eventually(lambda: delivered_to(bot, SOURCE_OWNER), timeout=5,
               what="the e-mail approver's reminder after the outage")


def test_a_reminder_sent_before_the_missing_scope_is_granted_is_not_lost(email_bot: Bot) -> None:
    """The operator forgot users:read.email: the reminder fan-out finds nobody behind the address. Once the
    scope is granted (the app reinstalled), the pending reminder must still reach the approver."""
    bot = email_bot
    scopes = {"commands", "chat:write", "users:read", "usergroups:read", "channels:read", "im:write"}
    bot.slack.workspace.scopes = scopes
    request_id = bot.create()
    bot.posted(request_id)
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    bot.notifier.flush()
    assert [c.response.get("error") for c in bot.slack.calls if c.method == "users.lookupByEmail"][:1] == [
        "missing_scope"]
    bot.slack.workspace.scopes = None  # the operator adds the scope and reinstalls
    bot.directory_clock.advance(RESOLVED_SECONDS)  # the remembered refusal expires: Slack is asked again
    eventually(lambda: delivered_to(bot, SOURCE_OWNER), timeout=5,
               what="the e-mail approver's reminder once the scope is granted")


def test_control_an_email_approver_is_reminded_when_slack_is_well(email_bot: Bot) -> None:
    """Control for the two tests above: without an outage the address resolves and the reminder arrives."""
    bot = email_bot
    request_id = bot.create()
    bot.posted(request_id)
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    assert eventually(lambda: delivered_to(bot, SOURCE_OWNER), what="the e-mail approver's reminder") == [
        f"Reminder: {request_id} waits for your approval of the source side"]


def lookups(bot: Bot) -> int:
    return sum(c.method == "users.lookupByEmail" for c in bot.slack.calls)


def open_home(bot: Bot, user: str) -> dict:
    before = bot.slack.home(user)
    assert bot.driver.open_home(user).status == 200
    return bot.slack.wait_for(lambda: (h := bot.slack.home(user)) and h != before and h)


@pytest.mark.parametrize("misconfigured", ["unknown address", "missing scope"])
def test_an_unresolvable_approver_address_is_not_asked_of_slack_on_every_home(email_bot: Bot,
                                                                               misconfigured: str) -> None:
    """An address Slack does not know is asked again after a minute at most (bot/directory.py). A missing
    users:read.email scope is as permanent until the operator reinstalls the app, so it should be remembered too,
    not cost a users.lookupByEmail per waiting request on every Home opening, click and notice (Tier 3 method)."""
    bot = email_bot
    if misconfigured == "missing scope":
        bot.slack.workspace.scopes = {"commands", "chat:write", "users:read", "usergroups:read", "channels:read"}
    else:
        bot.slack.workspace.emails[SOURCE_OWNER] = "sam.old@dtsbot-sandbox.example"  # sam@ is nobody's now
    request_id = bot.create()
    bot.posted(request_id)
    before = lookups(bot)
    for _ in range(3):
        open_home(bot, STRANGER)
    assert lookups(bot) - before <= 1, f"{lookups(bot) - before} users.lookupByEmail calls for 3 Home openings"


def test_a_slack_hiccup_does_not_tell_an_email_approver_they_are_not_one(email_bot: Bot) -> None:
    """users.lookupByEmail answers 500 (past slack_sdk's retries) when Sam, the source approver by address, clicks
    approve: Sam must not be told (and the audit must not record) that only the approvers may approve, naming
    Sam's own address; a "Slack did not answer, try again" is the truth."""
    bot = email_bot
    request_id = bot.create()
    message = bot.posted(request_id)
    # the click reaches a replica that has not resolved the address yet (just restarted, or the other one)
    with running_bot(bot.slack, bot.db, bot.settings) as replica:
        bot.slack.faults.server_error(method="users.lookupByEmail", count=3)
        reply = replica.click(SOURCE_OWNER, message, "approve_source")["text"]
        assert "Slack did not answer" in reply and "try again" in reply, reply
        assert SAM not in reply, reply
        assert bot.refusals(request_id) == [], bot.refusals(request_id)
        assert bot.approvals(request_id) == []
        # Slack answers again: the same click approves
        again = replica.click(SOURCE_OWNER, message, "approve_source")["text"]
    assert "Approved the source side" in again, again
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER)]
