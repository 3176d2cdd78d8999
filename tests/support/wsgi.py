"""The Slack driver with the HTTP hop replaced by a direct call of the bot's WSGI application.

The same signature check, Bolt dispatch and listeners run as over a socket, thousands of times faster (the
hostile-input tests deliver thousands of requests). It keeps every body it sent, so a test can deliver the very
same request again (a Slack retry or a replay).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.slack.driver import Response, SlackDriver, slack_headers
from sandbox.slack.emulator import SlackEmulator


@dataclass
class Sent:
    """One delivery as it went on the wire, so it can be delivered again byte for byte."""

    body: bytes
    content_type: str
    timestamp: str


class WsgiDriver(SlackDriver):
    """SlackDriver whose `send` calls the WSGI application directly (no socket)."""

    def __init__(self, application: Callable[..., Iterable[bytes]], signing_secret: str,
                 emulator: SlackEmulator) -> None:
        super().__init__("http://in-process", signing_secret, emulator)
        self.application = application
        self.sent: list[Sent] = []

    def send(self, body: bytes, content_type: str, *, signed: bool = True, forged: bool = False,
             skew_seconds: int = 0, retry_num: int | None = None, retry_reason: str = "http_timeout",
             timeout: float = 10.0, timestamp: str | None = None) -> Response:
        """Deliver `body` as Slack would; `timestamp` re-sends an earlier delivery's signature (a replay)."""
        stamp = timestamp or str(int(time.time()) + skew_seconds)
        headers = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in slack_headers(
            self.signing_secret, body, stamp, signed=signed, forged=forged, retry_num=retry_num,
            retry_reason=retry_reason).items()}
        self.sent.append(Sent(body, content_type, stamp))
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "0", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False, **headers,
        }
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

        started = time.monotonic()
        raw = b"".join(self.application(environ, start_response))
        elapsed = time.monotonic() - started
        return Response(answer["status"], _parse(raw, answer["headers"]), elapsed, answer["headers"])

    def again(self, sent: Sent, **delivery: Any) -> Response:
        """Deliver an earlier request again with a fresh signature (Slack's retry) or its own (`replay`)."""
        return self.send(sent.body, sent.content_type, **delivery)


def _parse(raw: bytes, headers: dict[str, str]) -> Any:
    text = raw.decode("utf-8", errors="replace")
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return json.loads(text) if "json" in content_type and text else text
