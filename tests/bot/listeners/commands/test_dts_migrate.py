"""/dts-migrate: the form, inline requests, every validation message, help, list, status and cancel."""

from __future__ import annotations

import pytest

from bot.blocks import escape
from core import validation
from sandbox.waiting import eventually
from tests.support.commands import INLINE, inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, STRANGER


def test_modal_flow_opens_the_form_and_the_submission_posts_the_request(bot: Bot) -> None:
    answer = bot.driver.slash(REQUESTER, "")
    assert answer.status == 200 and answer.elapsed < 3
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    assert view["callback_id"] == "request_form"
    assert [b["block_id"] for b in view["blocks"]] == list(validation.FIELDS)
    role = next(b for b in view["blocks"] if b["block_id"] == "role_name")
    assert "initial_value" not in role["element"] and "dtsbot-<request id>" in role["hint"]["text"]
    accounts = next(b for b in view["blocks"] if b["block_id"] == "source_account")["element"]["options"]
    assert [o["value"] for o in accounts] == ["shop-prod", "analytics"]

    answer = bot.driver.submit_view(REQUESTER, view, {
        "source_account": "shop-prod", "source_region": "ap-guangzhou", "source_instance": "cdb-src00001",
        "target_account": "analytics", "target_region": "ap-guangzhou", "target_instance": "cdb-dst00001",
        "db_type": "mysql",
    })
    assert answer.status == 200 and answer.body in ("", None)
    [request] = eventually_requests(bot, 1)
    assert (request.requester, request.source_uin, request.target_uin) == (REQUESTER, "100000000001", "100000000002")
    assert request.external_id and request.external_id.startswith("dtsbot-")
    assert request.role_name == f"dtsbot-{request.id}"  # a role of its own: two requests never collide

    message = bot.posted(request.id)
    assert message["blocks"][0]["text"]["text"] == f"DTS migration {request.id}"
    assert request.external_id not in str(message)  # shown masked only
    buttons = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["approve_source", "approve_target", "reject", "edit"]

    # the same submission delivered again (a retry) creates nothing new
    bot.driver.submit_view(REQUESTER, view, retry_num=1)
    bot.notifier.flush()
    assert len(bot.all_requests()) == 1 and len(bot.slack.messages()) == 1


def eventually_requests(bot: Bot, count: int) -> list:
    return eventually(lambda: (found := bot.all_requests()) and len(found) == count and found)


def test_inline_request_is_created_at_once_and_posted(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    text = str(message["blocks"])
    assert "cdb-src00001" in text and "cdb-dst00001" in text and "QcloudDTSReadOnlyAccess" in text


def test_a_retried_slash_command_creates_one_request(bot: Bot) -> None:
    body_before = len(bot.slack.ephemerals(REQUESTER))
    form_body = _slash_body(bot, INLINE)
    for retry in (None, 1, 2):
        assert bot.driver.send(form_body, "application/x-www-form-urlencoded", retry_num=retry).status == 200
    bot.slack.wait_for(lambda: len(bot.slack.ephemerals(REQUESTER)) >= body_before + 3)
    assert len(bot.all_requests()) == 1


def _slash_body(bot: Bot, text: str) -> bytes:
    from urllib.parse import urlencode
    return urlencode({
        "team_id": "T0DTSBOT", "channel_id": "C0DTSBOT01", "user_id": REQUESTER, "user_name": "riley",
        "command": "/dts-migrate", "text": text, "api_app_id": "A0DTSBOT",
        "response_url": bot.slack.new_response_url("C0DTSBOT01", REQUESTER),
        "trigger_id": bot.slack.new_trigger_id(REQUESTER),
    }).encode()


BAD_VALUES = {
    "source_account": "nosuch", "target_account": "shop-prod", "source_region": "ap-guangzou",
    "target_region": "mars-1", "source_instance": "cdb-BAD", "target_instance": "mssql-dst00001",
    "db_type": "oracle", "role_name": "DTS.role", "external_id": "x", "executor": "999",
    "migrate_type": "incremental", "objects": "db1,,db2", "colour": "blue",
}


def _fields_with(field: str, value: str) -> dict[str, str]:
    fields = dict(token.split("=", 1) for token in INLINE.split())
    if field == "db_type":  # keep the instances consistent with any engine
        fields.update(source_instance="cdb-src00001", target_instance="cdb-dst00001")
    fields[field] = value
    return fields


@pytest.mark.parametrize("field", sorted(BAD_VALUES))
def test_every_validation_message_reaches_the_ephemeral_reply(bot: Bot, field: str) -> None:
    fields = _fields_with(field, BAD_VALUES[field])
    _, errors = validation.validate_request(fields, bot.settings.accounts)
    assert errors, f"{field}={BAD_VALUES[field]} should be invalid"
    before = len(bot.slack.ephemerals(REQUESTER))
    bot.driver.slash(REQUESTER, " ".join(f"{k}={v}" for k, v in fields.items()))
    reply = bot.ephemeral_after(REQUESTER, before)
    for message in errors.values():
        assert escape(message) in reply["blocks"][0]["text"]["text"]
    assert bot.all_requests() == []


def test_unreadable_tokens_are_named(bot: Bot) -> None:
    bot.driver.slash(REQUESTER, INLINE + " source_region=ap-beijing oops")
    reply = bot.ephemeral_after(REQUESTER, 0)["blocks"][0]["text"]["text"]
    assert "source_region: given more than once" in reply and "`oops`: expected key=value" in reply


def test_missing_required_fields_open_the_form_prefilled(bot: Bot) -> None:
    bot.driver.slash(REQUESTER, "source_account=100000000001 db_type=MySQL objects=shop.orders")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["source_account"]["initial_option"]["value"] == "shop-prod"  # a UIN selects its account
    assert blocks["db_type"]["initial_option"]["value"] == "mysql"
    assert blocks["objects"]["initial_value"] == "shop.orders"
    assert "initial_option" not in blocks["target_account"]
    assert bot.all_requests() == []


def test_channel_pings_in_fields_are_escaped_in_the_reply(bot: Bot) -> None:
    bot.driver.slash(REQUESTER, INLINE + ' objects="<!channel>" role_name="<@U0STRANGER>"')
    text = bot.ephemeral_after(REQUESTER, 0)["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in text and "&lt;@U0STRANGER&gt;" in text
    assert "<!channel>" not in text and "<@U0STRANGER>" not in text


def test_help_list_and_status(bot: Bot) -> None:
    bot.driver.slash(REQUESTER, "help")
    assert "/dts-migrate" in bot.ephemeral_after(REQUESTER, 0)["text"]
    first, second = bot.create(), bot.create(inline(target_instance="cdb-dst00002"))
    count = len(bot.slack.ephemerals(REQUESTER))
    bot.driver.slash(REQUESTER, "list")
    listing = bot.ephemeral_after(REQUESTER, count)
    text = str(listing["blocks"])
    assert text.index(second) < text.index(first)  # newest first
    bot.driver.slash(REQUESTER, f"status {first.upper()}")
    status = bot.ephemeral_after(REQUESTER, count + 1)
    assert status["blocks"][0]["text"]["text"] == f"DTS migration {first}"
    assert all(b["type"] != "actions" for b in status["blocks"])
    bot.driver.slash(REQUESTER, "status mr-zzzzzz")
    assert "No request mr-zzzzzz" in bot.ephemeral_after(REQUESTER, count + 2)["text"]
    for extra in (f"status {first} please", f"cancel {first} {second}", "status"):  # one id, or the usage
        bot.driver.slash(REQUESTER, extra)
        count += 1
        assert bot.ephemeral_after(REQUESTER, count + 2)["text"].startswith("Usage: /dts-migrate")
    assert bot.request(first).state == bot.request(second).state == "requested"


def test_cancel_asks_for_confirmation_then_cancels(bot: Bot) -> None:
    request_id = bot.create()
    count = len(bot.slack.ephemerals(REQUESTER))
    bot.driver.slash(REQUESTER, f"cancel {request_id}")
    confirm = bot.ephemeral_after(REQUESTER, count)
    button = confirm["blocks"][1]["elements"][0]
    assert button["action_id"] == "cancel" and button["confirm"]["style"] == "danger"
    assert bot.request(request_id).state == "requested"  # nothing before the confirmation

    bot.driver.click(REQUESTER, confirm, "cancel")
    eventually(lambda: bot.request(request_id).state == "cancelled")
    replaced = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals(REQUESTER)
                                           if e["ts"] == confirm["ts"] and "cancelled" in e["text"]])
    assert replaced
    bot.notifier.flush()
    message = bot.slack.message(bot.request(request_id).message_ts)
    assert "Cancelled" in str(message["blocks"]) and all(b["type"] != "actions" for b in message["blocks"])
    assert "Cancelled." in bot.slack.thread("C0DTSBOT01", message["ts"])[0]["text"]


def test_a_stranger_cannot_cancel(bot: Bot) -> None:
    request_id = bot.create()
    bot.driver.slash(STRANGER, f"cancel {request_id}")
    confirm = bot.ephemeral_after(STRANGER, 0)
    bot.driver.click(STRANGER, confirm, "cancel")
    bot.slack.wait_for(lambda: "Only the requester or an approver" in str(bot.slack.ephemerals(STRANGER)))
    assert bot.request(request_id).state == "requested"


def test_list_status_and_cancel_answer_only_in_the_channel(bot: Bot) -> None:
    """Requests are the channel's business: typed in a DM (or another channel), they show nothing of a request,
    so a private channel's non-member learns no account, UIN, instance or role."""
    request_id = bot.create()
    request = bot.request(request_id)
    for text in ("list", f"status {request_id}", f"cancel {request_id}"):
        count = len(bot.slack.ephemerals(STRANGER))
        assert bot.driver.slash(STRANGER, text, channel="D0STRANGER").status == 200
        answer = bot.ephemeral_after(STRANGER, count)
        assert answer["text"].startswith("Requests are followed in <#C0DTSBOT01>: run /dts-migrate")
        assert not [v for v in (request.source_uin, request.target_uin, request.source_instance, request.role_name)
                    if v in str(answer)]
    bot.driver.slash(STRANGER, "help", channel="D0STRANGER")  # help is for anyone, anywhere
    assert "/dts-migrate" in bot.ephemeral_after(STRANGER, count + 1)["text"]
