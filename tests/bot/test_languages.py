"""A zh-CN channel through the real Bolt app and the Slack emulator: the channel reads Chinese whoever clicks;
each person's replies, App Home and DMs follow their own Slack locale (users.info include_locale)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.user_locale import known_locale
from sandbox.waiting import eventually
from tests.bot.listeners.events.test_app_home_opened import buttons, notice, open_home, text
from tests.bot.test_reminders import DUE, deliver, dms, remind
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER, STRANGER, TARGET_OWNER


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    return {"language": "zh-CN"}


@pytest.fixture
def bot(bot: Bot) -> Bot:
    """The source owner and the requester read Chinese in Slack; the target owner and the stranger English."""
    bot.slack.workspace.locales.update({SOURCE_OWNER: "zh-CN", REQUESTER: "zh-CN", TARGET_OWNER: "en-US",
                                        STRANGER: "en-GB"})
    return bot


def test_the_channel_reads_chinese_and_each_person_their_own_language(bot: Bot) -> None:
    request_id = bot.create()
    assert f"申请 {request_id} 已创建。" in bot.slack.ephemerals(REQUESTER)[-1]["text"]
    message = bot.posted(request_id)
    assert message["text"].startswith(f"DTS 迁移 {request_id}：") and "等待双方审批" in str(message["blocks"])

    refused = bot.click(STRANGER, message, "approve_source")["text"]
    assert refused.startswith("Only the approvers of shop-prod (100000000001) may approve the source side")
    assert bot.click(SOURCE_OWNER, message, "approve_source")["text"] == f"已审批 {request_id} 的源账号一侧。"
    assert bot.click(TARGET_OWNER, message, "approve_target")["text"] == f"Approved the target side of {request_id}."

    bot.notifier.flush()
    thread = bot.slack.thread("C0DTSBOT01", message["ts"])  # the English reader's notice is Chinese too
    assert [m["text"] for m in thread] == [f"源账号一侧已审批。 (<@{SOURCE_OWNER}>)",
                                           f"目标账号一侧已审批：双方均已审批。 (<@{TARGET_OWNER}>)"]


def test_field_errors_name_the_field_in_the_persons_language(bot: Bot) -> None:
    for user, expected in ((REQUESTER, "申请有以下问题，未创建任何内容："),
                           (TARGET_OWNER, "Your request has problems, nothing was created:")):
        before = len(bot.slack.ephemerals(user))
        assert bot.driver.slash(user, "source_account=shop-prod source_region=mars-1 colour=red").status == 200
        reply = bot.ephemeral_after(user, before)["text"]
        assert reply.startswith(expected) and "source_region" in reply and "colour" in reply


def test_each_approvers_app_home_is_in_their_own_language(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    chinese = open_home(bot, SOURCE_OWNER)
    assert "*等待你审批*" in text(chinese) and "审批（源账号所有者）" in text(chinese)
    assert "Waiting for your approval" not in text(chinese)
    english = open_home(bot, TARGET_OWNER)  # en-US in a zh-CN channel
    assert "*Waiting for your approval*" in text(english) and "Approve (target owner)" in text(english)
    assert "等待" not in text(english)
    assert buttons(chinese) == [("approve_source", f"{request_id}:1")]  # same ids and values in either language
    assert buttons(english) == [("approve_target", f"{request_id}:1")]
    mine = open_home(bot, REQUESTER)
    assert "你未结束的申请" in text(mine) and "等待双方审批" in text(mine)

    assert bot.driver.click(SOURCE_OWNER, chinese, "approve_source").status == 200
    again = bot.slack.wait_for(lambda: (h := bot.slack.home(SOURCE_OWNER)) and notice(h) and h)
    assert notice(again) == f"已审批 {request_id} 的源账号一侧。" and "暂无等待你审批的申请。" in text(again)


def test_reminder_and_expiry_dms_are_in_their_recipients_language(bot: Bot) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    assert remind(bot, request_id, DUE) == [(request_id, "source"), (request_id, "target")]
    assert dms(bot, SOURCE_OWNER) == [f"提醒：{request_id} 正在等待你审批源账号一侧"]
    reminder = str(bot.slack.direct_messages(SOURCE_OWNER)[0]["blocks"])
    assert "正在等待你审批 *源账号* 一侧" in reminder and "打开申请" in reminder and "<!date^" in reminder
    assert dms(bot, TARGET_OWNER) == [f"Reminder: {request_id} waits for your approval of the target side"]

    created = bot.request(request_id).created_at
    assert bot.requests.expire_overdue(now=created + timedelta(hours=72, minutes=1)) == [request_id]
    deliver(bot)
    assert dms(bot, REQUESTER) == [f"你的申请 {request_id} 已过期"]
    assert "双方未在 72 小时内完成审批" in str(bot.slack.direct_messages(REQUESTER)[0]["blocks"])


def test_a_form_opens_first_in_the_channel_language_and_the_persons_language_is_learned_after(bot: Bot) -> None:
    """Slack's trigger_id lives 3 s: views.open comes before users.info, never after it."""
    assert bot.driver.slash(TARGET_OWNER, "").status == 200  # en-US, not known yet: the channel's Chinese
    [first] = bot.slack.wait_for(lambda: bot.slack.views)
    assert first["title"]["text"] == "新建 DTS 迁移"
    def order() -> list[str] | None:
        seen = [c.method for c in bot.slack.calls if c.method in ("views.open", "users.info")
                and c.args.get("user", TARGET_OWNER) == TARGET_OWNER]
        return seen if len(seen) >= 2 else None

    assert bot.slack.wait_for(order) == ["views.open", "users.info"]
    eventually(lambda: known_locale(TARGET_OWNER), what="the answer to users.info kept")  # the call, then its answer
    assert bot.driver.slash(TARGET_OWNER, "source_account=shop-prod").status == 200  # known now: English
    second = bot.slack.wait_for(lambda: bot.slack.views[1:])[0]
    assert second["title"]["text"] == "New DTS migration"


def test_a_mistyped_sub_command_gets_did_you_mean(bot: Bot) -> None:
    before = len(bot.slack.ephemerals(TARGET_OWNER))
    assert bot.driver.slash(TARGET_OWNER, "cancle mr-abc123").status == 200
    assert bot.ephemeral_after(TARGET_OWNER, before)["text"] == (
        "Unknown sub-command `cancle`: did you mean /dts-migrate cancel? (see /dts-migrate help)")
