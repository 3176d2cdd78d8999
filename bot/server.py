"""HTTP mode: waitress serving `POST /slack/events` (Bolt's WSGI adapter), `GET /healthz` and `GET /metrics`;
Socket Mode when `slack.app_token` is set; `metrics.port`: a second listener with only /healthz and /metrics.

waitress reads each request in its event loop before a worker thread sees it, so a slow or huge upload costs
a buffer, not a thread: the body cap, the inactivity timeout and the connection limit hold before any
signature check. Each Slack request is acked within milliseconds and the work runs in Bolt's listener executor,
so a few worker threads serve many clicks. Requests that are not Slack's (unsigned, malformed) are refused here
with a 4xx and one log line (bot/gate.py), before Bolt parses them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from waitress.server import create_server

from bot.gate import Gate
from bot.slack_request import SlackEventsHandler
from core.config import Settings

EVENTS_PATH = "/slack/events"
Health = Callable[[], tuple[bool, str]]
"""Returns (healthy, text) for /healthz."""

MAX_BODY_BYTES = 1024 * 1024
"""Slack's payloads are small: a slash command's text is at most 4,000 characters; a button click echoes the
bot's own message (≤ 50 blocks, each text ≤ 3,000 characters: ~150 KB) and a modal submission the form's
inputs (≤ 3,000 characters each). URL-encoded that stays well under 1 MiB; anything larger is not Slack."""
MAX_HEADER_BYTES = 16 * 1024  # Slack's headers are a few hundred bytes
IDLE_TIMEOUT_SECONDS = 5
"""A connection that sends nothing for this long (stalled headers or body, or idle keep-alive) is closed."""
THREADS = 8  # workers only ack (the work is in Bolt's executor): a few suffice on 2 cores
CONNECTION_LIMIT = 256  # open sockets at once; waitress stops accepting beyond it
DRAIN_SECONDS = 10.0  # graceful shutdown: how long in-flight requests may take to be answered
DRAIN_GRACE_SECONDS = 0.5  # ... and at least this long, so a request whose bytes are in flight is seen

# "Task queue depth is N" is logged per request whenever all workers are busy: one line per queued request
# under a burst; the queue is bounded by CONNECTION_LIMIT anyway.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


Exposition = Callable[[], tuple[bytes, str]]
"""Returns (body, content type) for /metrics."""
WsgiApp = Callable[..., Iterable[bytes]]


def ops_app(health: Health | None = None, metrics: Exposition | None = None) -> WsgiApp:
    """`GET /healthz` and (when given) `GET /metrics`, 404 for anything else: the listener on `metrics.port`,
    and the part of `wsgi_app` that is not Slack's."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method == "GET":
            ok, text = health() if health else (True, "ok")
            return _plain(start_response, "200 OK" if ok else "503 Service Unavailable", text.encode())
        if path == "/metrics" and method == "GET" and metrics is not None:
            body, content_type = metrics()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        return _plain(start_response, "404 Not Found", b"not found")

    return application


def wsgi_app(app: App, health: Health | None = None, metrics: Exposition | None = None,
             signing_secret: str | None = None) -> WsgiApp:
    """The WSGI application: Slack's requests (after the gate) to Bolt, plus the health and metrics endpoints
    (`metrics` None: no /metrics here, e.g. when `metrics.port` serves it).

    With `signing_secret` the gate checks the signature itself; without it only the shape, and Bolt signs. Bolt
    gets each body parsed by key (bot/slack_request.py), never by its own substring test."""
    slack = SlackEventsHandler(app, path=EVENTS_PATH)
    gate = Gate(signing_secret)
    ops = ops_app(health, metrics)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") == EVENTS_PATH and environ.get("REQUEST_METHOD", "GET") == "POST":
            refusal = gate.admit(environ)
            if refusal is not None:
                return _plain(start_response, refusal[0], refusal[1].encode())
            return slack(environ, start_response)
        return ops(environ, start_response)

    return application


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


class HttpServer:
    """Serves `wsgi_app` with waitress on host:port in a background thread (port 0: an ephemeral port).

    Binding happens here, so a port in use fails at construction (OSError), before anything starts."""

    def __init__(self, application: WsgiApp, port: int, host: str = "0.0.0.0",
                 threads: int = THREADS) -> None:
        self._server = create_server(
            application, host=host, port=port, threads=threads, connection_limit=CONNECTION_LIMIT,
            channel_timeout=IDLE_TIMEOUT_SECONDS, cleanup_interval=1, max_request_body_size=MAX_BODY_BYTES,
            max_request_header_size=MAX_HEADER_BYTES, backlog=1024, ident="dtsbot", expose_tracebacks=False,
            clear_untrusted_proxy_headers=True, asyncore_use_poll=True,
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://host:port of the running server."""
        host, port = self._server.effective_host, self._server.effective_port
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    @property
    def address(self) -> str:
        """host:port the server listens on (0.0.0.0: every interface), for the start-up log."""
        return f"{self._server.effective_host}:{self._server.effective_port}"

    def start(self) -> str:
        """Start serving; returns the root URL."""
        self._thread = threading.Thread(target=self._server.run, name="dtsbot-http", daemon=True)
        self._thread.start()
        return self.url

    def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Graceful: stop accepting, let requests already received be answered (their acks), then close."""
        server, trigger = self._server, self._server.trigger
        if self._thread is None:  # never started: nothing in flight
            server.close()
            server.task_dispatcher.shutdown()
            return
        trigger.pull_trigger(lambda: (server.del_channel(), server.socket.close()))
        started = time.monotonic()
        while time.monotonic() < started + drain_seconds and (
            time.monotonic() < started + DRAIN_GRACE_SECONDS  # bytes already sent get read first
            or any(channel.request is not None or channel.requests or channel.total_outbufs_len
                   for channel in list(server.active_channels.values()))  # being received, handled, answered
        ):
            time.sleep(0.05)
        # Close every connection, then the trigger itself: the event loop's map is empty and run() returns.
        def close_all() -> None:
            for dispatcher in list(server._map.values()):
                if dispatcher is not trigger:
                    dispatcher.close()
            trigger.close()

        try:
            trigger.pull_trigger(close_all)
        except OSError:  # the loop, still awake from the first pull, ran close_all before this pull's own write
            pass
        self._thread.join(10)
        self._thread = None
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=drain_seconds)


def socket_mode(app: App, settings: Settings) -> SocketModeHandler:
    """Socket Mode (no public URL needed) with the app-level token `slack.app_token`."""
    if settings.slack.app_token is None:
        raise ValueError("slack.app_token is required for Socket Mode")
    return SocketModeHandler(app, settings.slack.app_token.get_secret_value())
