"""A local Slack Web API for the real slack_sdk WebClient and slack-bolt, with a record of what was said.

    with SlackEmulator() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)

Routes: `/api/<method>` (form or JSON body, bearer token), `/response/<id>` (response_url), `/link/` (the
Socket Mode WebSocket, see socket_mode.py), and the admin endpoints `/_emulator/{faults,messages,calls,reset,
triggers}` for tests and demos in other processes.
"""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO, Self, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

from sandbox.slack.faults import Faults
from sandbox.slack.models import DEFAULT_CHANNELS, DEFAULT_USERS, Call, ResponseUrl, Workspace
from sandbox.slack.responses import WebApi
from sandbox.slack.socket_mode import LINK_PATH, SocketMode
from sandbox.waiting import DEFAULT_SECONDS, budget

T = TypeVar("T")
DEFAULT_TOKEN = "xoxb-sandbox-bot-token"
DEFAULT_APP_TOKEN = "xapp-1-sandbox"
CONNECTIONS_OPEN = "apps.connections.open"
REDACTED = "[redacted]"


class SlackEmulator:
    """The emulated workspace and its HTTP server (127.0.0.1, port 0 for an ephemeral one)."""

    def __init__(
        self, token: str = DEFAULT_TOKEN, bot_user_id: str = "U0DTSBOT",
        channels: dict[str, str] | None = None, users: dict[str, str] | None = None,
        usergroups: dict[str, list[str]] | None = None, members: dict[str, list[str]] | None = None,
        team_id: str = "T0DTSBOT", bot_id: str = "B0DTSBOT", app_id: str = "A0DTSBOT",
        trigger_ttl: float | None = None, app_token: str = DEFAULT_APP_TOKEN, emails: dict[str, str] | None = None,
        locales: dict[str, str] | None = None,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.workspace = Workspace(
            bot_user_id, DEFAULT_CHANNELS if channels is None else channels,
            DEFAULT_USERS if users is None else users, usergroups or {}, members, team_id, emails, locales,
        )
        # Slack's trigger_id lives 3 s; on a loaded test machine the same budget scale as every wait applies
        self.api = WebApi(self.workspace, budget(3.0) if trigger_ttl is None else trigger_ttl, bot_id, app_id)
        self.faults = Faults()
        self.socket_mode = SocketMode(app_id)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve in a background thread; returns the Web API base_url (".../api/")."""
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="slack-emulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port (Socket Mode connections are closed first)."""
        self.socket_mode.close_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL of the running server, e.g. http://127.0.0.1:PORT."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server: (host, port)
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """What WebClient(base_url=...) takes."""
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Forget messages, views, triggers, calls, faults and Socket Mode acks (between tests)."""
        self.faults.clear()
        self.workspace.reset()
        self.socket_mode.reset()

    # -- issuing, as Slack does when a person interacts --------------------------------------------
    def new_trigger_id(self, user: str | None = None) -> str:
        """A trigger_id for views.open/push: single use, expires `trigger_ttl` seconds from now."""
        return self.workspace.issue_trigger(user)

    def new_response_url(self, channel: str, user: str, message_ts: str | None = None,
                         is_ephemeral: bool = False) -> str:
        """A response_url for an interaction on `message_ts` (None for a slash command)."""
        response_id = self.workspace.issue_response_url(ResponseUrl(channel, user, message_ts, is_ephemeral))
        return f"{self.url}/response/{response_id}"

    # -- reading, for tests ------------------------------------------------------------------------
    def messages(self, channel: str = "C0DTSBOT01") -> list[dict]:
        """Top-level messages of a channel, oldest first, as currently displayed."""
        return self.workspace.snapshot(lambda: self.workspace.top_level.get(channel, []))

    def direct_messages(self, user: str) -> list[dict]:
        """Messages the app sent to `user`'s DM (chat.postMessage with the user ID as channel), oldest first."""
        return self.messages("D" + user[1:])

    def thread(self, channel: str, ts: str) -> list[dict]:
        """Replies under the message `ts`, oldest first (the parent not included)."""
        return self.workspace.snapshot(lambda: self.workspace.replies.get((channel, ts), []))

    def message(self, ts: str) -> dict | None:
        """The message (top-level or reply) with this ts, with a `channel` key added."""
        found = self.workspace.snapshot(lambda: self.workspace.by_ts.get(ts))
        return {**found[1], "channel": found[0]} if found else None

    def history(self, ts: str) -> list[dict]:
        """Earlier versions of an updated message, oldest first."""
        return self.workspace.snapshot(lambda: self.workspace.history.get(ts, []))

    def ephemerals(self, user: str | None = None) -> list[dict]:
        """Ephemeral messages (each with `channel` and `user`), optionally only those shown to `user`."""
        return self.workspace.snapshot(
            lambda: [e for e in self.workspace.ephemerals if user is None or e["user"] == user])

    @property
    def views(self) -> list[dict]:
        """Views opened or pushed, in order, each in its current (possibly updated) version."""
        return self.workspace.snapshot(
            lambda: [{k: v for k, v in view.items() if not k.startswith("_")}
                     for view in self.workspace.views.values()])

    def home(self, user: str) -> dict | None:
        """The Home tab view last published for `user` (views.publish), or None."""
        return self.workspace.snapshot(lambda: {k: v for k, v in self.workspace.home[user].items()
                                                if not k.startswith("_")} if user in self.workspace.home else None)

    @property
    def calls(self) -> list[Call]:
        """Every Web API call received (including refused and faulted ones), token redacted."""
        return self.workspace.snapshot(lambda: self.workspace.calls)

    def post_times(self, channel: str = "C0DTSBOT01") -> list[float]:
        """time.monotonic() of each message stored in a channel (top level and replies)."""
        return self.workspace.snapshot(lambda: self.workspace.post_times.get(channel, []))

    def max_posts_in_window(self, channel: str = "C0DTSBOT01", window: float = 1.0) -> int:
        """The most messages stored in the channel within any `window` seconds (Slack allows ~1/s)."""
        times = self.post_times(channel)
        best, start = 0, 0
        for end, at in enumerate(times):
            while start <= end and at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def wait_for(self, predicate: Callable[[], T], timeout: float = DEFAULT_SECONDS) -> T:
        """Wait until `predicate()` is truthy (e.g. an async post arrived); returns its value.

        `timeout` is scaled by `sandbox.waiting.budget` (a loaded machine raises it)."""
        return self.workspace.wait_for(predicate, budget(timeout))

    # -- the wire ----------------------------------------------------------------------------------
    def handle_api(self, method: str, args: dict, bearer: str | None) -> tuple[int, dict, dict]:
        """One Web API call: faults, token check, method; recorded. Returns (status, headers, body)."""
        recorded = {k: (REDACTED if k == "token" else v) for k, v in args.items()}
        status, headers, body = self._answer(method, args, bearer)
        self.workspace.record_call(Call(method=method, args=recorded, status=status, response=body))
        return status, headers, body

    def _answer(self, method: str, args: dict, bearer: str | None) -> tuple[int, dict, dict]:
        fault = self.faults.take(method)
        if fault is not None:
            return _fault_answer(fault.status, fault.retry_after)
        if method == CONNECTIONS_OPEN:
            return 200, {}, self._connections_open(bearer)
        token = bearer or args.get("token")
        if method not in self.api.methods:
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token != self.token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        args = {k: v for k, v in args.items() if k != "token"}
        return 200, {}, self.api.call(method, args)

    def _connections_open(self, bearer: str | None) -> dict:
        """apps.connections.open: the app-level token, in the Authorization header only, buys a WebSocket URL."""
        if not bearer:
            return {"ok": False, "error": "not_authed"}
        if bearer == self.token:
            return {"ok": False, "error": "not_allowed_token_type"}
        if bearer != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode.issue_url(self.url)}

    def handle_response_url(self, response_id: str, body: dict) -> tuple[int, dict, dict]:
        """A POST to a response_url (faults apply under the method name "response_url")."""
        fault = self.faults.take("response_url")
        if fault is not None:
            status, headers, answer = _fault_answer(fault.status, fault.retry_after)
        else:
            headers = {}
            status, answer = self.api.respond(response_id, body)
        self.workspace.record_call(Call(method="response_url", args=body, status=status, response=answer))
        return status, headers, answer

    def handle_admin(self, verb: str, action: str, query: dict, body: dict) -> tuple[int, dict, dict]:
        """The /_emulator endpoints, so another process can steer and read the emulator."""
        if (verb, action) == ("POST", "faults"):
            if body.get("clear"):
                self.faults.clear()
            else:
                try:
                    self.faults.add_from_json(body)
                except ValueError as error:
                    return 400, {}, {"ok": False, "error": str(error)}
            return 200, {}, {"ok": True}
        if (verb, action) == ("GET", "messages"):
            return 200, {}, {"ok": True, "messages": self.messages(query.get("channel", "C0DTSBOT01"))}
        if (verb, action) == ("GET", "calls"):
            calls = [{"method": c.method, "args": c.args, "status": c.status, "response": c.response}
                     for c in self.calls]
            return 200, {}, {"ok": True, "calls": calls}
        if (verb, action) == ("POST", "reset"):
            self.reset()
            return 200, {}, {"ok": True}
        if (verb, action) == ("POST", "triggers"):
            return 200, {}, {"ok": True, "trigger_id": self.new_trigger_id(body.get("user"))}
        return 404, {}, {"ok": False, "error": "not_found"}


def _fault_answer(status: int, retry_after: int) -> tuple[int, dict, dict]:
    if status == 429:
        return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
    return status, {}, {"ok": False, "error": "service_unavailable" if status == 503 else "internal_error"}


def _parse_body(content_type: str, raw: bytes) -> dict:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _handler_for(emulator: SlackEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith(LINK_PATH):
                headers = {name.lower(): value for name, value in self.headers.items()}
                emulator.socket_mode.serve(self.path, headers, self.connection,  # the socket's binary streams
                                           cast(BinaryIO, self.rfile), cast(BinaryIO, self.wfile))
                self.close_connection = True
                return
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the per-request log (it would print every call in test output)."""

        def _dispatch(self, verb: str) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = _parse_body(self.headers.get("Content-Type", ""), raw)
            except (ValueError, UnicodeDecodeError):
                self._send(200, {}, {"ok": False, "error": "invalid_form_data"})
                return
            route, _, rest = parts.path.lstrip("/").partition("/")
            if route == "api":
                auth = self.headers.get("Authorization", "")
                bearer = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
                self._send(*emulator.handle_api(rest, {**query, **body}, bearer))
            elif route == "response" and verb == "POST":
                self._send(*emulator.handle_response_url(rest, body))
            elif route == "_emulator":
                self._send(*emulator.handle_admin(verb, rest, query, body))
            else:
                self._send(404, {}, {"ok": False, "error": "not_found"})

        def _send(self, status: int, headers: dict, body: dict) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def serve(port: int = 3001, **options: Any) -> None:
    """Run the emulator in the foreground until interrupted (`dtsbot sandbox slack --port N`)."""
    emulator = SlackEmulator(**options)
    emulator.start(port)
    print(f"Slack emulator: {emulator.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
