"""`dtsbot serve` wiring: one replica on real HTTP with the notifier loop, the scheduler and the cloud sandbox."""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.cli import main
from bot.manifest import manifest
from bot.runtime import Runtime, build_runtime
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from tests.support.commands import INLINE
from tests.support.workspace import REQUESTER, SIGNING_SECRET, SOURCE_OWNER, TARGET_OWNER, serve_settings


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def tencentcloud() -> Iterator[TencentCloudSandbox]:
    with TencentCloudSandbox(default_world()) as sandbox:
        yield sandbox


@contextmanager
def serve(runtime: Runtime) -> Iterator[str]:
    runtime.start()
    try:
        yield runtime.http.url
    finally:
        runtime.stop()


def test_serve_without_scheduler_posts_through_the_notifier_loop(slack, tmp_path) -> None:
    settings = serve_settings(slack, "127.0.0.1:1", f"sqlite:///{tmp_path / 'r.db'}")
    runtime = build_runtime(settings, scheduler_factory=None, host="127.0.0.1")
    with serve(runtime) as url:
        with urllib.request.urlopen(url + "/healthz") as answer:
            assert answer.read() == b"ok"
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        assert driver.slash(REQUESTER, INLINE).status == 200
        [message] = slack.wait_for(lambda: slack.messages())  # no flush() by hand: the loop delivered it
        assert message["blocks"][0]["text"]["text"].startswith("DTS migration mr-")
        with urllib.request.urlopen(url + "/metrics") as answer:
            assert 'dtsbot_requests{state="requested"} 1.0' in answer.read().decode()


def test_healthz_says_the_database_is_unavailable_without_its_error(slack, tmp_path) -> None:
    path = tmp_path / "r.db"
    runtime = build_runtime(serve_settings(slack, "127.0.0.1:1", f"sqlite:///{path}"), scheduler_factory=None,
                            host="127.0.0.1")
    with serve(runtime) as url:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # the database takes no write now
        try:
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + "/healthz")
            assert refused.value.code == 503 and refused.value.read() == b"database: unavailable"
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_serve_with_the_scheduler_runs_the_approved_request_in_the_cloud(slack, tencentcloud, tmp_path) -> None:
    settings = serve_settings(slack, tencentcloud.endpoint, f"sqlite:///{tmp_path / 'r.db'}")
    runtime = build_runtime(settings, host="127.0.0.1")
    with serve(runtime) as url:
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        driver.slash(REQUESTER, INLINE)
        [message] = slack.wait_for(lambda: slack.messages())
        driver.click(SOURCE_OWNER, message, "approve_source")
        driver.click(TARGET_OWNER, message, "approve_target")
        role = "dtsbot-" + message["blocks"][0]["text"]["text"].removeprefix("DTS migration ")  # its own role
        source_cam = tencentcloud.world.cam("100000000001")
        eventually(lambda: source_cam.find_role(role) is not None, timeout=60)
        ts = message["ts"]  # the notices follow at one post per second: about 6 s here, more on a busy machine
        # "created", or "found (made by dtsbot for this request)" when an overloaded machine lost the first run's
        # outcome (its lease ran out, or its record met a locked database) and the step ran again
        said = (f"Role `{role}` created", f"Role `{role}` found")
        thread = slack.wait_for(lambda: [m for m in slack.thread("C0DTSBOT01", ts)
                                         if any(words in m.get("text", "") for words in said)], timeout=60)
        assert "shop-prod" in thread[0]["text"]


def test_manifest_for_each_mode(slack, tmp_path, capsys) -> None:
    http = serve_settings(slack, "127.0.0.1:1", "sqlite:///x.db")
    built = manifest(http, "https://bot.example.org/")
    command = built["features"]["slash_commands"][0]
    assert command["command"] == "/dts-migrate" and command["url"] == "https://bot.example.org/slack/events"
    assert built["settings"]["interactivity"]["request_url"] == "https://bot.example.org/slack/events"
    assert {"commands", "chat:write", "usergroups:read", "users:read.email"} <= set(
        built["oauth_config"]["scopes"]["bot"])
    assert built["settings"]["socket_mode_enabled"] is False
    assert built["settings"]["event_subscriptions"] == {"bot_events": ["app_home_opened"],
                                                        "request_url": "https://bot.example.org/slack/events"}
    assert built["features"]["app_home"]["home_tab_enabled"] is True

    socket = serve_settings(slack, "127.0.0.1:1", "sqlite:///x.db", app_token="xapp-1-sandbox")
    built = manifest(socket)
    assert built["settings"]["socket_mode_enabled"] is True and "url" not in built["features"]["slash_commands"][0]
    assert built["settings"]["event_subscriptions"] == {"bot_events": ["app_home_opened"]}

    assert main(["manifest", "--config", "app.yaml"]) == 0
    printed = capsys.readouterr().out
    assert "/dts-migrate" in printed and "socket_mode_enabled: false" in printed
