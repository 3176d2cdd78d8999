"""`dtsbot serve` in Socket Mode: the real runtime connects to the Slack emulator's WebSocket with the app-level
token, acks envelopes within Slack's 3 s and does what it does over HTTP. No HTTP port is opened."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.runtime import Runtime, build_runtime
from sandbox.slack.driver import SocketModeDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.waiting import eventually
from storage.db import session_scope
from storage.models import AuditEntry, MigrationRequest
from tests.support.commands import inline
from tests.support.workspace import (
    REQUESTER,
    SOURCE_OWNER,
    STRANGER,
    TARGET_OWNER,
    UNLIMITED,
    serve_settings,
)

APP_TOKEN = "xapp-1-sandbox"
TARGETS = itertools.count(1)  # the module shares one runtime: each request gets its own target instance


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(app_token=APP_TOKEN) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def runtime(slack: SlackEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One replica for the module: closing a Socket Mode client waits out its 3 s socket read timeout."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('socket') / 'socket.db'}"
    settings = serve_settings(slack, "127.0.0.1:1", database_url, app_token=APP_TOKEN, posts_per_second=100,
                              **UNLIMITED)
    built = build_runtime(settings, scheduler_factory=None, host="127.0.0.1")
    built.start()
    try:
        yield built
    finally:
        built.stop()


def request(runtime: Runtime, request_id: str) -> MigrationRequest:
    with session_scope(runtime.db) as session:
        found = session.get(MigrationRequest, request_id)
    assert found is not None
    return found


def create(slack: SlackEmulator, driver: SocketModeDriver) -> tuple[str, dict]:
    """A request through the inline command: its id (from the confirmation) and its message in the channel."""
    confirmations, messages = len(slack.ephemerals(REQUESTER)), len(slack.messages())
    ack = driver.slash(REQUESTER, inline(target_instance=f"cdb-dst{next(TARGETS):05d}"))  # one open request per target
    assert ack.elapsed < 3.0 and ack.payload is None  # an empty ack; the listener answers afterwards
    reply = slack.wait_for(lambda: slack.ephemerals(REQUESTER)[confirmations:])[0]
    request_id = next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))
    message = slack.wait_for(lambda: slack.messages()[messages:])[0]  # posted by the notifier loop
    return request_id, message


def test_socket_mode_opens_no_http_port_and_connects_with_the_app_token(slack, runtime) -> None:
    assert runtime.http is None and runtime.socket_mode is not None
    assert slack.socket_mode.wait_connected() == 1
    opened = [c for c in slack.calls if c.method == "apps.connections.open"]
    assert [c.response["ok"] for c in opened] == [True]
    assert opened[0].response["url"].startswith(slack.url.replace("http://", "ws://") + "/link/?ticket=")


def test_inline_command_is_acked_and_creates_the_request(slack, runtime) -> None:
    request_id, message = create(slack, SocketModeDriver(slack))
    assert message["blocks"][0]["text"]["text"].startswith(f"DTS migration {request_id}")
    created = request(runtime, request_id)
    assert created.requester == REQUESTER and created.state == "requested"


def test_the_word_payload_in_a_command_changes_nothing_over_socket_mode(slack, runtime) -> None:
    """Socket Mode envelopes carry the command as an object: Bolt takes it as it is (no form parsing to guard)."""
    driver = SocketModeDriver(slack)
    confirmations = len(slack.ephemerals(REQUESTER))
    fields = {**driver.slash_command(REQUESTER, inline(target_instance=f"cdb-dst{next(TARGETS):05d}",
                                                       objects="payload")),
              "channel_name": "payload-migrations", "user_name": "payload"}
    driver.command(fields)
    reply = slack.wait_for(lambda: slack.ephemerals(REQUESTER)[confirmations:])[0]
    request_id = next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))
    assert request(runtime, request_id).objects == "payload"
    # posted before the next test counts the channel's messages (create() takes the first new one as its own)
    slack.wait_for(lambda: [m for m in slack.messages() if f"DTS migration {request_id}" in m.get("text", "")])


def test_a_strangers_approval_is_acked_and_refused(slack, runtime) -> None:
    driver = SocketModeDriver(slack)
    request_id, message = create(slack, driver)
    refusals = len(slack.ephemerals(STRANGER))
    assert driver.click(STRANGER, message, "approve_source").elapsed < 3.0
    refusal = slack.wait_for(lambda: slack.ephemerals(STRANGER)[refusals:])[0]
    assert "Only the approvers of shop-prod" in refusal["text"]
    with session_scope(runtime.db) as session:
        audit = session.exec(select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.request_id == request_id, AuditEntry.outcome == "refused")).all()
    assert [tuple(row) for row in audit] == [(STRANGER, "approve_source")]
    assert request(runtime, request_id).state == "requested"


def test_both_approvals_over_socket_mode_approve_the_request(slack, runtime) -> None:
    driver = SocketModeDriver(slack)
    request_id, message = create(slack, driver)
    driver.click(SOURCE_OWNER, message, "approve_source")
    driver.click(TARGET_OWNER, message, "approve_target")
    eventually(lambda: request(runtime, request_id).state == "approved")


def test_the_app_home_is_published_and_approving_from_it_works_over_socket_mode(slack, runtime) -> None:
    driver = SocketModeDriver(slack)
    request_id, _message = create(slack, driver)
    before = slack.home(SOURCE_OWNER)
    driver.open_home(SOURCE_OWNER)
    home = slack.wait_for(lambda: (h := slack.home(SOURCE_OWNER)) != before and h)
    assert ("approve_source", f"{request_id}:1") in [(e["action_id"], e["value"]) for b in home["blocks"]
                                                     if b["type"] == "actions" for e in b["elements"]]
    driver.click(SOURCE_OWNER, home, "approve_source", block_id=f"approve:{request_id}")
    again = slack.wait_for(lambda: (h := slack.home(SOURCE_OWNER)) and h.get("hash") != home["hash"] and h)
    assert f"Approved the source side of {request_id}." in str(again["blocks"])
    with session_scope(runtime.db) as session:
        audit = session.exec(select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.request_id == request_id, AuditEntry.outcome == "ok", AuditEntry.step == "approval")).all()
    assert [tuple(row) for row in audit] == [(SOURCE_OWNER, "approve_source")]


def test_a_modal_submission_error_comes_back_in_the_ack(slack, runtime) -> None:
    driver = SocketModeDriver(slack)
    views = len(slack.views)
    assert driver.slash(REQUESTER, "").payload is None
    view = slack.wait_for(lambda: slack.views[views:])[0]
    ack = driver.submit_view(REQUESTER, view, {"source_instance": "not-an-id"})
    assert ack.payload is not None and ack.payload["response_action"] == "errors"
    assert "source_instance" in ack.payload["errors"]


def test_the_app_reconnects_when_slack_refreshes_the_connection(slack, runtime) -> None:
    opened = len([c for c in slack.calls if c.method == "apps.connections.open"])
    slack.socket_mode.request_refresh()
    eventually(lambda: len([c for c in slack.calls if c.method == "apps.connections.open"]) == opened + 1)
    eventually(lambda: slack.socket_mode.connections == 1)  # the old connection was closed
    messages = len(slack.messages())
    assert SocketModeDriver(slack).slash(REQUESTER, inline(target_instance=f"cdb-dst{next(TARGETS):05d}")).elapsed < 3.0
    slack.wait_for(lambda: slack.messages()[messages:])
