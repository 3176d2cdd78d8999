"""`dtsbot serve` as child processes against in-process sandboxes, for the crash, fault and replica tests.

The sandboxes (Tencent Cloud, Slack) run in the test process; each replica is `dtsbot serve --config FILE`
started with subprocess: the shipped app.yaml's keys with a short poll and lease, and environment overrides that
point it at the sandboxes, the database and a free port. Its logs go to a file the secret scan reads.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from sandbox.waiting import eventually

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(directory: Path, poll_seconds: float = 0.3, lease_seconds: float = 2.0,
                 overrides: dict[str, dict[str, Any]] | None = None) -> Path:
    """app.yaml as shipped (secrets still `${VAR:-sandbox default}`) with a fast scheduler; `overrides` are
    keys to set per section, e.g. `{"tencentcloud": {"timeout_seconds": 1}}`."""
    config = yaml.safe_load(APP_YAML.read_text())
    config["scheduler"] = {**config["scheduler"], "poll_seconds": poll_seconds, "lease_seconds": lease_seconds}
    config["slack"] = {**config["slack"], "requests_per_minute_per_user": 10_000,  # tests open many at once
                       "requests_per_minute_per_channel": 10_000}
    config["cutover"] = {"hold_minutes": 0, "compare": "off"}  # the gate's own tests: tests/bot/test_cutover_gate.py
    for section, keys in (overrides or {}).items():
        config[section] = {**config.get(section, {}), **keys}
    path = directory / "app.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def dtsbot_command() -> list[str]:
    """The console script next to this interpreter, else the module (same code either way)."""
    script = Path(sys.executable).with_name("dtsbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


class Replica:
    """One `dtsbot serve` child process; start() waits for /healthz, kill() is SIGKILL."""

    def __init__(self, config: Path, env: dict[str, str], log_path: Path) -> None:
        self.config, self.log_path = config, log_path
        self.port = free_port()
        self.env = {**os.environ, **env, "DTSBOT_PORT": str(self.port)}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Replica:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([*dtsbot_command(), "serve", "--config", str(self.config)],
                                            env=self.env, stdout=log, stderr=log, cwd=self.config.parent)
        eventually(self.healthy, timeout, f"{self.url}/healthz (log: {self.log_path})")
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"dtsbot serve exited with {self.process.returncode}: "
                                 f"{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a node dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait (graceful), SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def bot_env(tc_endpoint: str, slack_api_url: str, database_url: str) -> dict[str, str]:
    """The environment overrides that point app.yaml at the sandboxes and the test's database."""
    return {"TENCENTCLOUD_ENDPOINT": tc_endpoint, "SLACK_API_URL": slack_api_url,
            "DTSBOT_DATABASE_URL": database_url, "DTSBOT_POLL_SECONDS": "0.3"}
