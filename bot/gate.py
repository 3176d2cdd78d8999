"""The gate before Bolt: a request to `/slack/events` that is not a well-formed, signed Slack request gets a 4xx
and one log line, never reaches Bolt (whose parsing raises on such input) and never logs a traceback.

Checked in order: a numeric `X-Slack-Request-Timestamp` and a valid signature (when the gate has the signing
secret; 401), a UTF-8 body (400), and for an interactive `payload=` or a JSON body, a JSON object (400).
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
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type.startswith("application/json"):
            document = text
        else:
            document = (parse_qs(text).get("payload") or [None])[0]
        if document is not None and not isinstance(_json(document), dict):
            return "400 Bad Request", "payload is not a JSON object"
        return None

    def _signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 scheme, over the raw bytes (whatever their encoding)."""
        assert self._secret is not None
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))


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
