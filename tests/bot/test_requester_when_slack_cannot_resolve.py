"""The requester's own decisions (cancel, retry, re-verify: "requester or approver") do not depend on who an
approvers' user group or e-mail address stands for: the requester may take them whatever Slack says about it.
When Slack cannot resolve an approvers entry, the requester must not be told "Slack did not answer" (and be
unable to cancel their own request). Likewise an approver named by user ID may reject (an approver of either
side) whatever Slack says about the other side's addresses. Through the real Bolt app and the Slack emulator
(tests/support/harness.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.directory import RESOLVED_SECONDS
from sandbox.waiting import eventually
from storage import outbox, repository
from storage.db import session_scope
from tests.support.harness import Bot, running_bot
from tests.support.workspace import REQUESTER, TARGET_OWNER, bot_settings

TARA = "tara@dtsbot-sandbox.example"
"""An approver of the target side given by e-mail address (as the README allows)."""


def confirm_cancel(bot: Bot, request_id: str) -> dict:
    count = len(bot.slack.ephemerals(REQUESTER))
    bot.driver.slash(REQUESTER, f"cancel {request_id}")
    return bot.ephemeral_after(REQUESTER, count)


def click_cancel(bot: Bot, confirm: dict) -> str:
    """Click the confirmation's Cancel as the requester; the answer: a new ephemeral or the replaced one."""
    count = len(bot.slack.ephemerals(REQUESTER))
    assert bot.driver.click(REQUESTER, confirm, "cancel").status == 200
    return str(bot.slack.wait_for(lambda: bot.slack.ephemerals(REQUESTER)[count:] or [
        e for e in bot.slack.ephemerals(REQUESTER) if e["ts"] == confirm["ts"] and e["text"] != confirm["text"]]))


def test_the_requester_cancels_their_request_while_slack_cannot_resolve_an_approvers_group(bot: Bot) -> None:
    """The target approvers include user group S0TGTOWNERS; usergroups.users.list answers 500 past slack_sdk's
    retries. The requester may cancel whoever is in that group: the cancel must go through."""
    request_id = bot.create()
    bot.posted(request_id)
    confirm = confirm_cancel(bot, request_id)
    bot.directory_clock.advance(RESOLVED_SECONDS)  # what opening the request resolved has expired
    bot.slack.faults.server_error(method="usergroups.users.list", count=3)
    answer = click_cancel(bot, confirm)
    assert "Slack did not answer" not in answer, answer
    eventually(lambda: bot.request(request_id).state == "cancelled", timeout=5,
               what="the requester's cancel")


@pytest.fixture
def email_target_bot(slack: Any, db: Any) -> Any:
    """The target side's approver given by e-mail address, the rest as usual."""
    settings = bot_settings(slack.base_url, db.url.render_as_string(hide_password=False))
    target = settings.accounts[1].model_copy(update={"approvers": [TARA]})
    settings = settings.model_copy(update={"accounts": [settings.accounts[0], target]})
    with running_bot(slack, db, settings) as running:
        yield running


def test_a_missing_scope_does_not_keep_the_requester_from_cancelling(email_target_bot: Bot) -> None:
    """users:read.email is missing (Slack refuses: `missing_scope`, remembered by the directory). Slack did
    answer; the requester, who may cancel whoever the address names, must be able to cancel, not be told
    "Slack did not answer, try again in a minute" on every attempt."""
    bot = email_target_bot
    bot.slack.workspace.scopes = {"commands", "chat:write", "users:read", "usergroups:read", "channels:read"}
    request_id = bot.create()
    bot.posted(request_id)
    for attempt in range(2):
        confirm = confirm_cancel(bot, request_id)
        answer = click_cancel(bot, confirm)
        assert "Slack did not answer" not in answer, (attempt, answer)
        bot.directory_clock.advance(RESOLVED_SECONDS)
    eventually(lambda: bot.request(request_id).state == "cancelled", timeout=5, what="the requester's cancel")


SAM = "sam@dtsbot-sandbox.example"
"""SOURCE_OWNER's profile e-mail in the emulator's workspace."""


@pytest.fixture
def email_source_bot(slack: Any, db: Any) -> Any:
    """The source side's approver given by e-mail address (as the README allows), the rest as usual."""
    settings = bot_settings(slack.base_url, db.url.render_as_string(hide_password=False))
    source = settings.accounts[0].model_copy(update={"approvers": [SAM]})
    settings = settings.model_copy(update={"accounts": [source, settings.accounts[1]]})
    with running_bot(slack, db, settings) as running:
        yield running


def test_a_target_approver_named_by_id_may_reject_while_slack_cannot_resolve_the_source_approvers(
        email_source_bot: Bot) -> None:
    """Reject is for an approver of either side. Tara is a target approver by user ID, which needs no Slack
    answer; users.lookupByEmail (the source side's approver address) answers 500. Tara's reject must open the
    reason form, not be refused with "Slack did not answer" because the source side was asked first; nor wait for
    the source side's lookups and their retries at all, since the form must open within the trigger's 3 s."""
    bot = email_source_bot
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.directory_clock.advance(RESOLVED_SECONDS)
    bot.slack.faults.server_error(method="users.lookupByEmail", count=3)
    count = len(bot.slack.ephemerals(TARGET_OWNER))
    lookups = sum(1 for c in bot.slack.calls if c.method == "users.lookupByEmail")
    assert bot.driver.click(TARGET_OWNER, message, "reject").status == 200
    answer = bot.slack.wait_for(lambda: bot.slack.views or bot.slack.ephemerals(TARGET_OWNER)[count:])
    assert "Slack did not answer" not in str(answer), answer
    assert bot.slack.views and bot.slack.views[0]["callback_id"] == "reject_reason"
    assert sum(1 for c in bot.slack.calls if c.method == "users.lookupByEmail") == lookups  # the ID side decided


@pytest.mark.parametrize(("state", "facts", "action", "form"), [
    ("running", {"dts_status": "running"}, "throttle", "throttle_form"),
    ("ready_to_complete", {"dts_status": "readyComplete", "lag_seconds": 30}, "override_gate", "override_gate"),
], ids=["throttle", "override"])
def test_an_approver_named_by_id_gets_a_control_form_without_waiting_on_slacks_directory(
        email_source_bot: Bot, state: str, facts: dict, action: str, form: str) -> None:
    """Throttle and the gate override open a form like Reject: Tara, a target approver by user ID, gets it at
    once, without a lookup of the source side's approver address (answering 500 here), which could take longer
    than the trigger's 3 s. The submission still checks every rule under the request's lock."""
    bot = email_source_bot
    request_id = bot.create()
    with session_scope(bot.db) as session:
        request = repository.get_request(session, request_id)
        assert request is not None
        repository.update_request(session, request, state=state, facts=request.facts.merged(facts))
        outbox.request_refresh(session, request_id)
    message = eventually(lambda: (m := bot.posted(request_id)) and action in str(m["blocks"]) and m, 30,
                         f"the {action} button")
    bot.directory_clock.advance(RESOLVED_SECONDS)
    bot.slack.faults.server_error(method="users.lookupByEmail", count=3)
    lookups = sum(1 for c in bot.slack.calls if c.method == "users.lookupByEmail")
    count = len(bot.slack.ephemerals(TARGET_OWNER))
    assert bot.driver.click(TARGET_OWNER, message, action).status == 200
    answer = bot.slack.wait_for(lambda: bot.slack.views or bot.slack.ephemerals(TARGET_OWNER)[count:])
    assert bot.slack.views and bot.slack.views[0]["callback_id"] == form, answer
    assert sum(1 for c in bot.slack.calls if c.method == "users.lookupByEmail") == lookups  # the ID side decided
