"""Only Slack may talk to the bot: unsigned, forged and stale (> 5 min) requests get 401 and change nothing."""

from __future__ import annotations

import pytest

from tests.support.commands import INLINE
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER

BROKEN = [{"signed": False}, {"forged": True}, {"skew_seconds": -600}, {"skew_seconds": 600}]  # 10 min off


@pytest.mark.parametrize("delivery", BROKEN)
def test_refused_slash_commands_create_nothing(bot: Bot, delivery: dict) -> None:
    calls = len(bot.slack.calls)  # auth.test at start
    answer = bot.driver.slash(REQUESTER, INLINE, **delivery)
    assert answer.status == 401
    assert bot.all_requests() == [] and bot.slack.ephemerals() == [] and len(bot.slack.calls) == calls


@pytest.mark.parametrize("delivery", BROKEN)
def test_refused_clicks_approve_nothing(bot: Bot, delivery: dict) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    calls = len(bot.slack.calls)
    assert bot.driver.click(SOURCE_OWNER, message, "approve_source", **delivery).status == 401
    assert bot.approvals(request_id) == [] and len(bot.slack.calls) == calls


def test_a_request_within_the_five_minutes_is_accepted(bot: Bot) -> None:
    assert bot.driver.slash(REQUESTER, "help", skew_seconds=-120).status == 200


def test_health_and_unknown_paths(bot: Bot) -> None:
    import urllib.error
    import urllib.request
    base = bot.driver.app_url.removesuffix("/slack/events")
    with urllib.request.urlopen(base + "/healthz") as answer:
        assert (answer.status, answer.read()) == (200, b"ok")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(base + "/nope")
    assert error.value.code == 404
