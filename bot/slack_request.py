"""The one edge where Slack's HTTP requests become Bolt requests: bodies parsed by key, not by substring.

Bolt 1.30's `parse_body` treats any form body that contains the substring `payload` as an interactive payload
and returns `{}` when it has no `payload=` key: a slash command from `#payload-migrations`, by a user named
`payload`, or with `objects=payload` in its text would reach no listener (404, no reply). Here the form is read
by its keys: a `payload` key holds an interaction's JSON, anything else is the form's own fields; a JSON body
(the Events API) is JSON. Bolt never parses the body itself, so no text in a field can change the route.
Socket Mode needs no guard: its envelopes carry the payload as an object, which Bolt takes as it is.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltContext
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse

JSON = "application/json"


def parse_by_key(raw_body: str, content_type: str | None) -> dict[str, Any]:
    """A Slack request body as Bolt's listeners expect it: JSON for `application/json`; else the form, whose
    `payload` key (when present) holds the interaction as JSON. A key given twice counts once, first value
    (as bot/gate.py reads it)."""
    if not raw_body:
        return {}
    if content_type == JSON:
        return json.loads(raw_body)
    fields: dict[str, str] = {}
    for key, value in parse_qsl(raw_body, keep_blank_values=True):
        fields.setdefault(key, value)
    return json.loads(fields["payload"]) if "payload" in fields else dict(fields)


class SlackHttpRequest(BoltRequest):
    """A BoltRequest (HTTP mode) whose body is parsed by `parse_by_key`; the raw body stays as it came, for
    Bolt's signature check."""

    def __init__(self, *, body: str, query: Any = None, headers: Any = None,
                 context: dict[str, Any] | None = None) -> None:
        super().__init__(body="", query=query, headers=headers, context=context, mode="http")
        self.raw_body = body
        self.body = parse_by_key(body, self.content_type)
        self.context = build_context(BoltContext(context or {}), self.body)

    def to_copyable(self) -> SlackHttpRequest:
        """A copy parsed the same way (Bolt's own copy would parse the raw body again with parse_body)."""
        return SlackHttpRequest(body=self.raw_body, query=self.query, headers=self.headers,
                                context=self.context.to_copyable())


class SlackEventsHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, handing Bolt `SlackHttpRequest`s."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        return self.app.dispatch(SlackHttpRequest(body=request.get_body(), query=request.query_string,
                                                  headers=request.get_headers()))
