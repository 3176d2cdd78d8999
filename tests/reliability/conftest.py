"""Reliability fixtures: the Bolt app in-process on SQLite (per test, or per module for hypothesis), and the
Slack emulator with the sandbox's people. Process-level helpers (sandboxes, `dtsbot serve` children) live in
serveproc.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow import Cluster
from inprocess import USERS, InProcessBot, in_process_bot

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage.db import make_engine, migrate


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(users=USERS) as emulator:
        yield emulator


@pytest.fixture
def bot(slack: SlackEmulator, tmp_path) -> Iterator[InProcessBot]:
    db = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    migrate(db)
    running = in_process_bot(slack, db)
    yield running
    running.close()
    db.dispose()


@pytest.fixture(scope="module")
def module_bot(tmp_path_factory) -> Iterator[InProcessBot]:
    """One bot for a whole module (hypothesis runs thousands of examples against it)."""
    db = make_engine(f"sqlite:///{tmp_path_factory.mktemp('bot') / 'bot.db'}")
    migrate(db)
    with SlackEmulator(users=USERS) as slack:
        running = in_process_bot(slack, db)
        yield running
        running.close()
    db.dispose()


@pytest.fixture
def tencentcloud() -> Iterator[TencentCloudSandbox]:
    """The default world, its clock at 5x so a DTS check takes a second."""
    with TencentCloudSandbox(default_world(speed=5)) as sandbox:
        yield sandbox


@pytest.fixture
def cluster(tencentcloud: TencentCloudSandbox, slack: SlackEmulator, tmp_path) -> Iterator[Cluster]:
    """Sandboxes + a config for `dtsbot serve` replicas on SQLite; replicas are stopped afterwards."""
    with Cluster(tencentcloud, slack, tmp_path, f"sqlite:///{tmp_path / 'dtsbot.db'}") as running:
        yield running
