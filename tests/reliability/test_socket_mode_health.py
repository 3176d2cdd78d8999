"""`dtsbot serve` in Socket Mode (a child process) with `metrics.port`: probes and Prometheus get /healthz and
/metrics on that port, while Slack's requests arrive over the WebSocket; without it no port is opened."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from serveproc import Replica, bot_env, write_config

from sandbox.slack.emulator import SlackEmulator


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def test_socket_mode_serves_healthz_and_metrics_on_the_metrics_port(slack: SlackEmulator, tmp_path) -> None:
    env = {**bot_env("127.0.0.1:1", slack.base_url, f"sqlite:///{tmp_path / 'dtsbot.db'}"),
           "SLACK_APP_TOKEN": slack.app_token}
    replica = Replica(write_config(tmp_path), env, tmp_path / "serve.log")
    replica.env["DTSBOT_METRICS_PORT"] = str(replica.port)  # start() waits for /healthz on it
    try:
        replica.start()
        assert slack.socket_mode.wait_connected() == 1
        with urllib.request.urlopen(f"{replica.url}/healthz", timeout=10) as answer:
            assert (answer.status, answer.read()) == (200, b"ok")
        with urllib.request.urlopen(f"{replica.url}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        assert "dtsbot_database_up 1.0" in text and "dtsbot_scheduler_last_tick_timestamp_seconds" in text
    finally:
        replica.stop()
