"""bot.directory: approvers by e-mail address and user group, resolved with users.lookupByEmail and
usergroups.users.list against the Slack emulator; answers expire after a minute (the test moves the clock), a
"user gone" answer forgets them at once, and "Slack could not answer" is never "nobody"."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient

from bot.directory import RESOLVED_SECONDS, SlackDirectory
from bot.notifier import web_client
from core.approvals import MembersUnknown
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.clock import Clock
from tests.support.workspace import bot_settings

SAM = "sam@dtsbot-sandbox.example"


def lookups(slack: SlackEmulator, method: str = "users.lookupByEmail") -> int:
    return sum(c.method == method for c in slack.calls)


def directory_of(slack: SlackEmulator, clock: Clock) -> SlackDirectory:
    """The directory as the bot builds it: the bot's WebClient, 429/5xx retry handlers included."""
    return SlackDirectory(web_client(bot_settings(slack.base_url, "sqlite:///unused.db")), clock=clock.now)


def test_an_address_follows_its_holder_within_the_expiry() -> None:
    clock = Clock()
    with SlackEmulator() as slack:
        directory = SlackDirectory(WebClient(token=slack.token, base_url=slack.base_url), clock=clock.now)
        assert directory(SAM) == {"U0SRCOWNER"}
        assert directory("SAM@dtsbot-sandbox.example") == {"U0SRCOWNER"}
        assert lookups(slack) == 1
        # Sam (still active) takes another address; sam@ is given to Stan
        slack.workspace.emails["U0SRCOWNER"] = "sam.elsewhere@dtsbot-sandbox.example"
        slack.workspace.emails["U0STRANGER"] = SAM
        assert directory(SAM) == {"U0SRCOWNER"}  # within the minute: Slack was not asked
        clock.advance(RESOLVED_SECONDS)
        assert directory(SAM) == {"U0STRANGER"}
        assert lookups(slack) == 2


def test_a_user_slack_says_is_gone_is_forgotten_at_once() -> None:
    clock = Clock()
    with SlackEmulator() as slack:
        directory = SlackDirectory(WebClient(token=slack.token, base_url=slack.base_url), clock=clock.now)
        assert directory(SAM) == {"U0SRCOWNER"}
        slack.workspace.deactivate("U0SRCOWNER")
        slack.workspace.emails["U0STRANGER"] = SAM
        directory.gone("U0SRCOWNER", "channel_not_found")  # not a "user is gone" error: kept
        assert directory(SAM) == {"U0SRCOWNER"}
        directory.gone("U0SRCOWNER", "user_disabled")
        assert directory(SAM) == {"U0STRANGER"}
        assert lookups(slack) == 2


def test_an_unknown_address_stands_for_nobody_and_ids_for_themselves() -> None:
    clock = Clock()
    with SlackEmulator(usergroups={"S0DBAS": ["U0TGTOWNER"]}) as slack:
        directory = SlackDirectory(WebClient(token=slack.token, base_url=slack.base_url), clock=clock.now)
        assert directory("nobody@shop.example") == frozenset()
        assert directory("S0NOGROUP") == frozenset()
        assert directory("U0REQUESTER") == {"U0REQUESTER"}
        assert directory.users(["S0DBAS", "tara@dtsbot-sandbox.example", "U0REQUESTER"]) == [
            "U0TGTOWNER", "U0REQUESTER"]


def test_a_user_group_follows_its_members_within_the_expiry() -> None:
    clock = Clock()
    with SlackEmulator(usergroups={"S0DBAS": ["U0TGTOWNER"]}) as slack:
        directory = SlackDirectory(WebClient(token=slack.token, base_url=slack.base_url), clock=clock.now)
        assert directory("S0DBAS") == {"U0TGTOWNER"}
        slack.workspace.usergroups["S0DBAS"] = ["U0STRANGER"]
        assert directory("S0DBAS") == {"U0TGTOWNER"}
        clock.advance(RESOLVED_SECONDS)
        assert directory("S0DBAS") == {"U0STRANGER"}


@pytest.mark.parametrize(("entry", "method"), [(SAM, "users.lookupByEmail"), ("S0DBAS", "usergroups.users.list")])
def test_slack_not_answering_is_not_nobody_and_is_asked_again(entry: str, method: str) -> None:
    clock = Clock()
    with SlackEmulator(usergroups={"S0DBAS": ["U0TGTOWNER"]}) as slack:
        directory = directory_of(slack, clock)
        outage = slack.faults.server_error(method=method, count=3)  # past slack_sdk's 2 retries
        with pytest.raises(MembersUnknown):
            directory(entry)
        assert outage.remaining == 0
        assert directory(entry)  # not remembered: Slack is asked again at once and answers


def test_a_missing_scope_is_remembered_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    with SlackEmulator() as slack:
        slack.workspace.scopes = {"commands", "chat:write", "users:read", "usergroups:read", "channels:read"}
        directory = directory_of(slack, clock)
        with caplog.at_level(logging.WARNING, logger="bot.directory"):
            for _ in range(3):
                with pytest.raises(MembersUnknown) as unknown:
                    directory(SAM)
        assert unknown.value.reason == "missing_scope"
        assert lookups(slack) == 1
        assert sum("missing_scope" in r.getMessage() for r in caplog.records) == 1
        slack.workspace.scopes = None  # the operator adds the scope and reinstalls
        clock.advance(RESOLVED_SECONDS)
        assert directory(SAM) == {"U0SRCOWNER"}
