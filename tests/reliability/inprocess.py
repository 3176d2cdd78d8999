"""The Bolt app driven in-process through its WSGI application, still with Slack-signed requests.

`WsgiDriver` is the Slack driver with the HTTP hop replaced by a direct call of `bot.server.wsgi_app`: the
same signature check, Bolt dispatch and listeners run, thousands of times faster than over sockets. It keeps
every body it sent, so a test can deliver the very same request again (a Slack retry or a replay).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import build_app
from bot.notifier import Notifier, web_client
from bot.server import wsgi_app
from core.config import Settings, parse_settings
from sandbox.slack.driver import Response, SlackDriver, slack_headers
from sandbox.slack.emulator import SlackEmulator
from storage.db import session_scope
from storage.models import Approval, AuditEntry, MigrationRequest, OutboxMessage

CHANNEL = "C0DTSBOT01"
SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
REQUESTER, SOURCE_OWNER, TARGET_OWNER, STRANGER = "U0REQUESTER", "U0SRCOWNER", "U0TGTOWNER", "U0STRANGER"
USERS = {REQUESTER: "Riley Requester", SOURCE_OWNER: "Sam Source-Owner", TARGET_OWNER: "Tara Target-Owner",
         STRANGER: "Stan Stranger", "U0DTSBOT": "dtsbot"}
INLINE = ("source_account=shop-prod source_region=ap-guangzhou source_instance=cdb-src00001 "
          "target_account=analytics target_region=ap-guangzhou target_instance=cdb-dst00001 db_type=mysql")


def bot_settings(api_url: str, database_url: str, **account_overrides: Any) -> Settings:
    """The shared sandbox constants as settings (no cloud endpoint: these tests never reach the cloud)."""
    return parse_settings({
        "slack": {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "channel": CHANNEL,
                  "api_url": api_url, "port": 0, "listener_threads": 16,
                  # hostile-input and load tests open thousands of requests: no limit on how many
                  "requests_per_minute_per_user": 10_000, "requests_per_minute_per_channel": 10_000},
        "storage": {"url": database_url},
        "accounts": [
            {"name": "shop-prod", "uin": "100000000001", "approvers": [SOURCE_OWNER], **account_overrides},
            {"name": "analytics", "uin": "100000000002", "approvers": [TARGET_OWNER],
             "executor_uin": "100000000021", **account_overrides},
        ],
    }, environ={})


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


class ErrorLog(logging.Handler):
    """Collects ERROR records (a listener that raised after its ack shows up only here)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.records.append(record)


@contextmanager
def captured_errors() -> Iterator[ErrorLog]:
    """ERROR records from every logger while the block runs."""
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


@dataclass
class InProcessBot:
    """The Bolt app on a database with the Slack emulator as its Web API; `kicked` records engine kicks."""

    settings: Settings
    db: Engine
    slack: SlackEmulator
    driver: WsgiDriver
    notifier: Notifier
    app: App
    kicked: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Let the listeners still working after their acks finish, while Slack is still there to answer them
        (otherwise their errors land in the next test's log capture)."""
        self.app.listener_runner.listener_executor.shutdown(wait=True)

    def counts(self) -> dict[str, int]:
        """Rows per table: what a refused or duplicated delivery must not change."""
        with session_scope(self.db) as session:
            return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
                    for model in (MigrationRequest, Approval, AuditEntry, OutboxMessage)}

    def requests(self) -> list[MigrationRequest]:
        with session_scope(self.db) as session:
            return list(session.exec(select(MigrationRequest)).all())

    def refusals(self) -> list[tuple[str | None, str | None, str | None]]:
        """(actor, action, request id) of each refused decision in the audit log."""
        with session_scope(self.db) as session:
            rows = session.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
            return [(r.actor, r.action, r.request_id) for r in rows]

    def create(self, text: str = INLINE, user: str = REQUESTER) -> str:
        """An inline request; returns its id from the bot's confirmation."""
        before = len(self.slack.ephemerals(user))
        assert self.driver.slash(user, text).status == 200
        reply = self.slack.wait_for(lambda: self.slack.ephemerals(user)[before:])[0]
        return next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))

    def request_message(self, request_id: str) -> dict:
        """The request message as posted in the channel (the outbox delivered first)."""
        self.notifier.flush()
        with session_scope(self.db) as session:
            ts = session.get(MigrationRequest, request_id).message_ts
        assert ts, "request message not posted"
        return self.slack.message(ts)


def in_process_bot(slack: SlackEmulator, db: Engine, **account_overrides: Any) -> InProcessBot:
    """Wire build_app exactly as `dtsbot serve` does for HTTP, minus the socket."""
    settings = bot_settings(slack.base_url, str(db.url.render_as_string(hide_password=False)), **account_overrides)
    client = web_client(settings)
    notifier = Notifier(client, db, settings, owner="reliability", posts_per_second=1000)
    kicked: list[str] = []
    app = build_app(settings, db, client, kicked.append, wake=notifier.wake)
    driver = WsgiDriver(wsgi_app(app), SIGNING_SECRET, slack)
    return InProcessBot(settings, db, slack, driver, notifier, app, kicked)
