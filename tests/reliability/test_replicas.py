"""Replicas: three `dtsbot serve` processes on one PostgreSQL database share 100 requests (each its own role);
one process is SIGKILLed mid-way. The other two finish every request: all reach Running, each cloud change was
made once, one DTS task per request, and each request's thread is its outbox's notices, once each, in order.

Requests: `DTSBOT_REPLICA_REQUESTS` (default 100). Needs DTSBOT_TEST_POSTGRES_URL (.ci/run sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flow import REACHED_RUNNING, Cluster
from sqlmodel import select

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.waiting import until_count
from storage.db import session_scope
from storage.models import MigrationRequest

REQUESTS = int(os.environ.get("DTSBOT_REPLICA_REQUESTS", "100"))
REPLICAS = 3


@pytest.fixture
def on_postgresql(tencentcloud: TencentCloudSandbox, slack: SlackEmulator, tmp_path,
                  postgresql_url: str) -> Iterator[Cluster]:
    overrides = {"slack": {"posts_per_second": 50}}
    with Cluster(tencentcloud, slack, tmp_path, postgresql_url, overrides) as cluster:
        yield cluster


def running_count(cluster: Cluster) -> int:
    with session_scope(cluster.db) as session:
        states = session.exec(select(MigrationRequest.state)).all()
    return sum(state in REACHED_RUNNING for state in states)


@pytest.mark.slow
@pytest.mark.postgres
def test_three_replicas_one_killed_midway_finish_every_request_once(on_postgresql: Cluster) -> None:
    cluster = on_postgresql
    replicas = [cluster.replica(f"bot-{n}") for n in range(REPLICAS)]
    request_ids = [cluster.open_request(replicas[n % REPLICAS], f"role_name=DTS-role-{n:03d}", target=n)
                   for n in range(REQUESTS)]
    for n, request_id in enumerate(request_ids):
        cluster.approve(replicas[(n + 1) % REPLICAS], request_id)
    until_count(lambda: running_count(cluster), REQUESTS // 3, 120, "requests running")
    victim = replicas[1]
    victim.kill()
    cluster.wait_running(request_ids, timeout=180)
    cluster.wait_delivered(timeout=60)
    cluster.stop()  # nothing moves on while the threads are compared

    assert victim.log_path.read_text().count('"step ') > 0  # the killed replica had taken its share of steps
    changes = cluster.cloud_changes()
    assert {change: n for change, n in changes.items() if n != 1} == {}
    assert sum(1 for action, _ in changes if action == "CreateMigrationService") == REQUESTS
    for request_id in request_ids:
        assert len(cluster.jobs_of(request_id)) == 1, request_id
        assert cluster.thread(request_id) == cluster.outbox_thread(request_id), request_id
