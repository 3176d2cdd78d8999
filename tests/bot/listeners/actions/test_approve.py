"""Approve (source owner) / Approve (target owner): who may, once per side and plan revision, then approved."""

from __future__ import annotations

import threading

import pytest

from sandbox.waiting import eventually
from tests.support.harness import Bot
from tests.support.workspace import GROUP_MEMBER, REQUESTER, SOURCE_OWNER, STRANGER, TARGET_OWNER


def test_both_owners_approve_and_the_engine_is_kicked(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    assert "Approved the source side" in bot.click(SOURCE_OWNER, message, "approve_source")["text"]
    assert bot.request(request_id).state == "requested" and bot.kicked == []
    bot.notifier.flush()
    message = bot.slack.message(message["ts"])
    assert f"approved by <@{SOURCE_OWNER}>" in str(message["blocks"])

    bot.click(TARGET_OWNER, message, "approve_target")
    assert bot.request(request_id).state == "approved"
    assert bot.kicked == [request_id]
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER), ("target", 1, TARGET_OWNER)]
    bot.notifier.flush()
    thread = bot.slack.thread("C0DTSBOT01", message["ts"])
    assert [m["text"] for m in thread] == [f"Source side approved. (<@{SOURCE_OWNER}>)",
                                           f"Target side approved: both sides approved. (<@{TARGET_OWNER}>)"]
    assert all(b["type"] != "actions" for b in bot.slack.message(message["ts"])["blocks"])


@pytest.mark.parametrize(("user", "action_id", "why"), [
    (TARGET_OWNER, "approve_source", "Only the approvers of shop-prod"),  # wrong side
    (STRANGER, "approve_target", "Only the approvers of analytics"),  # not an approver at all
])
def test_wrong_side_and_non_approver_are_refused_and_audited(bot: Bot, user: str, action_id: str,
                                                              why: str) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    assert why in bot.click(user, message, action_id)["text"]
    assert bot.approvals(request_id) == []
    assert bot.refusals(request_id) == [(user, action_id)]
    assert bot.request(request_id).state == "requested"


def test_a_user_group_member_may_approve(bot: Bot) -> None:
    request_id = bot.create()
    bot.click(GROUP_MEMBER, bot.posted(request_id), "approve_target")
    assert bot.approvals(request_id) == [("target", 1, GROUP_MEMBER)]


def test_self_approval_is_refused_by_default(bot: Bot) -> None:
    request_id = bot.create(user=SOURCE_OWNER)
    answer = bot.click(SOURCE_OWNER, bot.posted(request_id), "approve_source")
    assert "may not approve its source side yourself" in answer["text"]
    assert bot.approvals(request_id) == [] and bot.refusals(request_id) == [(SOURCE_OWNER, "approve_source")]


@pytest.mark.parametrize("account_overrides", [{"allow_self_approval": True}])
def test_self_approval_when_the_account_allows_it(bot: Bot) -> None:
    request_id = bot.create(user=SOURCE_OWNER)
    bot.click(SOURCE_OWNER, bot.posted(request_id), "approve_source")
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER)]


def test_double_click_and_slack_retries_record_one_approval(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.click(SOURCE_OWNER, message, "approve_source")
    assert "already approved" in bot.click(SOURCE_OWNER, message, "approve_source", retry_num=1)["text"]
    assert "already approved" in bot.click(SOURCE_OWNER, message, "approve_source")["text"]
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER)]
    bot.notifier.flush()
    assert len(bot.slack.thread("C0DTSBOT01", message["ts"])) == 1


def test_ten_concurrent_clicks_of_both_sides_approve_once(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    clicks = [(SOURCE_OWNER, "approve_source"), (TARGET_OWNER, "approve_target")] * 5
    start = threading.Barrier(len(clicks))

    def send(user: str, action_id: str) -> None:
        start.wait()
        assert bot.driver.click(user, message, action_id).status == 200

    threads = [threading.Thread(target=send, args=c) for c in clicks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bot.slack.wait_for(lambda: len(bot.slack.ephemerals()) >= len(clicks) + 1)
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER), ("target", 1, TARGET_OWNER)]
    assert bot.request(request_id).state == "approved" and bot.kicked == [request_id]
    bot.notifier.flush()
    assert len(bot.slack.thread("C0DTSBOT01", message["ts"])) == 2


def test_an_approval_binds_to_the_plan_revision_on_screen(bot: Bot) -> None:
    request_id = bot.create()
    old_message = bot.posted(request_id)
    edited = bot.requests.edit(request_id, REQUESTER, {**_fields(bot, request_id), "role_name": "DTS-role-2"})
    assert edited.changed and bot.request(request_id).revision == 2
    answer = bot.click(SOURCE_OWNER, old_message, "approve_source")  # the button still says revision 1
    assert "changed since you saw it" in answer["text"]
    assert bot.approvals(request_id) == []
    bot.notifier.flush()
    bot.click(SOURCE_OWNER, bot.slack.message(old_message["ts"]), "approve_source")  # refreshed message
    assert bot.approvals(request_id) == [("source", 2, SOURCE_OWNER)]


def _fields(bot: Bot, request_id: str) -> dict:
    request = bot.request(request_id)
    names = ("source_account", "source_region", "source_instance", "target_account", "target_region",
             "target_instance", "db_type", "role_name", "external_id", "executor", "migrate_type", "objects")
    return {n: getattr(request, n) for n in names}


def test_no_approvals_after_a_decision(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.requests.cancel(request_id, REQUESTER)
    assert "no longer takes approvals" in bot.click(SOURCE_OWNER, message, "approve_source")["text"]
    assert bot.approvals(request_id) == []
    eventually(lambda: bot.refusals(request_id) == [(SOURCE_OWNER, "approve_source")])


EMAILS = ["sam@dtsbot-sandbox.example", "tara@dtsbot-sandbox.example"]


@pytest.mark.parametrize("account_overrides", [{"approvers": EMAILS}])
def test_an_approver_given_by_email_is_resolved_and_may_approve(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    assert "waiting for sam@dtsbot-sandbox.example, tara@dtsbot-sandbox.example" in str(message["blocks"])
    assert "Only the approvers of shop-prod" in bot.click(STRANGER, message, "approve_source")["text"]
    bot.click(SOURCE_OWNER, message, "approve_source")
    bot.click(TARGET_OWNER, message, "approve_target")
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER), ("target", 1, TARGET_OWNER)]
    assert bot.request(request_id).state == "approved"
    lookups = [c.args["email"] for c in bot.slack.calls if c.method == "users.lookupByEmail"]
    assert sorted(set(lookups)) == EMAILS
