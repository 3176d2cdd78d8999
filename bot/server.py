"""HTTP mode: a threaded WSGI server with `POST /slack/events` (Bolt's WSGI adapter), `GET /healthz` and
`GET /metrics`; Socket Mode when `slack.app_token` is set.

The stdlib wsgiref server, made multi-threaded, is enough: each Slack request is acked within milliseconds
and the work runs in Bolt's listener executor, so a thread per connection never waits on Slack or the cloud.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

from core.config import Settings

EVENTS_PATH = "/slack/events"
Health = Callable[[], tuple[bool, str]]
"""Returns (healthy, text) for /healthz."""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's listen backlog of 5 resets connections in a burst of clicks


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log: request lines would repeat every click; Bolt logs what matters."""


def wsgi_app(app: App, health: Health | None = None,
             metrics: Callable[[], tuple[bytes, str]] | None = None) -> Callable[..., Iterable[bytes]]:
    """The WSGI application: Slack's requests to Bolt, plus the health and metrics endpoints."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method == "GET":
            ok, text = health() if health else (True, "ok")
            return _plain(start_response, "200 OK" if ok else "503 Service Unavailable", text.encode())
        if path == "/metrics" and method == "GET" and metrics is not None:
            body, content_type = metrics()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        return _plain(start_response, "404 Not Found", b"not found")

    return application


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


class HttpServer:
    """Serves `wsgi_app` on host:port in a background thread (port 0: an ephemeral port, for tests)."""

    def __init__(self, application: Callable[..., Iterable[bytes]], port: int, host: str = "0.0.0.0") -> None:
        self._server = make_server(host, port, application, server_class=_ThreadingWSGIServer,
                                   handler_class=_QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://host:port of the running server."""
        host, port = self._server.server_address[:2]
        return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"

    def start(self) -> str:
        """Start serving; returns the root URL."""
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="dtsbot-http", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def socket_mode(app: App, settings: Settings) -> SocketModeHandler:
    """Socket Mode (no public URL needed) with the app-level token `slack.app_token`."""
    if settings.slack.app_token is None:
        raise ValueError("slack.app_token is required for Socket Mode")
    return SocketModeHandler(app, settings.slack.app_token.get_secret_value())
