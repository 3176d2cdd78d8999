"""The cutover fields in the request form: `cutover_at=` is part of the approved plan, so editing it voids the
approvals like any other field, and a time without its zone comes back on its field."""

from __future__ import annotations

from sandbox.waiting import eventually
from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER


def test_editing_the_cutover_window_voids_the_approvals(bot: Bot) -> None:
    request_id = bot.create(inline(cutover_at="2030-01-05T22:00+08:00"))
    message = bot.posted(request_id)
    assert "Cutover window: *Complete* waits for 2030-01-05T22:00+08:00" in str(message["blocks"])
    bot.click(SOURCE_OWNER, message, "approve_source")

    bot.driver.click(REQUESTER, message, "edit")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    initial = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert initial["cutover_at"]["initial_value"] == "2030-01-05T22:00+08:00"
    answer = bot.driver.submit_view(REQUESTER, view, {"cutover_at": "2030-01-05 23:00"})
    assert answer.body["errors"]["cutover_at"].endswith("has no time zone; add one, e.g. +08:00 or Z")
    assert bot.driver.submit_view(REQUESTER, view, {"cutover_at": "2030-01-05T23:00+08:00"}).status == 200
    edited = eventually(lambda: (r := bot.request(request_id)).revision == 2 and r)
    assert edited.cutover_at == "2030-01-05T23:00+08:00"
    bot.notifier.flush()
    refreshed = str(bot.slack.message(message["ts"])["blocks"])
    assert "waits for 2030-01-05T23:00+08:00" in refreshed and f"approved by <@{SOURCE_OWNER}>" not in refreshed
