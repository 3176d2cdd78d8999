"""The scheduler with the real cloud steps (handlers.STEPS) and CloudClients against the Tencent Cloud sandbox:
approved → running → ready to complete → (Complete clicked) → succeeded, with the batch watcher driving the
DTS phases and every cloud call in the audit log."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from engineflow import add_approved, events, fast_settings, load

from core.cloud import CloudClients
from core.engine import record_cloud_call
from core.requests import MigrationRequests
from core.scheduler import Scheduler
from handlers import STEPS
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from storage import repository
from storage.db import session_scope


@pytest.fixture
def sandbox():
    with TencentCloudSandbox(default_world(speed=100.0)) as sb:
        yield sb


def wait_for(engine, rid: str, state: str, seconds: float = 60.0) -> None:
    """Until the request is in `state`; fails at once when it failed on the way."""
    def arrived() -> bool:
        current = load(engine, rid)
        assert current.state not in ("failed", "verify_failed"), current.last_error
        return current.state == state

    eventually(arrived, seconds, f"{rid} to reach {state}", interval=0.05)


def test_approved_request_reaches_running_and_succeeds_through_the_sandbox(engine, sandbox, caplog):
    caplog.set_level(logging.INFO, logger="core.engine")
    settings = fast_settings({"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
    clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
    scheduler = Scheduler(settings, engine, STEPS, clients, lambda: 0, "a", watched_fallback=30.0)
    [rid] = add_approved(engine, migrate_type="fullAndIncrement")
    scheduler.start()
    try:
        wait_for(engine, rid, "ready_to_complete")
        assert "running" in events(engine, rid)
        with session_scope(engine) as session:
            scheduler.engine.request_complete(session, repository.get_request(session, rid), "U0TGTOWNER")
        wait_for(engine, rid, "succeeded")
    finally:
        scheduler.shutdown()

    request = load(engine, rid)
    assert request.job_id and request.job_id.startswith("dts-") and request.progress == 100
    assert events(engine, rid)[:7] == ["approved", "role_created", "preflight_passed", "task_bought",
                                       "configured", "progress", "verification_passed"]  # progress: check began
    later = events(engine, rid)[7:]
    assert later.index("running") < later.index("ready_to_complete") < later.index("task_succeeded")
    assert later[-2:] == ["task_succeeded", "succeeded"]
    actions = Counter(record.action for record in sandbox.calls.records)
    assert actions["CreateRole"] == 1 and actions["CreateMigrationService"] == 1
    assert actions["StartMigrateJob"] == 1 and actions["CompleteMigrateJob"] == 1
    watched = [r for r in sandbox.calls.of("DescribeMigrationJobs") if r.params.get("Limit") == 100]
    assert watched and all(r.params["TagFilters"] == [{"TagKey": "dtsbot-request", "TagValue": [rid]}]
                           for r in watched)  # the watcher's batch listing; 30 s waits otherwise
    with session_scope(engine) as session:
        audited = Counter(e.action for e in repository.audit_trail(session, rid) if e.action)
    assert audited["CreateRole"] == 1 and audited["StartMigrateJob"] == 1
    assert audited["DescribeMigrationJobs"] >= 1  # create_task's lookup by tag, recorded for the request
    # One log line per cloud call and per step, each with the request id, job id and cloud RequestId.
    create = next(r for r in caplog.records if r.getMessage() == "cloud call dts.CreateMigrationService ok")
    assert create.request_id == rid and create.step == "creating_task" and create.cloud_request_id
    started = next(r for r in caplog.records if r.getMessage() == "step starting done")
    assert started.request_id == rid and started.job_id == request.job_id


def test_a_request_cancelled_after_its_role_was_created_revokes_the_access(engine, sandbox):
    """Cancelling mid-way must not leave the cross-account door open: cancelling → role deleted → cancelled."""
    settings = fast_settings({"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
    clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
    scheduler = Scheduler(settings, engine, STEPS, clients, lambda: 0, "a", watched_fallback=30.0)
    requests = MigrationRequests(engine, settings, run_now=scheduler.kick)
    [rid] = add_approved(engine)
    decisions = []
    # The source owner cancels while the preflight's AssumeRole is on its way: the role exists by then.
    sandbox.hooks.before("AssumeRole", lambda _params: decisions.append(requests.cancel(rid, "U0SRCOWNER")))
    scheduler.start()
    try:
        wait_for(engine, rid, "cancelled")
    finally:
        scheduler.shutdown()

    assert [(d.ok, d.request.state) for d in decisions] == [(True, "cancelling")]
    assert sandbox.world.cam("100000000001").find_role("DTS-role") is None
    actions = Counter(record.action for record in sandbox.calls.records)
    assert actions["CreateRole"] == 1 and actions["DeleteRole"] == 1 and actions["CreateMigrationService"] == 0
    assert events(engine, rid)[-1] == "cancelled"
