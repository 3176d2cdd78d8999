"""Reject asks an approver for a reason in a modal; the reason reaches the thread, escaped."""

from __future__ import annotations

from sandbox.waiting import eventually
from tests.support.harness import Bot
from tests.support.workspace import STRANGER, TARGET_OWNER


def test_reject_with_a_reason(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.driver.click(TARGET_OWNER, message, "reject")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    assert view["callback_id"] == "reject_reason"
    bot.driver.submit_view(TARGET_OWNER, view, {"reason": "too *big* for `Friday`\n<!channel>"})
    eventually(lambda: bot.request(request_id).state == "rejected")
    bot.notifier.flush()
    [notice] = bot.slack.thread("C0DTSBOT01", message["ts"])
    shown = "`too *big* for 'Friday'`\n`&lt;!channel&gt;`"  # inert: escaped, each line a code span
    assert notice["text"] == f"Rejected. Reason:\n{shown} (<@{TARGET_OWNER}>)"
    assert f"*Reason:* {shown}" in bot.slack.message(message["ts"])["blocks"][3]["text"]["text"]


def test_a_stranger_cannot_reject(bot: Bot) -> None:
    request_id = bot.create()
    answer = bot.click(STRANGER, bot.posted(request_id), "reject")
    assert "Only an approver" in answer["text"] and bot.slack.views == []
    assert bot.refusals(request_id) == [(STRANGER, "reject")]
    assert bot.request(request_id).state == "requested"


def test_a_reason_loses_its_bidi_and_invisible_characters(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.driver.click(TARGET_OWNER, message, "reject")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    bot.driver.submit_view(TARGET_OWNER, view, {"reason": "\u202etxt.exe\u202c too\u200b big\u2066!\u2069"})
    eventually(lambda: bot.request(request_id).state == "rejected")
    bot.notifier.flush()
    [notice] = bot.slack.thread("C0DTSBOT01", message["ts"])
    assert notice["text"] == f"Rejected. Reason:\n`txt.exe too big!` (<@{TARGET_OWNER}>)"
