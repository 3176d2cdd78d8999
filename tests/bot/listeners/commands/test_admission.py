"""/dts-migrate admission: new requests only in the configured channel, at most N a minute per person and per
channel, each refusal an ephemeral reply; help, list, status and cancel are never limited."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.waiting import eventually
from tests.support.commands import INLINE, inline
from tests.support.harness import Bot
from tests.support.workspace import CHANNEL, REQUESTER, SOURCE_OWNER, STRANGER


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    return {"requests_per_minute_per_user": 2, "requests_per_minute_per_channel": 3}


def _replies(bot: Bot, user: str, count: int) -> list[str]:
    """The texts of the first `count` ephemerals shown to `user`, once there are that many."""
    shown = eventually(lambda: len(bot.slack.ephemerals(user)) >= count and bot.slack.ephemerals(user), 30)
    return [e["text"] for e in shown[:count]]


def test_a_dm_or_another_channel_is_pointed_to_the_channel(bot: Bot) -> None:
    for channel in ("D0DIRECT01", "C0OTHER001"):
        assert bot.driver.slash(REQUESTER, INLINE, channel=channel).status == 200
    replies = _replies(bot, REQUESTER, 2)
    assert replies == [f"Migration requests are made in <#{CHANNEL}>: run /dts-migrate there."] * 2
    assert bot.requests.open_requests() == []
    bot.driver.slash(REQUESTER, "", channel="D0DIRECT01")  # nor the form
    assert _replies(bot, REQUESTER, 3)[2].startswith("Migration requests are made in")
    assert bot.slack.views == []


def test_a_person_may_open_two_a_minute_then_is_told_to_wait(bot: Bot) -> None:
    for n in range(3):  # into three target instances: one unfinished request per target
        assert bot.driver.slash(REQUESTER, inline(target_instance=f"cdb-dst0000{n + 1}")).status == 200
    replies = _replies(bot, REQUESTER, 3)
    refused = [r for r in replies if r.startswith("You have opened 2 new requests in the last minute")]
    assert len(refused) == 1 and "try again in" in refused[0]
    assert len(eventually(lambda: len(bot.requests.open_requests()) == 2 and bot.requests.open_requests())) == 2
    bot.driver.slash(REQUESTER, "list")  # sub-commands are not new requests
    assert not _replies(bot, REQUESTER, 4)[3].startswith("You have opened")


def test_the_channel_limit_holds_across_people(bot: Bot) -> None:
    for n, user in enumerate((REQUESTER, REQUESTER, SOURCE_OWNER, STRANGER)):
        assert bot.driver.slash(user, inline(target_instance=f"cdb-dst0000{n + 1}")).status == 200
    replies = _replies(bot, REQUESTER, 2) + _replies(bot, SOURCE_OWNER, 1) + _replies(bot, STRANGER, 1)
    refused = [r for r in replies if r.startswith("The channel has had 3 new requests in the last minute")]
    assert len(refused) == 1, replies  # whichever came fourth
    assert len(eventually(lambda: len(bot.requests.open_requests()) == 3 and bot.requests.open_requests())) == 3
