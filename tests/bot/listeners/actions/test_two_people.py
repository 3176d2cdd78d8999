"""Two keys are two people: whoever approved one side of a plan revision may not approve the other, whatever list,
user group or e-mail address makes them an approver of both, in the channel or on the App Home, in either order,
also when both clicks arrive at once; `approvals.same_person_both_sides: true` allows it, and the request message
then says so. Through the real Bolt app over HTTP and the Slack emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core.config import Settings
from core.reminders import queue_reminders
from sandbox.slack.emulator import SlackEmulator
from tests.bot.listeners.events.test_app_home_opened import buttons, notice, open_home
from tests.support.commands import inline
from tests.support.harness import Bot, running_bot
from tests.support.workspace import (
    GROUP_MEMBER,
    REQUESTER,
    SOURCE_OWNER,
    TARGET_OWNER,
    TARGET_OWNERS_GROUP,
    bot_settings,
)

SAM = "sam@dtsbot-sandbox.example"  # the emulator's profile address of SOURCE_OWNER
BOTH_SIDES = {  # how one person comes to be an approver of both sides: (source approvers, target approvers, who)
    "listed twice": ([SOURCE_OWNER], [TARGET_OWNER, SOURCE_OWNER], SOURCE_OWNER),
    "through a user group": ([GROUP_MEMBER], [TARGET_OWNERS_GROUP, TARGET_OWNER], GROUP_MEMBER),
    "by address and by ID": ([SAM], [TARGET_OWNER, SOURCE_OWNER], SOURCE_OWNER),
    "by address on both": ([SAM], [SAM, TARGET_OWNER], SOURCE_OWNER),
}
REFUSED = ("You approved the {done} side of {id}: its {other} side needs another person, so that two people agree "
           "(approvals.same_person_both_sides is off).")


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The harness's bot on SQLite and on PostgreSQL (the rule is checked under the request's row lock)."""
    return engine


@pytest.fixture
def approvers() -> tuple[list[str], list[str], str]:
    return BOTH_SIDES["listed twice"]


@pytest.fixture
def top_level() -> dict[str, Any]:
    return {}


def with_approvers(settings: Settings, source: list[str], target: list[str]) -> Settings:
    accounts = [settings.accounts[0].model_copy(update={"approvers": source}),
                settings.accounts[1].model_copy(update={"approvers": target})]
    return settings.model_copy(update={"accounts": accounts})


@pytest.fixture
def bot(slack: SlackEmulator, db: Engine, approvers: tuple[list[str], list[str], str],
        top_level: dict[str, Any]) -> Iterator[Bot]:
    settings = bot_settings(slack.base_url, db.url.render_as_string(hide_password=False), top_level)
    with running_bot(slack, db, with_approvers(settings, approvers[0], approvers[1])) as running:
        yield running


def request_text(bot: Bot, request_id: str) -> str:
    bot.notifier.flush()
    return str(bot.slack.message(bot.request(request_id).message_ts)["blocks"])


@pytest.mark.parametrize("approvers", BOTH_SIDES.values(), ids=BOTH_SIDES.keys())
def test_one_person_cannot_approve_both_sides_in_either_order(bot: Bot, approvers) -> None:
    person = approvers[2]
    first = bot.create()
    message = bot.posted(first)
    assert bot.click(person, message, "approve_source")["text"] == f"Approved the source side of {first}."
    refused = bot.click(person, message, "approve_target")["text"]
    assert refused == REFUSED.format(done="source", id=first, other="target")
    assert bot.approvals(first) == [("source", 1, person)] and bot.request(first).state == "requested"
    assert bot.refusals(first) == [(person, "approve_target")]
    assert bot.kicked == []
    if person in approvers[1]:  # listed by ID on the target side too: the message no longer waits for them there
        assert f"Target owner: waiting for <@{TARGET_OWNER}>" in request_text(bot, first)
        assert f"<@{person}>" not in request_text(bot, first).split("Target owner: waiting for")[1].split("'")[0]
    # another person of the target side: two people, the request goes ahead
    assert bot.click(TARGET_OWNER, message, "approve_target")["text"] == f"Approved the target side of {first}."
    assert bot.request(first).state == "approved" and bot.kicked == [first]

    second = bot.create(inline(target_instance="cdb-dst00002"))
    message = bot.posted(second)
    assert bot.click(person, message, "approve_target")["text"] == f"Approved the target side of {second}."
    refused = bot.click(person, message, "approve_source")["text"]
    assert refused == REFUSED.format(done="target", id=second, other="source")
    assert bot.approvals(second) == [("target", 1, person)]


def test_an_edit_starts_over_and_the_rule_holds_for_the_new_revision(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.click(SOURCE_OWNER, message, "approve_source")
    assert bot.driver.click(REQUESTER, message, "edit").status == 200  # the requester edits through the form
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    assert bot.driver.submit_view(REQUESTER, view, {"objects": "shop"}).status == 200
    bot.slack.wait_for(lambda: bot.request(request_id).revision == 2 or None)
    message = bot.posted(request_id)
    # revision 2: Sam's approval of revision 1 is void, so Sam may now take the target side instead ...
    assert bot.click(SOURCE_OWNER, message, "approve_target")["text"] == f"Approved the target side of {request_id}."
    # ... and then not the source side of revision 2
    refused = bot.click(SOURCE_OWNER, message, "approve_source")["text"]
    assert refused == REFUSED.format(done="target", id=request_id, other="source")
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER), ("target", 2, SOURCE_OWNER)]


def test_the_home_offers_no_second_side_and_a_stale_home_click_is_refused(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    home = open_home(bot, SOURCE_OWNER)
    assert buttons(home) == [("approve_source", f"{request_id}:1"), ("approve_target", f"{request_id}:1")]
    bot.driver.click(SOURCE_OWNER, home, "approve_source")
    again = bot.slack.wait_for(lambda: (h := bot.slack.home(SOURCE_OWNER)) and notice(h) and h)
    assert notice(again) == f"Approved the source side of {request_id}."
    assert buttons(again) == [], "the other side is not offered to whoever approved one"
    # the Home published before the approval still carries the target button: the same listener refuses it
    bot.driver.click(SOURCE_OWNER, home, "approve_target")
    refused = bot.slack.wait_for(lambda: (h := bot.slack.home(SOURCE_OWNER)) and notice(h) != notice(again) and h)
    assert notice(refused) == REFUSED.format(done="source", id=request_id, other="target")
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER)]
    assert bot.refusals(request_id) == [(SOURCE_OWNER, "approve_target")]


def test_the_other_sides_reminder_skips_whoever_approved_one_side(bot: Bot) -> None:
    request_id = bot.create()
    bot.click(SOURCE_OWNER, bot.posted(request_id), "approve_source")
    queue_reminders(bot.db, bot.settings, now=bot.request(request_id).created_at + timedelta(hours=48, minutes=1))
    bot.notifier.flush()
    bot.notifier.flush()
    assert [m["text"] for m in bot.slack.direct_messages(TARGET_OWNER)] == [
        f"Reminder: {request_id} waits for your approval of the target side"]
    assert bot.slack.direct_messages(SOURCE_OWNER) == []


def test_two_clicks_at_once_by_one_person_record_one_side(bot: Bot) -> None:
    """Both buttons clicked together (two tabs, a double delivery): the row lock serialises them."""
    for _round in range(3):
        request_id = bot.create(inline(target_instance=f"cdb-dst0000{_round + 1}"))
        message = bot.posted(request_id)
        start = threading.Barrier(2)

        def click(action: str, message: dict = message, start: threading.Barrier = start) -> None:
            start.wait()
            assert bot.driver.click(SOURCE_OWNER, message, action).status == 200

        threads = [threading.Thread(target=click, args=(a,)) for a in ("approve_source", "approve_target")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        bot.slack.wait_for(lambda request_id=request_id: len(bot.refusals(request_id)) == 1 or None)
        assert len(bot.approvals(request_id)) == 1 and bot.request(request_id).state == "requested"


@pytest.mark.parametrize("top_level", [{"approvals": {"same_person_both_sides": True}}])
def test_a_team_of_one_may_approve_both_sides_when_configured_and_the_message_says_so(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    assert "one person" not in request_text(bot, request_id)
    bot.click(SOURCE_OWNER, message, "approve_source")
    assert bot.click(SOURCE_OWNER, message, "approve_target")["text"] == f"Approved the target side of {request_id}."
    assert bot.request(request_id).state == "approved" and bot.kicked == [request_id]
    assert "*Approved by one person for both accounts* (`approvals.same_person_both_sides`)" in request_text(
        bot, request_id)
    thread = str(bot.slack.thread(bot.request(request_id).channel, bot.request(request_id).message_ts))
    assert "Approved by one person for both accounts (approvals.same_person_both_sides)." in thread


@pytest.mark.parametrize("top_level", [{"approvals": {"same_person_both_sides": True}}])
def test_the_requester_rule_stays_independent_of_it(bot: Bot) -> None:
    """allow_self_approval is still off: a requester who approves both sides' lists still may not approve."""
    request_id = bot.create(user=SOURCE_OWNER)
    answer = bot.click(SOURCE_OWNER, bot.posted(request_id), "approve_source")["text"]
    assert answer.startswith("You requested this migration, so you may not approve its source side yourself")
