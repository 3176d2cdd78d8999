"""Reliability fixtures: the one bot harness in-process (per test, or per module for hypothesis), and the
sandboxes with `dtsbot serve` replicas (`cluster`). Process-level helpers live in serveproc.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow import Cluster

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from tests.support.harness import (  # noqa: F401  (fixtures)
    Transport,
    account_overrides,
    bot,
    db,
    module_bot,
    slack,
    slack_overrides,
    top_level,
)


@pytest.fixture
def transport() -> Transport:
    """In-process: these tests deliver thousands of requests and replay the exact bytes of some."""
    return "wsgi"


@pytest.fixture
def tencentcloud() -> Iterator[TencentCloudSandbox]:
    """The default world, its clock at 5x so a DTS check takes a second."""
    with TencentCloudSandbox(default_world(speed=5)) as sandbox:
        yield sandbox


@pytest.fixture
def cluster(tencentcloud: TencentCloudSandbox, slack: SlackEmulator,  # noqa: F811  (the fixture above)
            tmp_path) -> Iterator[Cluster]:
    """Sandboxes + a config for `dtsbot serve` replicas on SQLite; replicas are stopped afterwards."""
    with Cluster(tencentcloud, slack, tmp_path, f"sqlite:///{tmp_path / 'dtsbot.db'}") as running:
        yield running
