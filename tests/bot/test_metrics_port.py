"""`metrics.port`: a second listener with only /healthz and /metrics. In HTTP mode a different port takes
/metrics off the public Slack port (Prometheus scrapes it without reaching the Slack endpoint); a port in use is
a start-up error naming the key."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.runtime import Runtime, StartupError, build_runtime
from core.config import MetricsSettings, Settings
from sandbox.slack.emulator import SlackEmulator
from tests.support.workspace import serve_settings


def get(url: str, method: str = "GET") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, data=b"" if method == "POST"
                                                           else None), timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def with_metrics_port(settings: Settings, port: int | None) -> Settings:
    return settings.model_copy(update={"metrics": MetricsSettings(port=port)})


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def started(slack: SlackEmulator, sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    settings = with_metrics_port(serve_settings(slack, "127.0.0.1:1", sqlite_url), request.param)
    runtime = build_runtime(settings, scheduler_factory=None, host="127.0.0.1")
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()
        runtime.db.dispose()


@pytest.mark.parametrize("started", [0], indirect=True)
def test_http_mode_with_a_metrics_port_serves_metrics_there_only(started: Runtime) -> None:
    assert started.http is not None and started.ops is not None
    slack_port, ops_port = started.http.url, started.ops.url
    assert slack_port != ops_port
    assert get(f"{slack_port}/metrics")[0] == 404  # not on the public Slack endpoint
    status, text = get(f"{ops_port}/metrics")
    assert status == 200 and "dtsbot_database_up 1.0" in text
    assert get(f"{slack_port}/healthz") == (200, "ok") == get(f"{ops_port}/healthz")
    assert get(f"{ops_port}/slack/events", "POST")[0] == 404  # Slack is not served on the metrics port


@pytest.mark.parametrize("started", [None], indirect=True)
def test_http_mode_without_a_metrics_port_serves_both_on_the_slack_port(started: Runtime) -> None:
    assert started.http is not None and started.ops is None
    status, text = get(f"{started.http.url}/metrics")
    assert status == 200 and "dtsbot_database_up 1.0" in text


def test_a_metrics_port_in_use_is_a_start_up_error_naming_the_key(slack: SlackEmulator, sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = with_metrics_port(serve_settings(slack, "127.0.0.1:1", sqlite_url, app_token=slack.app_token),
                                     port)
        with pytest.raises(StartupError, match=rf"^metrics\.port {port}: cannot listen .*\(DTSBOT_METRICS_PORT\)"):
            build_runtime(settings, scheduler_factory=None, host="127.0.0.1")
