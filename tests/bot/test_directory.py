"""bot.directory: approvers by e-mail address, resolved with users.lookupByEmail against the Slack emulator,
cached, and looked up again when Slack says the user is gone."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.directory import SlackDirectory
from sandbox.slack.emulator import SlackEmulator


def lookups(slack: SlackEmulator) -> int:
    return sum(c.method == "users.lookupByEmail" for c in slack.calls)


def test_an_address_is_cached_until_slack_says_its_user_is_gone() -> None:
    with SlackEmulator() as slack:
        directory = SlackDirectory(WebClient(token=slack.token, base_url=slack.base_url))
        assert directory("sam@dtsbot-sandbox.example") == {"U0SRCOWNER"}
        assert directory("SAM@dtsbot-sandbox.example") == {"U0SRCOWNER"}
        assert lookups(slack) == 1
        # Sam leaves; the address now belongs to Stan's account
        slack.workspace.deactivate("U0SRCOWNER")
        slack.workspace.emails["U0STRANGER"] = "sam@dtsbot-sandbox.example"
        assert directory("sam@dtsbot-sandbox.example") == {"U0SRCOWNER"}  # cached: Slack was not asked
        directory.gone("U0SRCOWNER", "channel_not_found")  # not a "user is gone" error: kept
        assert directory("sam@dtsbot-sandbox.example") == {"U0SRCOWNER"}
        directory.gone("U0SRCOWNER", "user_not_found")
        assert directory("sam@dtsbot-sandbox.example") == {"U0STRANGER"}
        assert lookups(slack) == 2


def test_an_unknown_address_stands_for_nobody_and_ids_for_themselves() -> None:
    with SlackEmulator(usergroups={"S0DBAS": ["U0TGTOWNER"]}) as slack:
        directory = SlackDirectory(WebClient(token=slack.token, base_url=slack.base_url))
        assert directory("nobody@shop.example") == frozenset()
        assert directory("U0REQUESTER") == {"U0REQUESTER"}
        assert directory.users(["S0DBAS", "tara@dtsbot-sandbox.example", "U0REQUESTER"]) == [
            "U0TGTOWNER", "U0REQUESTER"]
