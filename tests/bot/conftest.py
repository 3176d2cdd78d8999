"""The running bot for tests: the Bolt app over HTTP on 127.0.0.1:0, the Slack emulator as its Web API,
a migrated SQLite database, and the Slack driver sending signed requests. No mocks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import build_app
from bot.notifier import Notifier, web_client
from bot.server import HttpServer, wsgi_app
from core.config import Settings, parse_settings
from core.requests import MigrationRequests
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from storage import repository
from storage.db import make_engine, migrate, session_scope
from storage.models import Approval, AuditEntry, MigrationRequest

CHANNEL = "C0DTSBOT01"
SIGNING_SECRET = "sandbox-signing-secret"
REQUESTER, SOURCE_OWNER, TARGET_OWNER, STRANGER = "U0REQUESTER", "U0SRCOWNER", "U0TGTOWNER", "U0STRANGER"
GROUP_MEMBER = "U0GROUPIE"
INLINE = ("source_account=shop-prod source_region=ap-guangzhou source_instance=cdb-src00001 "
          "target_account=analytics target_region=ap-guangzhou target_instance=cdb-dst00001 db_type=mysql")


def inline(target_instance: str = "cdb-dst00001", source_instance: str = "cdb-src00001") -> str:
    """INLINE into another target instance (one unfinished request per target) or from another source."""
    return INLINE.replace("cdb-dst00001", target_instance).replace("cdb-src00001", source_instance)


UNLIMITED = {"requests_per_minute_per_user": 10_000, "requests_per_minute_per_channel": 10_000}
"""Tests open many requests quickly; the limits' own tests set them low."""


def make_settings(api_url: str, database_url: str, top_level: dict[str, Any] | None = None, *,
                  slack: dict[str, Any] | None = None, **account_overrides: Any) -> Settings:
    """The shared sandbox constants as settings; `account_overrides` apply to both accounts, `top_level` to
    the file's top level (e.g. `requesters`), `slack` keys override the slack section."""
    return parse_settings({
        **(top_level or {}),
        "slack": {"bot_token": "xoxb-sandbox-bot-token", "signing_secret": SIGNING_SECRET,
                  "channel": CHANNEL, "api_url": api_url, "port": 0, "listener_threads": 16, **UNLIMITED,
                  **(slack or {})},
        "storage": {"url": database_url},
        "accounts": [
            {"name": "shop-prod", "uin": "100000000001", "approvers": [SOURCE_OWNER], **account_overrides},
            {"name": "analytics", "uin": "100000000002", "approvers": [TARGET_OWNER, "S0TGTOWNERS"],
             "executor_uin": "100000000021", **account_overrides},
        ],
    }, environ={})


@dataclass
class Bot:
    """One running bot and what a test needs to drive and observe it."""

    settings: Settings
    db: Engine
    slack: SlackEmulator
    driver: SlackDriver
    notifier: Notifier
    requests: MigrationRequests
    approved: list[str] = field(default_factory=list)

    def request(self, request_id: str) -> MigrationRequest:
        with session_scope(self.db) as session:
            found = repository.get_request(session, request_id)
        assert found is not None
        return found

    def all_requests(self) -> list[MigrationRequest]:
        with session_scope(self.db) as session:
            return list(session.exec(select(MigrationRequest)).all())

    def create(self, text: str = INLINE, user: str = REQUESTER) -> str:
        """A request through the inline command; returns its id once the confirmation arrived."""
        before = len(self.slack.ephemerals(user))
        assert self.driver.slash(user, text).status == 200
        reply = self.slack.wait_for(lambda: self.slack.ephemerals(user)[before:])[0]
        request_id = next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))
        return request_id

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


def approvals(bot: Bot, request_id: str) -> list[tuple[str, int, str]]:
    with bot.db.connect() as connection:
        rows = connection.execute(select(Approval.side, Approval.revision, Approval.user_id)
                                  .where(Approval.request_id == request_id)).all()
    return sorted(tuple(r) for r in rows)


def refusals(bot: Bot, request_id: str) -> list[tuple[str, str]]:
    with bot.db.connect() as connection:
        rows = connection.execute(select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.request_id == request_id, AuditEntry.outcome == "refused")).all()
    return [tuple(r) for r in rows]


def click(bot: Bot, user: str, message: dict, action_id: str, **delivery) -> dict:
    """Click and wait for the ephemeral answer."""
    count = len(bot.slack.ephemerals(user))
    assert bot.driver.click(user, message, action_id, **delivery).status == 200
    return bot.ephemeral_after(user, count)


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    users = {"U0REQUESTER": "Riley Requester", "U0SRCOWNER": "Sam Source-Owner", "U0TGTOWNER": "Tara Target-Owner",
             "U0STRANGER": "Stan Stranger", "U0DTSBOT": "dtsbot", GROUP_MEMBER: "Gail Groupie"}
    with SlackEmulator(users=users, usergroups={"S0TGTOWNERS": [GROUP_MEMBER]}) as emulator:
        yield emulator


@pytest.fixture
def db(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    migrate(engine)
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
def bot(slack: SlackEmulator, db: Engine, account_overrides: dict[str, Any], top_level: dict[str, Any],
        slack_overrides: dict[str, Any]) -> Iterator[Bot]:
    settings = make_settings(slack.base_url, str(db.url), top_level, slack=slack_overrides, **account_overrides)
    client = web_client(settings)
    notifier = Notifier(client, db, settings, owner="test", posts_per_second=1000)
    approved: list[str] = []
    app = build_app(settings, db, client, approved.append, wake=notifier.wake)
    server = HttpServer(wsgi_app(app), port=0, host="127.0.0.1")
    server.start()
    try:
        yield Bot(settings, db, slack, SlackDriver(server.url, SIGNING_SECRET, slack), notifier,
                  MigrationRequests(db, settings), approved)
    finally:
        server.stop()
