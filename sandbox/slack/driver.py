"""Plays the Slack side of a conversation with the bot: signed slash commands, clicks, modal submissions and
Events API callbacks (app_home_opened).

`SlackPayloads` builds them in Slack's documented shapes; `SlackDriver` posts them to the bot's
`POST /slack/events`, signed with the v0 HMAC-SHA256 scheme (each call can forge, omit or age the signature and
add Slack's retry headers, to test refusals and idempotency); `SocketModeDriver` delivers the same payloads as
Socket Mode envelopes and waits for the app's ack. trigger_ids and response_urls come from the emulator, so the
bot's answers land there.
"""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sandbox.slack.emulator import SlackEmulator
from sandbox.slack.forms import state_values
from sandbox.slack.socket_mode import Ack
from sandbox.waiting import DEFAULT_SECONDS, budget


@dataclass
class Response:
    """The bot's HTTP answer: status, body (parsed when JSON), and how long it took."""

    status: int
    body: Any
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)


class SlackPayloads:
    """What Slack sends when people use the bot, whatever the transport (HTTP or Socket Mode)."""

    def __init__(self, emulator: SlackEmulator, team_id: str = "T0DTSBOT", api_app_id: str = "A0DTSBOT") -> None:
        self.emulator = emulator
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.verification_token = "sandbox-verification-token"

    def slash_command(self, user: str, text: str, command: str = "/dts-migrate",
                      channel: str = "C0DTSBOT01") -> dict[str, str]:
        """A slash command's fields (Slack form-encodes them over HTTP, sends them as an object in Socket Mode)."""
        return {
            "token": self.verification_token, "team_id": self.team_id, "team_domain": "dtsbot-sandbox",
            "channel_id": channel, "channel_name": self.emulator.workspace.channels.get(channel, "unknown"),
            "user_id": user, "user_name": self._user(user)["username"], "command": command, "text": text,
            "api_app_id": self.api_app_id, "is_enterprise_install": "false",
            "response_url": self.emulator.new_response_url(channel, user),
            "trigger_id": self.emulator.new_trigger_id(user),
        }

    def block_actions(self, user: str, message: dict, action_id: str, value: str | None = None,
                      block_id: str | None = None) -> dict:
        """A button click (block_actions) on a message, an ephemeral message or an open view.

        `message` is what the emulator recorded (messages(), ephemerals(), views); the button is found in
        its blocks by action_id, so its block_id, text and value come from what the bot really sent.
        """
        block, button = _find_element(message.get("blocks", []), action_id, block_id)
        action = {
            "action_id": action_id, "block_id": block.get("block_id", ""), "type": button.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if "text" in button:
            action["text"] = button["text"]
        if value is not None or "value" in button:
            action["value"] = value if value is not None else button["value"]
        payload = {
            **self._envelope("block_actions", user), "actions": [action],
            "trigger_id": self.emulator.new_trigger_id(user), "state": {"values": {}},
        }
        if message.get("type") in ("modal", "home") and "id" in message:
            payload.update(container={"type": "view", "view_id": message["id"]}, view=message)
        else:
            payload.update(self._message_context(user, message))
        return payload

    def view_submission(self, user: str, view: dict, values: dict | None = None) -> dict:
        """A modal submission. `values` maps block_id to either Slack's state value dicts
        ({action_id: {...}}) or plain values (text, an option value, a list); unset inputs keep their
        initial value, as when a person leaves a prefilled field alone."""
        current = self._current_view(view)
        submitted = {**current, "state": {"values": state_values(current, values or {})}}
        return {
            **self._envelope("view_submission", user), "view": submitted, "response_urls": [],
            "trigger_id": self.emulator.new_trigger_id(user),
        }

    def app_home_opened(self, user: str, tab: str = "home") -> dict:
        """The Events API callback Slack sends when `user` opens the app's Home (or Messages) tab; it carries
        the Home view last published for them, if any."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": tab,
                                 "event_ts": f"{time.time():.6f}"}
        home = self.emulator.home(user)
        if home is not None:
            event["view"] = home
        return self.event_callback(event)

    def event_callback(self, event: dict) -> dict:
        """An Events API `event_callback` envelope around one event."""
        return {
            "token": self.verification_token, "team_id": self.team_id, "api_app_id": self.api_app_id,
            "event": event, "type": "event_callback", "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()), "is_ext_shared_channel": False,
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": "U0DTSBOT",
                                "is_bot": True, "is_enterprise_install": False}],
        }

    def _envelope(self, kind: str, user: str) -> dict:
        return {
            "type": kind, "user": self._user(user), "api_app_id": self.api_app_id,
            "token": self.verification_token, "team": {"id": self.team_id, "domain": "dtsbot-sandbox"},
            "enterprise": None, "is_enterprise_install": False,
        }

    def _message_context(self, user: str, message: dict) -> dict:
        ts = message["ts"]
        ephemeral = self.emulator.workspace.find_ephemeral(ts) is not None
        channel = message.get("channel") or self.emulator.workspace.by_ts[ts][0]
        context = {
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral},
            "channel": {"id": channel, "name": self.emulator.workspace.channels.get(channel, "unknown")},
            "response_url": self.emulator.new_response_url(channel, user, ts, ephemeral),
        }
        if not ephemeral:  # Slack leaves the message out of payloads from ephemeral messages
            context["message"] = {k: v for k, v in message.items() if k != "channel"}
        return context

    def _current_view(self, view: dict) -> dict:
        current = self.emulator.workspace.views.get(view.get("id", ""))
        source = current if current is not None else view
        return {k: v for k, v in source.items() if not k.startswith("_")}

    def _user(self, user: str) -> dict:
        name = self.emulator.workspace.users.get(user, user).split()[0].lower()
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}


class SlackDriver(SlackPayloads):
    """Sends what Slack would send when people use the bot, over HTTP to `POST /slack/events`."""

    def __init__(self, app_url: str, signing_secret: str, emulator: SlackEmulator,
                 team_id: str = "T0DTSBOT", api_app_id: str = "A0DTSBOT") -> None:
        super().__init__(emulator, team_id, api_app_id)
        self.app_url = app_url.rstrip("/") + ("" if app_url.endswith("/slack/events") else "/slack/events")
        self.signing_secret = signing_secret

    # -- the three interactions --------------------------------------------------------------------
    def slash(self, user: str, text: str, command: str = "/dts-migrate", channel: str = "C0DTSBOT01",
              **delivery: Any) -> Response:
        """A slash command, form-encoded as Slack posts it."""
        form = self.slash_command(user, text, command, channel)
        return self.send(urlencode(form).encode(), "application/x-www-form-urlencoded", **delivery)

    def click(self, user: str, message: dict, action_id: str, value: str | None = None,
              block_id: str | None = None, **delivery: Any) -> Response:
        """A button click on a message, an ephemeral message or an open view (see `block_actions`)."""
        return self._send_payload(self.block_actions(user, message, action_id, value, block_id), **delivery)

    def submit_view(self, user: str, view: dict, values: dict | None = None, **delivery: Any) -> Response:
        """Submit a modal (see `view_submission`)."""
        return self._send_payload(self.view_submission(user, view, values), **delivery)

    def open_home(self, user: str, tab: str = "home", **delivery: Any) -> Response:
        """`user` opens the app's Home tab: the app_home_opened event, as JSON the way the Events API posts it."""
        return self.send(json.dumps(self.app_home_opened(user, tab)).encode(), "application/json", **delivery)

    # -- the wire ----------------------------------------------------------------------------------
    def send(self, body: bytes, content_type: str, *, signed: bool = True, forged: bool = False,
             skew_seconds: int = 0, retry_num: int | None = None, retry_reason: str = "http_timeout",
             timeout: float = DEFAULT_SECONDS) -> Response:
        """POST a body to the bot as Slack does; the keyword options break the delivery on purpose.

        `timeout` bounds the wait for the answer (scaled by `sandbox.waiting.budget`); how fast the bot acks is
        measured by bench/ack.py, not here."""
        headers = {"Content-Type": content_type, **slack_headers(
            self.signing_secret, body, str(int(time.time()) + skew_seconds), signed=signed, forged=forged,
            retry_num=retry_num, retry_reason=retry_reason)}
        request = urllib.request.Request(self.app_url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=budget(timeout)) as answer:
                status, raw, answer_headers = answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as error:
            status, raw, answer_headers = error.code, error.read(), dict(error.headers)
        elapsed = time.monotonic() - started
        return Response(status=status, body=_parse(raw, answer_headers), elapsed=elapsed, headers=answer_headers)

    def _send_payload(self, payload: dict, **delivery: Any) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(body, "application/x-www-form-urlencoded", **delivery)


class SocketModeDriver(SlackPayloads):
    """Sends the same payloads as Socket Mode envelopes through the emulator's WebSocket link and waits for
    the app's ack (Slack expects it within 3 s). `accepts_response_payload` is as Slack sets it: true for
    slash commands and view submissions, false for block_actions."""

    def slash(self, user: str, text: str, command: str = "/dts-migrate", channel: str = "C0DTSBOT01",
              timeout: float = DEFAULT_SECONDS) -> Ack:
        """A slash command envelope (`slash_commands`); returns the app's ack."""
        return self.command(self.slash_command(user, text, command, channel), timeout)

    def command(self, fields: dict[str, str], timeout: float = DEFAULT_SECONDS) -> Ack:
        """A slash command envelope with exactly these fields (e.g. `slash_command`'s, some changed)."""
        return self._deliver("slash_commands", fields, True, timeout)

    def click(self, user: str, message: dict, action_id: str, value: str | None = None,
              block_id: str | None = None, timeout: float = DEFAULT_SECONDS) -> Ack:
        """A button click envelope (`interactive`, block_actions); returns the app's ack."""
        payload = self.block_actions(user, message, action_id, value, block_id)
        return self._deliver("interactive", payload, False, timeout)

    def submit_view(self, user: str, view: dict, values: dict | None = None, timeout: float = DEFAULT_SECONDS) -> Ack:
        """A modal submission envelope (`interactive`, view_submission); returns the app's ack."""
        return self._deliver("interactive", self.view_submission(user, view, values), True, timeout)

    def open_home(self, user: str, tab: str = "home", timeout: float = DEFAULT_SECONDS) -> Ack:
        """An Events API envelope (`events_api`) of `user` opening the app's Home tab; returns the app's ack."""
        return self._deliver("events_api", self.app_home_opened(user, tab), False, timeout)

    def _deliver(self, kind: str, payload: dict, accepts_response_payload: bool, timeout: float) -> Ack:
        link = self.emulator.socket_mode
        return link.wait_for_ack(link.deliver(kind, payload, accepts_response_payload, timeout), timeout)


def slack_headers(signing_secret: str, body: bytes, timestamp: str, *, signed: bool = True, forged: bool = False,
                  retry_num: int | None = None, retry_reason: str = "http_timeout") -> dict[str, str]:
    """The headers Slack adds to a delivery: its signature (or a forged one, or none) and retry markers."""
    headers: dict[str, str] = {}
    if signed:
        secret = "forged-" + signing_secret if forged else signing_secret
        headers["X-Slack-Request-Timestamp"] = timestamp
        headers["X-Slack-Signature"] = sign(secret, timestamp, body)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _find_element(blocks: list[dict], action_id: str, block_id: str | None) -> tuple[dict, dict]:
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates = list(block.get("elements", [])) + [block.get("accessory") or {}, block.get("element") or {}]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    raise LookupError(f"no element with action_id {action_id!r} in the message's blocks")


def _parse(raw: bytes, headers: dict[str, str]) -> Any:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type and text:
        return json.loads(text)
    return text
