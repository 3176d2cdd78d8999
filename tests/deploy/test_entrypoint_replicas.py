"""The documented non-Docker path, as the issue's "done when" states it: deploy/entrypoint.sh (the image's own
entrypoint) brings up two replicas of deploy/app.production.yaml on one PostgreSQL database, against the
sandboxes, and `dtsbot check` passes on that configuration.

Two variants: secrets in the environment, and every secret from a file named by a `*_FILE` variable, as
compose, Kubernetes and systemd give them (core/references.py resolves `${NAME}` from `NAME_FILE`)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import budget, eventually
from tests.reliability.serveproc import free_port

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "deploy" / "entrypoint.sh"
TEMPLATE = REPO / "deploy" / "app.production.yaml"
BIN = Path(sys.executable).parent


@pytest.fixture
def sandboxes() -> Iterator[tuple[TencentCloudSandbox, SlackEmulator]]:
    with TencentCloudSandbox(default_world()) as cloud, SlackEmulator() as slack:
        yield cloud, slack


def secrets(cloud: TencentCloudSandbox, slack: SlackEmulator, database_url: str) -> dict[str, str]:
    """Every secret the template references, by variable name."""
    source, target = cloud.world.account("100000000001"), cloud.world.account("100000000002")
    return {"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": "a-real-looking-signing-secret-1f3a",
            "DTSBOT_DATABASE_URL": database_url,
            "SOURCE_SECRET_ID": source.secret_id, "SOURCE_SECRET_KEY": source.secret_key,
            "TARGET_SECRET_ID": target.secret_id, "TARGET_SECRET_KEY": target.secret_key,
            "SOURCE_DB_PASSWORD": "source-db-password-9c2e", "TARGET_DB_PASSWORD": "target-db-password-4b7d"}


def environment(cloud: TencentCloudSandbox, slack: SlackEmulator, given: dict[str, str]) -> dict[str, str]:
    """What the process gets: PATH with dtsbot first, the template, the sandboxes' addresses, the channel."""
    keep = {name: value for name, value in os.environ.items() if name in ("HOME", "LANG", "TMPDIR")}
    return {**keep, "PATH": f"{BIN}:/usr/bin:/bin", "DTSBOT_CONFIG": str(TEMPLATE),
            "DTSBOT_CHANNEL": "C0DTSBOT01", "SLACK_API_URL": slack.base_url,
            "TENCENTCLOUD_ENDPOINT": cloud.endpoint, "DTSBOT_DATABASE_WAIT_SECONDS": "30", **given}


def as_files(values: dict[str, str], directory: Path) -> dict[str, str]:
    """Each secret in a file of its own (mode 0600), named by NAME_FILE; nothing secret in the environment."""
    directory.mkdir(mode=0o700)
    named = {}
    for name, value in values.items():
        path = directory / name.lower()
        path.write_text(value)
        path.chmod(0o600)
        named[f"{name}_FILE"] = str(path)
    return named


def healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the entrypoint exited with {process.returncode}: {log.read_text()[-3000:]}")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def two_replicas_then_check(env: dict[str, str], directory: Path) -> None:
    """Start two replicas through the entrypoint, wait until both are healthy, run `dtsbot check`, stop them."""
    replicas: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(2):
            port, log = free_port(), directory / f"replica-{index}.log"
            replica_env = {**env, "DTSBOT_PORT": str(free_port()), "DTSBOT_METRICS_PORT": str(port)}
            with log.open("wb") as out:
                replicas.append(subprocess.Popen([str(ENTRYPOINT)], env=replica_env, cwd=directory, stdout=out,
                                                 stderr=subprocess.STDOUT))
            eventually(lambda port=port, log=log, process=replicas[-1]: healthy(port, process, log), budget(60),
                       f"replica {index} /healthz")
        check = subprocess.run([str(BIN / "dtsbot"), "check", "--config", str(TEMPLATE)], env=env, cwd=directory,
                               capture_output=True, text=True, timeout=budget(120), check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "configuration is valid (2 accounts)" in check.stdout
    finally:
        running = [replica for replica in replicas if replica.poll() is None]
        for replica in running:
            replica.terminate()
        for replica in running:
            try:
                assert replica.wait(budget(30)) == 0  # SIGTERM: a graceful stop, exit 0
            except subprocess.TimeoutExpired:
                replica.kill()
                raise


@pytest.mark.postgres
def test_the_entrypoint_brings_up_two_replicas_on_postgresql_that_pass_check(sandboxes, postgresql_url, tmp_path):
    cloud, slack = sandboxes
    two_replicas_then_check(environment(cloud, slack, secrets(cloud, slack, postgresql_url)), tmp_path)
    assert len([c for c in slack.calls if c.method == "auth.test"]) >= 3  # both replicas and check


@pytest.mark.postgres
def test_the_same_with_every_secret_from_a_file(sandboxes, postgresql_url, tmp_path):
    cloud, slack = sandboxes
    files = as_files(secrets(cloud, slack, postgresql_url), tmp_path / "secrets")
    env = environment(cloud, slack, files)
    assert not {name for name in env if name.endswith(("_TOKEN", "_SECRET", "_KEY", "_PASSWORD", "_URL"))
                and name not in ("SLACK_API_URL",)}, "a secret is in the environment"
    two_replicas_then_check(env, tmp_path)
