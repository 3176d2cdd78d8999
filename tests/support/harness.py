"""The one bot harness: `build_app` wired exactly as `dtsbot serve` wires it, on a migrated database, with the
Slack emulator as its Web API and a driver that sends Slack-signed requests. No mocks.

Two transports for the same app: `http` serves it on 127.0.0.1:0 with the server `dtsbot serve` uses (the
default); `wsgi` calls its WSGI application directly, for tests that deliver thousands of requests or replay
the exact bytes of one (see `tests.support.wsgi`). The engine is not wired: the ids the app hands it (on both
approvals, on cancel) are recorded in `Bot.kicked`. Tests that need the scheduler and the Tencent Cloud sandbox
use `tests.support.serving` (all of `dtsbot serve` in the test process) instead.

The fixtures are imported by the conftest of each test group that drives the bot (`bot`, `module_bot`, and
what they are built from); a module or a `parametrize` overrides `account_overrides`, `top_level`,
`slack_overrides` or `transport`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from slack_bolt import App
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import build_app
from bot.directory import SlackDirectory
from bot.notifier import Notifier, web_client
from bot.server import HttpServer, wsgi_app
from core.config import Settings
from core.requests import MigrationRequests
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.clock import Clock
from storage import repository
from storage.db import make_engine, migrate, session_scope
from storage.models import Approval, AuditEntry, MigrationRequest, OutboxMessage
from tests.support.commands import INLINE
from tests.support.workspace import REQUESTER, SIGNING_SECRET, USERGROUPS, USERS, bot_settings
from tests.support.wsgi import WsgiDriver

Transport = Literal["http", "wsgi"]


@dataclass
class Bot:
    """One running bot and what a test needs to drive and observe it."""

    settings: Settings
    db: Engine
    slack: SlackEmulator
    driver: SlackDriver
    notifier: Notifier
    app: App
    requests: MigrationRequests
    kicked: list[str] = field(default_factory=list)
    """Request ids the app handed to the workflow engine, in order."""
    directory_clock: Clock = field(default_factory=Clock)
    """The clock of the directory the app and the notifier share: `advance(RESOLVED_SECONDS)` expires its answers."""

    # -- driving -----------------------------------------------------------------------------------
    def create(self, text: str = INLINE, user: str = REQUESTER) -> str:
        """A request through the inline command; returns its id once the confirmation arrived."""
        before = len(self.slack.ephemerals(user))
        assert self.driver.slash(user, text).status == 200
        reply = self.slack.wait_for(lambda: self.slack.ephemerals(user)[before:])[0]
        return next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))

    def click(self, user: str, message: dict, action_id: str, **delivery: Any) -> dict:
        """Click a button of `message` and wait for the ephemeral answer to `user`."""
        count = len(self.slack.ephemerals(user))
        assert self.driver.click(user, message, action_id, **delivery).status == 200
        return self.ephemeral_after(user, count)

    # -- observing ---------------------------------------------------------------------------------
    def posted(self, request_id: str) -> dict:
        """The request message in the channel, after delivering the outbox."""
        self.notifier.flush()
        ts = self.request(request_id).message_ts
        assert ts, "request message not posted"
        message = self.slack.message(ts)
        assert message is not None
        return message

    def ephemeral_after(self, user: str, count: int) -> dict:
        """The next ephemeral shown to `user` once there are more than `count`."""
        return self.slack.wait_for(lambda: self.slack.ephemerals(user)[count:])[0]

    def request(self, request_id: str) -> MigrationRequest:
        with session_scope(self.db) as session:
            found = repository.get_request(session, request_id)
        assert found is not None
        return found

    def all_requests(self) -> list[MigrationRequest]:
        with session_scope(self.db) as session:
            return list(session.exec(select(MigrationRequest)).all())

    def approvals(self, request_id: str) -> list[tuple[str, int, str]]:
        """(side, revision, user) of each approval of the request, sorted."""
        with self.db.connect() as connection:
            rows = connection.execute(select(Approval.side, Approval.revision, Approval.user_id)
                                      .where(Approval.request_id == request_id)).all()
        return sorted(tuple(r) for r in rows)

    def refusals(self, request_id: str) -> list[tuple[str, str]]:
        """(actor, action) of each refused decision on the request, from the audit log."""
        with self.db.connect() as connection:
            rows = connection.execute(select(AuditEntry.actor, AuditEntry.action).where(
                AuditEntry.request_id == request_id, AuditEntry.outcome == "refused")).all()
        return [tuple(r) for r in rows]

    def all_refusals(self) -> list[tuple[str | None, str | None, str | None]]:
        """(actor, action, request id) of every refused decision in the audit log."""
        with session_scope(self.db) as session:
            rows = session.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
            return [(r.actor, r.action, r.request_id) for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table: what a refused or duplicated delivery must not change."""
        with session_scope(self.db) as session:
            return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
                    for model in (MigrationRequest, Approval, AuditEntry, OutboxMessage)}


@contextmanager
def running_bot(slack: SlackEmulator, db: Engine, settings: Settings,
                transport: Transport = "http") -> Iterator[Bot]:
    """The bot on `db` and `slack` with `settings`; stopped afterwards, once the listeners still working after
    their acks finished (while Slack is still there to answer them, so their errors stay in their own test)."""
    client = web_client(settings)
    clock = Clock()
    directory = SlackDirectory(client, clock=clock.now)
    notifier = Notifier(client, db, settings, owner="test", posts_per_second=1000, directory=directory)
    kicked: list[str] = []
    app = build_app(settings, db, client, kicked.append, wake=notifier.wake, members_of=directory)
    server = HttpServer(wsgi_app(app), port=0, host="127.0.0.1") if transport == "http" else None
    if server is None:
        driver: SlackDriver = WsgiDriver(wsgi_app(app), SIGNING_SECRET, slack)
    else:
        server.start()
        driver = SlackDriver(server.url, SIGNING_SECRET, slack)
    try:
        yield Bot(settings, db, slack, driver, notifier, app, MigrationRequests(db, settings), kicked, clock)
    finally:
        app.listener_runner.listener_executor.shutdown(wait=True)
        if server is not None:
            server.stop(drain_seconds=0)  # the driver waited for every answer: nothing is in flight


def emulator() -> SlackEmulator:
    """The Slack emulator with the workspace's people and groups (not started)."""
    return SlackEmulator(users=USERS, usergroups=USERGROUPS)


def migrated(path: Path) -> Engine:
    """A migrated SQLite database at `path`."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with emulator() as running:
        yield running


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated(tmp_path / "bot.db")
    yield engine
    engine.dispose()


@pytest.fixture
def account_overrides() -> dict[str, Any]:
    """Per-test account settings (e.g. allow_self_approval); override in a test module or parametrize."""
    return {}


@pytest.fixture
def top_level() -> dict[str, Any]:
    """Per-test top-level settings (e.g. requesters); override in a test module or parametrize."""
    return {}


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    """Per-test slack settings (e.g. the request limits); override in a test module."""
    return {}


@pytest.fixture
def transport() -> Transport:
    """How the driver reaches the app: over HTTP unless a test group asks for `wsgi`."""
    return "http"


@pytest.fixture
def bot(slack: SlackEmulator, db: Engine, account_overrides: dict[str, Any], top_level: dict[str, Any],
        slack_overrides: dict[str, Any], transport: Transport) -> Iterator[Bot]:
    """A bot of its own for one test."""
    url = db.url.render_as_string(hide_password=False)
    settings = bot_settings(slack.base_url, url, top_level, slack=slack_overrides, **account_overrides)
    with running_bot(slack, db, settings, transport) as running:
        yield running


@pytest.fixture(scope="module")
def module_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """One in-process bot for a whole module (hypothesis runs thousands of examples against it)."""
    db = migrated(tmp_path_factory.mktemp("bot") / "bot.db")
    with emulator() as slack, running_bot(slack, db, bot_settings(slack.base_url, str(db.url)), "wsgi") as running:
        yield running
    db.dispose()
