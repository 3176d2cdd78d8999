"""The App Home through the real Bolt app and the Slack emulator: app_home_opened publishes the person's Home
(views.publish, validated like Slack); an approver sees the waiting request with the approve button of their own
side only, approving from the Home works like in the channel (same checks) and the Home is published again."""

from __future__ import annotations

from sandbox.slack.emulator import SlackEmulator
from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import GROUP_MEMBER, REQUESTER, SOURCE_OWNER, STRANGER, TARGET_OWNER


def open_home(bot: Bot, user: str) -> dict:
    """Open the Home tab and wait for the view published by this opening."""
    before = bot.slack.home(user)
    assert bot.driver.open_home(user).status == 200
    return bot.slack.wait_for(lambda: (home := bot.slack.home(user)) and home != before and home)


def buttons(home: dict) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]


def text(home: dict) -> str:
    return str(home["blocks"])


def notice(home: dict) -> str | None:
    return next((b["elements"][0]["text"] for b in home["blocks"] if b.get("block_id") == "notice"), None)


def test_each_approver_sees_the_waiting_request_with_their_own_side_only(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    home = open_home(bot, SOURCE_OWNER)
    assert home["type"] == "home"
    assert buttons(home) == [("approve_source", f"{request_id}:1")]
    assert "/archives/C0DTSBOT01/p" in text(home) and f"by <@{REQUESTER}>" in text(home)
    assert buttons(open_home(bot, TARGET_OWNER)) == [("approve_target", f"{request_id}:1")]
    assert buttons(open_home(bot, GROUP_MEMBER)) == [("approve_target", f"{request_id}:1")]  # S0TGTOWNERS
    stranger = open_home(bot, STRANGER)
    assert buttons(stranger) == [] and "Nothing waits for you." in text(stranger)
    mine = open_home(bot, REQUESTER)
    assert buttons(mine) == [] and "Your open requests" in text(mine) and request_id in text(mine)
    assert "Waiting for both approvals" in text(mine)


def test_approving_from_the_home_works_and_the_home_is_published_again(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    home = open_home(bot, SOURCE_OWNER)
    assert bot.driver.click(SOURCE_OWNER, home, "approve_source").status == 200
    again = bot.slack.wait_for(lambda: (h := bot.slack.home(SOURCE_OWNER)) and notice(h) and h)
    assert notice(again) == f"Approved the source side of {request_id}."
    assert buttons(again) == [] and "Nothing waits for you." in text(again)
    assert bot.approvals(request_id) == [("source", 1, SOURCE_OWNER)]
    bot.notifier.flush()  # the channel's request message shows it, as after a click there
    assert f"approved by <@{SOURCE_OWNER}>" in str(bot.slack.message(message["ts"])["blocks"])
    target_home = open_home(bot, TARGET_OWNER)
    assert bot.driver.click(TARGET_OWNER, target_home, "approve_target").status == 200
    bot.slack.wait_for(lambda: notice(bot.slack.home(TARGET_OWNER)) or None)
    assert bot.request(request_id).state == "approved" and bot.kicked == [request_id]


def test_the_home_applies_the_channels_permission_checks(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    owners_home = open_home(bot, SOURCE_OWNER)
    open_home(bot, STRANGER)
    # a click carrying the source owner's button, made by someone else, is refused like in the channel
    assert bot.driver.click(STRANGER, owners_home, "approve_source").status == 200
    refused = bot.slack.wait_for(lambda: (h := bot.slack.home(STRANGER)) and notice(h) and h)
    assert notice(refused).startswith("Only the approvers of shop-prod")
    assert bot.approvals(request_id) == [] and bot.refusals(request_id) == [(STRANGER, "approve_source")]


def test_my_finished_requests_are_listed(bot: Bot) -> None:
    done = bot.create()
    bot.posted(done)
    assert bot.requests.cancel(done, REQUESTER).ok
    waiting = bot.create(inline(target_instance="cdb-dst00002"))
    home = open_home(bot, REQUESTER)
    blocks = text(home)
    assert blocks.index("Your open requests") < blocks.index(waiting) < blocks.index("Recently finished")
    assert blocks.index("Recently finished") < blocks.index(done) and "Cancelled" in blocks


def test_the_messages_tab_publishes_nothing(bot: Bot, slack: SlackEmulator) -> None:
    bot.posted(bot.create())
    assert bot.driver.open_home(SOURCE_OWNER, tab="messages").status == 200
    assert bot.driver.open_home(TARGET_OWNER).status == 200
    slack.wait_for(lambda: slack.home(TARGET_OWNER))  # the Home tab's opening is published
    assert slack.home(SOURCE_OWNER) is None and not [c for c in slack.calls if c.method == "views.publish"
                                                    and c.args.get("user_id") == SOURCE_OWNER]


EDITABLE = ("source_account", "source_region", "source_instance", "target_account", "target_region",
            "target_instance", "db_type", "role_name", "external_id", "executor", "migrate_type", "objects")


def block_text(view: dict, block_id: str) -> str:
    return next(b["text"]["text"] for b in view["blocks"] if b.get("block_id") == block_id)


def test_the_home_shows_the_plan_an_approval_binds_to_in_the_channels_words(bot: Bot) -> None:
    """The requester edits the plan after the approver read it in the channel: the Home shows the new plan (the
    channel's own plan text: role and whether it is created, trusted principal, masked external ID, executor,
    migrate type, objects) and its approve button asks to confirm the revision it binds to."""
    request_id = bot.create()
    message = bot.posted(request_id)
    request = bot.request(request_id)
    edited = bot.requests.edit(request_id, REQUESTER, {**{n: getattr(request, n) for n in EDITABLE},
                                                       "role_name": "DTS-role-widened"})
    assert edited.changed
    home = open_home(bot, SOURCE_OWNER)
    assert buttons(home) == [("approve_source", f"{request_id}:2")]
    plan = block_text(home, f"plan:{request_id}")
    assert "create CAM role `DTS-role-widened`" in plan, plan
    assert "run by the root account" in plan and "fullAndIncrement, objects `all`" in plan, plan
    assert "qcs::cam::uin/100000000002:root" in plan, plan
    assert request.external_id and request.external_id not in plan  # masked, as in the channel
    bot.notifier.flush()
    channel_plan = block_text(bot.slack.message(message["ts"]), "plan")
    assert plan in channel_plan  # the same words as the channel's plan: the two cannot disagree
    [confirm] = [e["confirm"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert confirm["title"]["text"] == "Approve plan revision 2?"
    assert request_id in confirm["text"]["text"] and "revision 2" in confirm["confirm"]["text"]
