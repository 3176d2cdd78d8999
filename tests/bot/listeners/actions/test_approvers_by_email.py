"""Approvers given by e-mail address stand for whoever holds the address now: the Bolt app and the notifier share
one directory whose answers expire after a minute (the test moves its clock), a DM that says the holder is gone
re-resolves the address for the buttons too, and a reminder fanned out while Slack cannot resolve it is
retried, not lost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.directory import RESOLVED_SECONDS
from core.reminders import queue_reminders
from sandbox.waiting import eventually
from storage import outbox
from storage.db import session_scope
from tests.support.harness import Bot
from tests.support.workspace import SOURCE_OWNER, STRANGER

SAM = "sam@dtsbot-sandbox.example"
EMAILS = [SAM, "tara@dtsbot-sandbox.example"]
DUE = timedelta(hours=72 - 24, minutes=1)


@pytest.mark.parametrize("account_overrides", [{"approvers": EMAILS}])
def test_an_approver_whose_address_moved_to_someone_else_can_no_longer_approve(bot: Bot) -> None:
    """Sam (still active) gets a new address; sam@ is given to Stan. The config names the address: once the
    directory's answer expired, Sam may no longer approve and Stan may."""
    request_id = bot.create()  # opening the request resolves every approver address
    message = bot.posted(request_id)
    bot.slack.workspace.emails[SOURCE_OWNER] = "sam.elsewhere@dtsbot-sandbox.example"
    bot.slack.workspace.emails[STRANGER] = SAM
    bot.directory_clock.advance(RESOLVED_SECONDS)
    answer = bot.click(SOURCE_OWNER, message, "approve_source")
    assert "Only the approvers of shop-prod" in answer["text"], answer["text"]
    assert bot.approvals(request_id) == []
    answer = bot.click(STRANGER, message, "approve_source")
    assert "Approved the source side" in answer["text"], answer["text"]
    assert bot.approvals(request_id) == [("source", 1, STRANGER)]


@pytest.mark.parametrize("account_overrides", [{"approvers": EMAILS}])
def test_a_dm_that_says_the_approver_is_gone_reresolves_the_address_for_the_buttons_too(bot: Bot) -> None:
    """Sam is deactivated and sam@ reassigned to Stan. The reminder DM to Sam fails with user_disabled: the
    directory the notifier and the buttons share forgets Sam, so Stan may approve at once (no clock moved)."""
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.slack.workspace.deactivate(SOURCE_OWNER)
    bot.slack.workspace.emails[STRANGER] = SAM
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    bot.notifier.flush()
    bot.notifier.flush()  # the side's reminder, then the DM to Sam that Slack refuses: user_disabled
    assert bot.notifier.directory(SAM) == {STRANGER}  # the notifier re-resolved the address
    answer = bot.click(STRANGER, message, "approve_source")
    assert "Approved the source side" in answer["text"], answer["text"]
    assert bot.approvals(request_id) == [("source", 1, STRANGER)]


def source_reminded(bot: Bot, request_id: str) -> bool:
    bot.notifier.flush()
    texts = [m["text"] for m in bot.slack.direct_messages(SOURCE_OWNER)]
    return f"Reminder: {request_id} waits for your approval of the source side" in texts


@pytest.mark.parametrize("account_overrides", [{"approvers": EMAILS}])
def test_a_reminder_fanned_out_while_slack_cannot_resolve_the_addresses_is_not_lost(bot: Bot) -> None:
    """users.lookupByEmail fails past slack_sdk's retries while the source side's reminder fans out: the notice
    is retried with the notifier's backoff (not marked sent having DMed no one) and reaches Sam once Slack is
    back."""
    request_id = bot.create()
    bot.posted(request_id)
    bot.directory_clock.advance(RESOLVED_SECONDS)  # the addresses resolved on opening expired: asked again
    outage = bot.slack.faults.server_error("users.lookupByEmail", count=3)
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + DUE)
    bot.notifier.flush()
    assert outage.remaining == 0, "the outage was hit by the fan-out"
    assert not source_reminded(bot, request_id)
    with session_scope(bot.db) as session:
        assert outbox.unsent(session, request_id)  # still queued, to be retried
    eventually(lambda: source_reminded(bot, request_id), what="the source reminder after the outage")
    with session_scope(bot.db) as session:
        assert not outbox.unsent(session, request_id)


@pytest.mark.parametrize("account_overrides", [{"approvers": [*EMAILS, "S0TGTOWNERS", "U0TGTOWNER"]}])
def test_a_refusal_names_the_side_never_the_approvers_addresses_or_ids(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    for action, side in (("approve_source", "shop-prod (100000000001) may approve the source side."),
                         ("approve_target", "analytics (100000000002) may approve the target side.")):
        refused = bot.click(STRANGER, message, action)["text"]
        assert refused == f"Only the approvers of {side}"
        assert "@" not in refused and "U0" not in refused and "S0" not in refused
