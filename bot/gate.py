"""The gate before Bolt: a request to `/slack/events` that is not a well-formed, signed Slack request gets a 4xx
and one log line, never reaches Bolt (whose parsing raises on such input) and never logs a traceback.

Checked in order: a numeric `X-Slack-Request-Timestamp` and a valid signature (when the gate has the signing
secret; 401), a UTF-8 body (400), then Slack's documented shape (400): a JSON body is an object; an interactive
`payload=` is an object with a `type` and `user.id` (and `actions` a list of objects, `view` an object); a slash
command has its `user_id`, `channel_id`, `trigger_id` and `response_url`.
waitress has already refused a bad or oversized Content-Length.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)
COMMAND_FIELDS = ("command", "user_id", "channel_id", "trigger_id", "response_url")
"""What every slash command from Slack carries and the listener relies on."""
MAX_SKEW_SECONDS = 300
"""Slack's rule: a request whose timestamp is more than five minutes away is a replay."""
Refusal = tuple[str, str]
"""(HTTP status line, plain-text body)."""


class Gate:
    """`admit(environ)`: None to pass the request on (its body re-readable), else the refusal."""

    def __init__(self, signing_secret: str | None) -> None:
        self._secret = signing_secret.encode() if signing_secret else None

    def admit(self, environ: dict[str, Any]) -> Refusal | None:
        body = _read_body(environ)
        refusal = self._refusal(environ, body)
        if refusal is not None:
            log.warning("refused a request to %s from %s: %s", environ.get("PATH_INFO"),
                        environ.get("REMOTE_ADDR", "?"), refusal[1])
        return refusal

    def _refusal(self, environ: dict[str, Any], body: bytes) -> Refusal | None:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        if self._secret is not None:
            if not (timestamp.isascii() and timestamp.isdigit()):
                return "401 Unauthorized", "missing or non-numeric X-Slack-Request-Timestamp"
            if abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
                return "401 Unauthorized", "stale X-Slack-Request-Timestamp"
            if not self._signed(body, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE", "")):
                return "401 Unauthorized", "invalid signature"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "400 Bad Request", "body is not UTF-8"
        if environ.get("CONTENT_TYPE", "").startswith("application/json"):
            return None if isinstance(_json(text), dict) else ("400 Bad Request", "body is not a JSON object")
        form = parse_qs(text, keep_blank_values=True)  # as the body is parsed for Bolt (bot/slack_request.py)
        if "payload" not in form:
            missing = [key for key in COMMAND_FIELDS if "command" in form and not form.get(key, [""])[0]]
            return ("400 Bad Request", f"slash command without {', '.join(missing)}") if missing else None
        payload = _json(form["payload"][0])
        if not isinstance(payload, dict):
            return "400 Bad Request", "payload is not a JSON object"
        problem = _interaction_problem(payload)
        return ("400 Bad Request", f"payload {problem}") if problem else None

    def _signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 scheme, over the raw bytes (whatever their encoding)."""
        assert self._secret is not None
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))


def _interaction_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with an interaction payload's shape (Slack's documented one), if anything."""
    user = payload.get("user")
    if not isinstance(payload.get("type"), str):
        return "has no type"
    if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return "has no user.id"
    if "actions" in payload and not (isinstance(payload["actions"], list)
                                     and all(isinstance(a, dict) for a in payload["actions"])):
        return "actions is not a list of objects"
    for key in ("view", "container", "message", "channel"):
        if key in payload and payload[key] is not None and not isinstance(payload[key], dict):
            return f"{key} is not an object"
    if payload["type"] == "block_actions" and not payload.get("actions"):
        return "block_actions without actions"
    if "view" in payload and isinstance(payload["view"], dict) and payload["type"].startswith("view_") \
            and not isinstance(payload["view"].get("type"), str):
        return "view has no type"
    for action in payload.get("actions") or []:
        for key in ("action_id", "value", "block_id"):  # strings in Slack's block_actions payload
            if key in action and not isinstance(action[key], str):
                return f"actions[].{key} is not a string"
    view = payload.get("view") or {}
    if "private_metadata" in view and not isinstance(view["private_metadata"], str):
        return "view.private_metadata is not a string"
    return None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The whole body (waitress has bounded it), put back so Bolt reads it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _json(document: str) -> Any:
    try:
        return json.loads(document)
    except ValueError:
        return None
