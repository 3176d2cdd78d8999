"""/dts-migrate: the form, inline requests, every validation message, help, list, status and cancel."""

from __future__ import annotations

from core import validation
from tests.bot.conftest import INLINE, REQUESTER, Bot


def test_modal_flow_opens_the_form_and_the_submission_posts_the_request(bot: Bot) -> None:
    answer = bot.driver.slash(REQUESTER, "")
    assert answer.status == 200 and answer.elapsed < 3
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    assert view["callback_id"] == "request_form"
    assert [b["block_id"] for b in view["blocks"]] == list(validation.FIELDS)
    role = next(b for b in view["blocks"] if b["block_id"] == "role_name")
    assert role["element"]["initial_value"] == "DTS-role"
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
    from tests.bot.conftest import eventually
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
