"""The Slack emulator against the real slack_sdk WebClient, and the driver against a real Bolt app."""

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.slack.testing import WsgiServer

CHANNEL = "C0DTSBOT01"
SIGNING_SECRET = "sandbox-signing-secret"


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {**block, "block_id": block_id} if block_id else block


def button(text: str, action_id: str = "approve_source", value: str = "req-1") -> dict:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": text}}


def modal(title: str = "New migration", blocks: list | None = None) -> dict:
    return {
        "type": "modal", "callback_id": "request_form", "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Request"}, "private_metadata": "C0DTSBOT01",
        "blocks": blocks if blocks is not None else [
            {"type": "input", "block_id": "source_instance", "label": {"type": "plain_text", "text": "Source"},
             "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "cdb-src00001"}},
            {"type": "input", "block_id": "db_type", "label": {"type": "plain_text", "text": "Engine"},
             "element": {"type": "static_select", "action_id": "value", "options": [
                 {"text": {"type": "plain_text", "text": t}, "value": t} for t in ("mysql", "redis")]}},
        ],
    }


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(usergroups={"S0SRCOWNERS": ["U0SRCOWNER"]},
                       members={CHANNEL: ["U0DTSBOT", "U0REQUESTER", "U0SRCOWNER", "U0TGTOWNER"]}) as emulator:
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.base_url)


def error_of(call) -> dict:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response.data


# -- auth and routing ---------------------------------------------------------------------------------
def test_auth_test_answers_the_bot_identity(client: WebClient) -> None:
    answer = client.auth_test()
    assert (answer["user_id"], answer["team_id"], answer["bot_id"]) == ("U0DTSBOT", "T0DTSBOT", "B0DTSBOT")


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_posted(slack: SlackEmulator) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=slack.base_url)
    assert error_of(lambda: wrong.chat_postMessage(channel=CHANNEL, text="hi"))["error"] == "invalid_auth"
    missing = WebClient(base_url=slack.base_url)
    assert error_of(lambda: missing.auth_test())["error"] == "not_authed"
    assert slack.messages() == []


def test_unknown_method(client: WebClient) -> None:
    assert error_of(lambda: client.api_call("chat.shout"))["error"] == "unknown_method"


def test_form_encoded_call_with_the_token_in_the_body_is_accepted_and_the_token_redacted(
        slack: SlackEmulator) -> None:
    form = {"token": slack.token, "channel": CHANNEL, "text": "form", "blocks": json.dumps([section("a form")])}
    request = urllib.request.Request(f"{slack.base_url}chat.postMessage", data=urlencode(form).encode())
    with urllib.request.urlopen(request) as answer:
        assert json.loads(answer.read())["ok"] is True
    assert slack.messages()[0]["blocks"] == [section("a form")]
    assert slack.calls[0].args["token"] == "[redacted]"
    assert slack.token not in json.dumps([c.args for c in slack.calls])


# -- messages -----------------------------------------------------------------------------------------
def test_messages_threads_and_updates_are_recorded_in_order(slack: SlackEmulator, client: WebClient) -> None:
    first = client.chat_postMessage(channel=CHANNEL, text="request", blocks=[section("plan")])
    second = client.chat_postMessage(channel=CHANNEL, text="another")
    reply = client.chat_postMessage(channel=CHANNEL, text="role created", thread_ts=first["ts"])
    assert first["ts"] == "1732500000.000100"
    assert float(first["ts"]) < float(second["ts"]) < float(reply["ts"])
    client.chat_update(channel=CHANNEL, ts=first["ts"], text="request (approved)", blocks=[section("done")])

    top = slack.messages(CHANNEL)
    assert [m["text"] for m in top] == ["request (approved)", "another"]
    assert top[0]["blocks"] == [section("done")] and top[0]["reply_count"] == 1
    assert [m["text"] for m in slack.thread(CHANNEL, first["ts"])] == ["role created"]
    assert [m["text"] for m in slack.history(first["ts"])] == ["request"]


def test_message_errors(client: WebClient) -> None:
    assert error_of(lambda: client.chat_postMessage(channel="C0NOWHERE", text="x"))["error"] == "channel_not_found"
    assert error_of(lambda: client.api_call("chat.postMessage", json={"channel": CHANNEL}))["error"] == "no_text"
    assert error_of(lambda: client.chat_update(channel=CHANNEL, ts="1.2", text="x"))["error"] == "message_not_found"
    assert error_of(lambda: client.chat_postMessage(channel=CHANNEL, text="x", thread_ts="9.9"))["error"] \
        == "thread_not_found"


def test_not_in_channel_when_the_bot_is_not_a_member() -> None:
    with SlackEmulator(members={CHANNEL: ["U0REQUESTER"]}) as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        assert error_of(lambda: client.chat_postMessage(channel=CHANNEL, text="x"))["error"] == "not_in_channel"
        assert client.conversations_info(channel=CHANNEL)["channel"]["is_member"] is False


@pytest.mark.parametrize("blocks, pointer", [
    ([{"type": "divider"}] * 51, "/blocks"),
    ([{"type": "actions", "elements": [button("x" * 76)]}], "/blocks/0/elements/0/text/text"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0"),
    ([section("s" * 3001)], "/blocks/0"),
    ([{"type": "section", "text": {"type": "markdown", "text": "x"}}], "/blocks/0/text"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "/blocks/0/text"),
    ([section("a", "same"), section("b", "same")], "/blocks"),
    ([{"type": "actions", "elements": [button("ok", action_id="a" * 256)]}], "/blocks/0/elements/0/action_id"),
    ([{"type": "actions", "elements": [button("a"), button("b")]}], "/blocks/0"),
    ([{"type": "no_such_block"}], "/blocks/0"),
    ([{"text": "no type"}], "/blocks/0"),
])
def test_invalid_blocks_are_refused_like_slack(slack: SlackEmulator, client: WebClient, blocks: list,
                                               pointer: str) -> None:
    answer = error_of(lambda: client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=blocks))
    assert answer["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in answer["errors"]), answer["errors"]
    assert slack.messages() == []


def test_blocks_at_the_limits_are_accepted(slack: SlackEmulator, client: WebClient) -> None:
    blocks = [section("s" * 3000, f"b{i}") for i in range(49)]
    blocks.append({"type": "actions", "elements": [button("x" * 75)]})
    client.chat_postMessage(channel=CHANNEL, text="full", blocks=blocks)
    assert len(slack.messages()[0]["blocks"]) == 50


def test_ephemerals_are_shown_only_to_their_user(slack: SlackEmulator, client: WebClient) -> None:
    answer = client.chat_postEphemeral(channel=CHANNEL, user="U0REQUESTER", text="only you")
    assert answer["message_ts"]
    assert [e["text"] for e in slack.ephemerals("U0REQUESTER")] == ["only you"]
    assert slack.ephemerals("U0SRCOWNER") == [] and slack.messages() == []
    refused = error_of(lambda: client.chat_postEphemeral(channel=CHANNEL, user="U0STRANGER", text="x"))
    assert refused["error"] == "user_not_in_channel"


def test_permalink(client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="x")["ts"]
    assert client.chat_getPermalink(channel=CHANNEL, message_ts=ts)["permalink"].endswith(
        f"/archives/{CHANNEL}/p{ts.replace('.', '')}")


# -- directory ----------------------------------------------------------------------------------------
def test_directory_methods(client: WebClient) -> None:
    assert client.users_info(user="U0TGTOWNER")["user"]["real_name"] == "Tara Target-Owner"
    assert client.users_info(user="U0DTSBOT")["user"]["is_bot"] is True
    assert error_of(lambda: client.users_info(user="U0NOBODY"))["error"] == "user_not_found"
    info = client.conversations_info(channel=CHANNEL)["channel"]
    assert (info["name"], info["is_member"]) == ("dts-migrations", True)
    page = client.conversations_members(channel=CHANNEL, limit=3)
    rest = client.conversations_members(channel=CHANNEL, cursor=page["response_metadata"]["next_cursor"])
    assert page["members"] + rest["members"] == ["U0DTSBOT", "U0REQUESTER", "U0SRCOWNER", "U0TGTOWNER"]
    assert rest["response_metadata"]["next_cursor"] == ""
    assert client.usergroups_users_list(usergroup="S0SRCOWNERS")["users"] == ["U0SRCOWNER"]
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0NONE"))["error"] == "no_such_subteam"


def test_users_lookup_by_email_like_slack(slack: SlackEmulator, client: WebClient) -> None:
    found = client.users_lookupByEmail(email="Tara@dtsbot-sandbox.example")["user"]
    assert (found["id"], found["profile"]["email"]) == ("U0TGTOWNER", "tara@dtsbot-sandbox.example")
    assert error_of(lambda: client.users_lookupByEmail(email="nobody@shop.example"))["error"] == "users_not_found"
    slack.workspace.deactivate("U0TGTOWNER")
    assert error_of(lambda: client.users_lookupByEmail(email="tara@dtsbot-sandbox.example"))["error"] == \
        "users_not_found"
    assert client.users_info(user="U0TGTOWNER")["user"]["deleted"] is True
    slack.workspace.scopes = {"users:read"}
    missing = error_of(lambda: client.users_lookupByEmail(email="sam@dtsbot-sandbox.example"))
    assert (missing["error"], missing["needed"], missing["provided"]) == ("missing_scope", "users:read.email",
                                                                          "users:read")


# -- views --------------------------------------------------------------------------------------------
def test_views_open_push_update(slack: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id=slack.new_trigger_id("U0REQUESTER"), view=modal())["view"]
    assert opened["id"].startswith("V") and opened["state"] == {"values": {}}
    pushed = client.views_push(trigger_id=slack.new_trigger_id("U0REQUESTER"), view=modal("Reason"))["view"]
    assert (pushed["root_view_id"], pushed["previous_view_id"]) == (opened["id"], opened["id"])
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Edited"))["view"]
    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Edited"
    assert [v["title"]["text"] for v in slack.views] == ["Edited", "Reason"]
    stale = error_of(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert stale["error"] == "hash_conflict"
    assert error_of(lambda: client.views_update(view_id="V404", view=modal()))["error"] == "not_found"


def home(blocks: list | None = None, **extra) -> dict:
    return {"type": "home", "blocks": [section("Waiting for your approval")] if blocks is None else blocks, **extra}


def test_views_publish_keeps_one_home_per_user(slack: SlackEmulator, client: WebClient) -> None:
    first = client.views_publish(user_id="U0SRCOWNER", view=home())["view"]
    assert first["type"] == "home" and slack.home("U0SRCOWNER")["blocks"] == home()["blocks"]
    second = client.views_publish(user_id="U0SRCOWNER", view=home([section("Nothing")]), hash=first["hash"])["view"]
    assert second["id"] == first["id"] and slack.home("U0SRCOWNER")["blocks"] == [section("Nothing")]
    stale = error_of(lambda: client.views_publish(user_id="U0SRCOWNER", view=home(), hash=first["hash"]))
    assert stale["error"] == "hash_conflict"
    assert slack.home("U0TGTOWNER") is None


@pytest.mark.parametrize(("user", "view", "message"), [
    ("U0NOBODY", home(), "invalid `user_id`"),
    ("U0SRCOWNER", modal(), "must be home [json-pointer:/view/type]"),
    ("U0SRCOWNER", home(title={"type": "plain_text", "text": "Home"}),
     "title is not allowed in a home view [json-pointer:/view/title]"),
    ("U0SRCOWNER", home([section(f"s{i}") for i in range(101)]),
     "must be less than 101 items [json-pointer:/view/blocks]"),
    ("U0SRCOWNER", home([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]),
     "must be more than 0 characters [json-pointer:/view/blocks/0/text/text]"),
])
def test_views_publish_refuses_what_slack_refuses(slack: SlackEmulator, client: WebClient, user: str, view: dict,
                                                  message: str) -> None:
    error = error_of(lambda: client.views_publish(user_id=user, view=view))
    assert error["error"] == "invalid_arguments" and message in error["response_metadata"]["messages"]
    assert slack.home(user) is None


def test_views_publish_needs_the_home_tab_and_a_small_view(slack: SlackEmulator, client: WebClient) -> None:
    big = home([section("x" * 2900) for _ in range(90)])
    assert error_of(lambda: client.views_publish(user_id="U0SRCOWNER", view=big))["error"] == "view_too_large"
    slack.workspace.home_tab_enabled = False
    assert error_of(lambda: client.views_publish(user_id="U0SRCOWNER", view=home()))["error"] == "not_enabled"


def test_trigger_id_is_single_use_and_expires(slack: SlackEmulator, client: WebClient) -> None:
    trigger = slack.new_trigger_id("U0REQUESTER")
    client.views_open(trigger_id=trigger, view=modal())
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=modal()))["error"] == "exchanged_trigger_id"
    late = slack.new_trigger_id("U0REQUESTER")
    slack.workspace.age_triggers(slack.api.trigger_ttl + 0.5)  # Slack's trigger_id lives 3 s
    assert error_of(lambda: client.views_open(trigger_id=late, view=modal()))["error"] == "expired_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="1.2.3", view=modal()))["error"] == "invalid_trigger_id"
    assert len(slack.views) == 1


@pytest.mark.parametrize("view", [
    modal(title="t" * 25),
    modal(blocks=[section(f"{i}") for i in range(101)]),
    {**modal(), "submit": {"type": "plain_text", "text": "s" * 25}},
    {k: v for k, v in modal().items() if k != "submit"},
    {**modal(), "type": "dialog"},
])
def test_invalid_views_are_refused(slack: SlackEmulator, client: WebClient, view: dict) -> None:
    answer = error_of(lambda: client.views_open(trigger_id=slack.new_trigger_id(), view=view))
    assert answer["error"] == "invalid_arguments" and answer["response_metadata"]["messages"]
    assert slack.views == []


# -- response_url -------------------------------------------------------------------------------------
def test_response_url_ephemeral_in_channel_replace_and_delete(slack: SlackEmulator, client: WebClient) -> None:
    WebhookClient(slack.new_response_url(CHANNEL, "U0REQUESTER")).send(text="just you")
    WebhookClient(slack.new_response_url(CHANNEL, "U0REQUESTER")).send(text="everyone", response_type="in_channel")
    assert [e["text"] for e in slack.ephemerals("U0REQUESTER")] == ["just you"]
    assert [m["text"] for m in slack.messages()] == ["everyone"]

    ts = client.chat_postMessage(channel=CHANNEL, text="request")["ts"]
    on_message = slack.new_response_url(CHANNEL, "U0SRCOWNER", message_ts=ts)
    assert WebhookClient(on_message).send(text="approved", replace_original=True).status_code == 200
    assert slack.message(ts)["text"] == "approved"
    WebhookClient(on_message).send(delete_original=True)
    assert [m["text"] for m in slack.messages()] == ["everyone"]
    assert WebhookClient(f"{slack.url}/response/unknown").send(text="x").status_code == 404


# -- faults -------------------------------------------------------------------------------------------
def test_429_with_retry_after_is_honoured_and_the_message_arrives_once(slack: SlackEmulator) -> None:
    slack.faults.rate_limit(method="chat.postMessage", count=1, retry_after=1)
    client = WebClient(token=slack.token, base_url=slack.base_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    started = time.monotonic()
    client.chat_postMessage(channel=CHANNEL, text="notice")
    assert time.monotonic() - started >= 1.0
    assert [m["text"] for m in slack.messages()] == ["notice"]
    assert [c.status for c in slack.calls] == [429, 200]


def test_429_without_a_retry_handler_surfaces_and_posts_nothing(slack: SlackEmulator, client: WebClient) -> None:
    slack.faults.rate_limit(count=1, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=CHANNEL, text="notice")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert slack.messages() == []


def test_server_error_count_and_window_with_server_error_retry_handler(slack: SlackEmulator) -> None:
    retry = ServerErrorRetryHandler(max_retry_count=20,
                                    interval_calculator=FixedValueRetryIntervalCalculator(0.05))
    client = WebClient(token=slack.token, base_url=slack.base_url, retry_handlers=[retry])
    slack.faults.server_error(method="chat.postMessage", count=2)
    client.chat_postMessage(channel=CHANNEL, text="after two 500s")
    slack.faults.server_error(seconds=0.3, status=503)
    client.chat_postMessage(channel=CHANNEL, text="after an outage")
    assert [m["text"] for m in slack.messages()] == ["after two 500s", "after an outage"]
    statuses = [c.status for c in slack.calls]
    assert statuses[:3] == [500, 500, 200] and statuses[-1] == 200 and statuses.count(503) >= 2


def test_admin_endpoints_set_faults_read_messages_and_reset(slack: SlackEmulator, client: WebClient) -> None:
    def admin(path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{slack.url}/_emulator/{path}", data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())

    admin("faults", {"kind": "server_error", "method": "auth.test", "count": 1, "status": 503})
    assert error_of(lambda: client.auth_test())["error"] == "service_unavailable"
    client.chat_postMessage(channel=CHANNEL, text="kept")
    assert [m["text"] for m in admin(f"messages?channel={CHANNEL}")["messages"]] == ["kept"]
    assert admin("reset", {})["ok"] and slack.messages() == [] and slack.calls == []


def test_posting_rate_is_measured_per_channel(slack: SlackEmulator, client: WebClient) -> None:
    for text in ("a", "b", "c"):
        client.chat_postMessage(channel=CHANNEL, text=text)
    assert slack.max_posts_in_window(CHANNEL, window=600.0) == 3  # within ten minutes, however slow the machine
    assert slack.max_posts_in_window(CHANNEL, window=0.0) == 0


def test_wait_for_sees_a_post_from_another_thread(slack: SlackEmulator, client: WebClient) -> None:
    threading.Timer(0.1, lambda: client.chat_postMessage(channel=CHANNEL, text="later")).start()
    assert slack.wait_for(lambda: slack.messages(), timeout=2)[0]["text"] == "later"
    with pytest.raises(TimeoutError):
        slack.wait_for(lambda: slack.ephemerals(), timeout=0.1)


# -- the driver against a real Bolt app ---------------------------------------------------------------
class BoltUnderTest:
    """A minimal Bolt app with a command, an action and a view listener that record what they parsed."""

    def __init__(self, slack: SlackEmulator) -> None:
        self.seen: list[dict] = []
        self.app = App(client=WebClient(token=slack.token, base_url=slack.base_url),
                       signing_secret=SIGNING_SECRET)
        self.app.command("/dts-migrate")(self.command)
        self.app.action("approve_source")(self.approve)
        self.app.view("request_form")(self.submitted)

    def command(self, ack, body, respond, client, request) -> None:
        ack()
        self.seen.append({"kind": "command", "body": body, "retry": request.headers.get("x-slack-retry-num", [None])[0]})
        if body["text"] == "":
            client.views_open(trigger_id=body["trigger_id"], view=modal())
        else:
            respond(f"fields: {body['text']}")

    def approve(self, ack, body, respond) -> None:
        ack()
        self.seen.append({"kind": "action", "body": body})
        respond(replace_original=True, text=f"approved by <@{body['user']['id']}>")

    def submitted(self, ack, body, view) -> None:
        values = view["state"]["values"]
        self.seen.append({"kind": "view", "body": body, "values": values})
        if values["db_type"]["value"]["selected_option"] is None:
            ack(response_action="errors", errors={"db_type": "Choose an engine"})
        else:
            ack()


@pytest.fixture
def bolt(slack: SlackEmulator) -> Iterator[tuple[BoltUnderTest, SlackDriver]]:
    under_test = BoltUnderTest(slack)
    with WsgiServer(SlackRequestHandler(under_test.app)) as server:
        yield under_test, SlackDriver(server.url, SIGNING_SECRET, slack)


def test_signed_slash_command_reaches_bolt_and_its_reply_reaches_the_emulator(slack: SlackEmulator, bolt) -> None:
    app, driver = bolt
    answer = driver.slash("U0REQUESTER", "source_account=shop-prod", retry_num=1)
    assert answer.status == 200 and answer.elapsed < 3
    body = app.seen[0]["body"]
    assert (body["user_id"], body["channel_id"], body["command"]) == ("U0REQUESTER", CHANNEL, "/dts-migrate")
    assert app.seen[0]["retry"] == "1"
    reply = slack.wait_for(lambda: slack.ephemerals("U0REQUESTER"))
    assert reply[0]["text"] == "fields: source_account=shop-prod"


@pytest.mark.parametrize("delivery", [{"forged": True}, {"signed": False}, {"skew_seconds": -600},
                                      {"skew_seconds": 600}])
def test_forged_unsigned_and_stale_requests_get_401(bolt, delivery: dict) -> None:
    app, driver = bolt
    assert driver.slash("U0REQUESTER", "help", **delivery).status == 401
    assert app.seen == []


def test_slash_without_text_opens_the_modal_with_the_issued_trigger(slack: SlackEmulator, bolt) -> None:
    _, driver = bolt
    assert driver.slash("U0REQUESTER", "").status == 200
    assert slack.wait_for(lambda: slack.views)[0]["callback_id"] == "request_form"


def test_click_carries_the_button_and_message_and_response_url_replaces_it(slack: SlackEmulator, bolt) -> None:
    app, driver = bolt
    posted = app.app.client.chat_postMessage(channel=CHANNEL, text="request", blocks=[
        section("plan", "plan"), {"type": "actions", "block_id": "approvals", "elements": [button("Approve")]}])
    message = slack.messages()[0]
    assert driver.click("U0SRCOWNER", message, "approve_source").status == 200
    body = app.seen[0]["body"]
    action = body["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == ("approve_source", "approvals", "req-1")
    assert body["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": CHANNEL,
                                 "is_ephemeral": False}
    assert body["message"]["blocks"] == message["blocks"] and body["user"]["id"] == "U0SRCOWNER"
    assert slack.wait_for(lambda: slack.message(posted["ts"])["text"] == "approved by <@U0SRCOWNER>")
    assert [m["text"] for m in slack.history(posted["ts"])] == ["request"]
    with pytest.raises(LookupError):
        driver.click("U0SRCOWNER", message, "no_such_button")


def test_click_on_an_ephemeral_message_has_no_message_field(slack: SlackEmulator, bolt) -> None:
    app, driver = bolt
    app.app.client.chat_postEphemeral(channel=CHANNEL, user="U0REQUESTER", text="confirm?",
                                      blocks=[{"type": "actions", "elements": [button("Yes")]}])
    driver.click("U0REQUESTER", slack.ephemerals("U0REQUESTER")[0], "approve_source", value="req-2")
    body = app.seen[0]["body"]
    assert body["container"]["is_ephemeral"] is True and "message" not in body
    assert body["actions"][0]["value"] == "req-2"
    assert slack.wait_for(lambda: slack.ephemerals("U0REQUESTER")[0]["text"].startswith("approved"))


def test_view_submission_state_values_parse_in_bolt_and_errors_come_back(slack: SlackEmulator, bolt) -> None:
    app, driver = bolt
    driver.slash("U0REQUESTER", "")
    view = slack.wait_for(lambda: slack.views)[0]

    refused = driver.submit_view("U0REQUESTER", view)
    assert refused.body == {"response_action": "errors", "errors": {"db_type": "Choose an engine"}}
    assert app.seen[-1]["values"]["source_instance"]["value"] == {"type": "plain_text_input",
                                                                  "value": "cdb-src00001"}

    accepted = driver.submit_view("U0REQUESTER", view, {"db_type": "redis", "source_instance": "crs-src00001"})
    assert accepted.status == 200
    values = app.seen[-1]["values"]
    assert values["db_type"]["value"]["selected_option"]["value"] == "redis"
    assert values["source_instance"]["value"]["value"] == "crs-src00001"
    assert app.seen[-1]["body"]["view"]["private_metadata"] == "C0DTSBOT01"
    with pytest.raises(LookupError):
        driver.submit_view("U0REQUESTER", view, {"db_type": "oracle"})
