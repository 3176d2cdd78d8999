"""Slack's form bodies reach Bolt parsed by key (bot/slack_request.py): the word `payload` in a channel's name, a
person's name or a request's text changes nothing, and an interaction (`payload=`) is still one."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body

from bot.slack_request import SlackHttpRequest, parse_by_key
from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER

FORM = "application/x-www-form-urlencoded"


def payload_everywhere(bot: Bot, text: str) -> dict[str, str]:
    """A slash command from `#payload-migrations` by a user Slack calls `payload`."""
    fields = bot.driver.slash_command(REQUESTER, text)
    return {**fields, "channel_name": "payload-migrations", "user_name": "payload", "team_domain": "payload-inc"}


def test_bolt_itself_drops_a_form_body_that_merely_contains_the_word_payload() -> None:
    """The hazard the adapter guards against. If this fails, Bolt's parse_body changed: re-read it before
    trusting it (the adapter can stay; it does not depend on the bug)."""
    body = urlencode({"command": "/dts-migrate", "text": "objects=payload", "user_id": REQUESTER})
    assert parse_body(body, FORM) == {}
    assert BoltRequest(body=body, headers={"content-type": FORM}).body == {}
    parsed = SlackHttpRequest(body=body, headers={"content-type": FORM})
    assert parsed.body == {"command": "/dts-migrate", "text": "objects=payload", "user_id": REQUESTER}
    assert parsed.context.user_id == REQUESTER and parsed.raw_body == body
    assert parsed.to_copyable().body == parsed.body


def test_the_parse_is_by_key() -> None:
    click = {"type": "block_actions", "user": {"id": REQUESTER}, "actions": []}
    assert parse_by_key(urlencode({"payload": json.dumps(click)}), FORM) == click
    assert parse_by_key(urlencode([("text", "a"), ("text", "b")]), FORM) == {"text": "a"}
    assert parse_by_key(json.dumps({"type": "event_callback"}), "application/json") == {"type": "event_callback"}
    assert parse_by_key("{not json", FORM) == {"{not json": ""}  # a form, whatever its first character
    assert parse_by_key("", FORM) == {}


def test_a_command_full_of_the_word_payload_creates_its_request_over_http(bot: Bot) -> None:
    form = payload_everywhere(bot, inline(objects="payload"))
    answer = bot.driver.send(urlencode(form).encode(), FORM)
    assert answer.status == 200
    reply = bot.slack.wait_for(lambda: bot.slack.ephemerals(REQUESTER))[0]
    assert reply["text"].startswith("Request mr-")
    [request] = bot.all_requests()
    assert request.objects == "payload" and request.requester == REQUESTER

    # an interaction (payload=) still routes as one: the source owner approves it
    answer_to = bot.click(SOURCE_OWNER, bot.posted(request.id), "approve_source")
    assert answer_to["text"] == f"Approved the source side of {request.id}."


def test_help_from_a_payload_channel_is_answered(bot: Bot) -> None:
    form = payload_everywhere(bot, "help")
    assert bot.driver.send(urlencode(form).encode(), FORM).status == 200
    assert "/dts-migrate" in bot.slack.wait_for(lambda: bot.slack.ephemerals(REQUESTER))[0]["text"]


def test_a_blank_payload_key_is_refused_at_the_gate_not_crashing_the_parse(bot: Bot) -> None:
    """`payload=` with nothing in it is an interaction that is not a JSON object: 400, as for any bad payload."""
    answer = bot.driver.send(urlencode({**bot.driver.slash_command(REQUESTER, "help"), "payload": ""}).encode(), FORM)
    assert (answer.status, answer.body) == (400, "payload is not a JSON object")
