"""Cloud faults: 30 % of the sandbox's calls fail — `RequestLimitExceeded`, `InternalError`, an answer slower
than the bot's client timeout (the action ran), a dropped connection before or after the action ran — while
50 requests (each its own role) run through three `dtsbot serve` replicas on PostgreSQL (one replica alone,
held to 2 DTS status reads a second by its client-side rate limits, takes four minutes). Every request
reaches Running, nothing is bought or created twice, and a failure that was final for a step is diagnosed:
the engine's retries record the error code of an injected fault, and a request that failed for good shows
the diagnosis with its fix (then a person's Retry brings it to Running).

Requests: `DTSBOT_CLOUD_FAULT_REQUESTS` (default 50). Needs DTSBOT_TEST_POSTGRES_URL (.ci/run sets it).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from flow import Cluster
from sqlmodel import select

from core.cloud import NOT_REPEATABLE
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.waiting import eventually
from storage.db import session_scope
from storage.models import AuditEntry, MigrationRequest
from tests.support.workspace import REQUESTER

REQUESTS = int(os.environ.get("DTSBOT_CLOUD_FAULT_REQUESTS", "50"))
REPLICAS = 3
FAULT_RATE = 0.3
CLIENT_TIMEOUT = 1.0  # tencentcloud.timeout_seconds: the "slow" answers come after it
KINDS: dict[str, dict[str, float]] = {
    "RequestLimitExceeded": {}, "InternalError": {}, "slow": {"delay": 2 * CLIENT_TIMEOUT},
    "drop": {}, "commit_then_drop": {},
}
# what the bot's retries may record for those faults (a lost answer is the SDK's network error)
INJECTED_CODES = {"RequestLimitExceeded", "InternalError", "ClientNetworkError"}
SETTLED = ("running", "ready_to_complete", "completing", "revoking_access", "succeeded", "failed")


@pytest.fixture
def faulty(tencentcloud: TencentCloudSandbox, slack: SlackEmulator, tmp_path,
           postgresql_url: str) -> Iterator[Cluster]:
    """A cluster whose replicas give up on a cloud answer after 1 s and post as fast as the emulator takes."""
    overrides = {"tencentcloud": {"timeout_seconds": CLIENT_TIMEOUT}, "slack": {"posts_per_second": 50}}
    with Cluster(tencentcloud, slack, tmp_path, postgresql_url, overrides) as cluster:
        yield cluster


def inject_faults(tencentcloud: TencentCloudSandbox) -> None:
    """Each kind with the same probability, together failing FAULT_RATE of all calls."""
    each = 1 - (1 - FAULT_RATE) ** (1 / len(KINDS))
    for kind, options in KINDS.items():
        tencentcloud.faults.add("*", kind, probability=each, **options)


def states(cluster: Cluster, request_ids: list[str]) -> dict[str, MigrationRequest]:
    with session_scope(cluster.db) as session:
        rows = session.exec(select(MigrationRequest).where(MigrationRequest.id.in_(request_ids))).all()
    return {row.id: row for row in rows}


def retry_failed(cluster: Cluster, failed: list[MigrationRequest]) -> None:
    """Each failed request's thread shows what/why/fix; the requester clicks its Retry."""
    driver = cluster.driver(cluster.replicas[-1])
    for request in failed:
        assert "fix:" in (request.last_error or ""), request.last_error
        notice = eventually(lambda r=request: [m for m in cluster.slack.thread(r.channel, r.message_ts)
                                               if "Retry" in str(m.get("blocks"))], 30, f"{request.id}'s failure")
        assert "fix" in notice[-1]["text"].lower()
        assert driver.click(REQUESTER, {**notice[-1], "channel": request.channel}, "retry").status == 200


@pytest.mark.slow
@pytest.mark.postgres
def test_thirty_percent_of_cloud_calls_fail_and_every_request_reaches_running_once(faulty: Cluster) -> None:
    bots = [faulty.replica(f"bot-{n}") for n in range(REPLICAS)]
    request_ids = [faulty.open_request(bots[n % REPLICAS], f"role_name=DTS-role-{n:03d}", target=n) for n in range(REQUESTS)]
    inject_faults(faulty.tencentcloud)
    for n, request_id in enumerate(request_ids):
        faulty.approve(bots[n % REPLICAS], request_id)

    eventually(lambda: all(r.state in SETTLED for r in states(faulty, request_ids).values()), 240, "every request to reach Running or fail", interval=0.5)
    failed = [r for r in states(faulty, request_ids).values() if r.state == "failed"]
    retry_failed(faulty, failed)
    faulty.wait_running(request_ids, timeout=120)

    records = faulty.tencentcloud.calls.records
    faulted = Counter(r.outcome if r.outcome != "error" else r.error_code for r in records)
    assert sum(n for k, n in faulted.items() if k != "ok") / len(records) > 0.2, faulted
    for request_id in request_ids:
        assert len(faulty.jobs_of(request_id)) == 1, request_id
    changes = faulty.cloud_changes()
    bought = Counter(key for (action, key) in changes.elements() if action == "CreateMigrationService")
    assert bought == Counter({f"dtsbot-{rid}": 1 for rid in request_ids})
    twice = {change: n for change, n in changes.items() if change[0] in NOT_REPEATABLE and n != 1}
    assert twice == {}
    with session_scope(faulty.db) as session:
        retried = session.exec(select(AuditEntry.error_code).where(AuditEntry.outcome == "retry")).all()
    assert retried and set(retried) <= INJECTED_CODES, Counter(retried)
    assert " raised" not in faulty.logs()  # no step met an error it could not diagnose
