"""A zh-CN channel through the real Bolt app and the Slack emulator: the channel reads Chinese whoever clicks;
each person's replies follow their own Slack locale (users.info include_locale)."""

from __future__ import annotations

from typing import Any

import pytest

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
