"""The batch watcher against the Tencent Cloud sandbox: tasks listed 100 per DescribeMigrationJobs call, a changed
task's request made due as soon as its batch is listed, leased requests left to the next cycle, rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from engineflow import FIELDS, fast_settings, load

from core.cloud import RATE_LIMITS, CloudClients
from core.watcher import StatusWatcher
from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage.db import session_scope
from storage.models import MigrationRequest, utcnow

TARGET_UIN = "100000000002"


@pytest.fixture
def sandbox():
    with TencentCloudSandbox(default_world(speed=100.0)) as sb:
        yield sb


def seed_running(sandbox, db, count: int) -> list[str]:
    """`count` running tasks tagged with their request ids, and their requests waiting an hour; the ids, sorted."""
    backend, now = dts_backend(sandbox.world), sandbox.world.clock.now()
    rows = []
    for i in range(count):
        rid = f"mr-w{i:04d}"
        [job] = backend.create_jobs(TARGET_UIN, src_database_type="mysql", dst_database_type="mysql",
                                    src_region="ap-guangzhou", dst_region="ap-guangzhou", instance_class="small",
                                    tags={"dtsbot-request": rid})
        job.timeline = lc.Timeline([(now, lc.RUNNING)])
        rows.append(MigrationRequest(id=rid, requester="U0REQUESTER", **FIELDS, state="running", job_id=job.job_id,
                                     facts={"dts_status": "running", "watched_status": "running"},
                                     next_run_at=utcnow() + timedelta(hours=1)))
    with session_scope(db) as session:
        session.add_all(rows)
    return [row.id for row in rows]


def ready_to_complete(sandbox, db, rid: str) -> None:
    job = dts_backend(sandbox.world).jobs[load(db, rid).job_id]
    with sandbox.world.lock:
        job.timeline.schedule(sandbox.world.clock.now(), (0, lc.READY_COMPLETE))


def is_due(db, rid: str) -> bool:
    request = load(db, rid)
    return request.next_run_at is not None and request.next_run_at <= utcnow()


def watcher_for(sandbox, db, wakes: list[int] | None = None, clock: Callable[[], float] = time.monotonic
                ) -> StatusWatcher:
    clients = CloudClients(fast_settings({"TENCENTCLOUD_ENDPOINT": sandbox.endpoint}), backoff_base=0.01, timeout=5,
                           rates={**RATE_LIMITS, ("dts", "DescribeMigrationJobs"): 100.0})
    on_change = None if wakes is None else (lambda: wakes.append(1))
    return StatusWatcher(db, clients, on_change=on_change, clock=clock)


def test_a_change_on_the_first_page_is_made_due_before_the_second_page_is_listed(engine, sandbox):
    ids = seed_running(sandbox, engine, 150)
    first, later = ids[0], ids[120]
    ready_to_complete(sandbox, engine, first)
    ready_to_complete(sandbox, engine, later)
    wakes: list[int] = []
    seen_at_second_page: list[tuple[bool, bool, int]] = []
    sandbox.hooks.before("DescribeMigrationJobs", lambda params: seen_at_second_page.append(
        (is_due(engine, first), is_due(engine, later), len(wakes))) if params["TagFilters"][0]["TagValue"][0] == ids[100]
        else None, count=None)

    report = watcher_for(sandbox, engine, wakes).cycle()

    assert seen_at_second_page == [(True, False, 1)]  # the first batch acted on, and the tick woken, at once
    assert report.calls == {"DescribeMigrationJobs": 2} and report.watched == 150
    assert report.changed == [first, later] and len(wakes) == 2
    assert load(engine, first).facts.watched_status == "readyComplete"
    assert load(engine, first).facts.dts_status == "running"  # the step's own record is left to the step
    assert not is_due(engine, ids[1]) and not is_due(engine, ids[149])
    batches = [r.params["TagFilters"][0]["TagValue"] for r in sandbox.calls.of("DescribeMigrationJobs")]
    assert batches == [ids[:100], ids[100:]]


def test_a_leased_request_is_left_to_the_next_cycle_and_a_change_is_acted_on_once(engine, sandbox):
    [rid, other] = seed_running(sandbox, engine, 2)
    ready_to_complete(sandbox, engine, rid)
    with session_scope(engine) as session:
        session.get(MigrationRequest, rid).lease_until = utcnow() + timedelta(minutes=5)  # its step runs now
    watcher = watcher_for(sandbox, engine)

    assert watcher.cycle().changed == []
    assert load(engine, rid).facts.watched_status == "running" and not is_due(engine, rid)
    with session_scope(engine) as session:
        session.get(MigrationRequest, rid).lease_until = None
    assert watcher.cycle().changed == [rid] and is_due(engine, rid)
    assert watcher.cycle().changed == []  # recorded: the same status does not make it due again
    assert not is_due(engine, other)


def test_a_task_no_longer_listed_is_recorded_absent(engine, sandbox):
    [rid] = seed_running(sandbox, engine, 1)
    backend = dts_backend(sandbox.world)
    with sandbox.world.lock:
        backend.set_tags(backend.jobs[load(engine, rid).job_id], {})  # someone removed the bot's tag

    assert watcher_for(sandbox, engine).cycle().changed == [rid]
    assert load(engine, rid).facts.watched_status == "absent" and is_due(engine, rid)


def test_rate_limited_listing_pauses_the_account_and_region(engine, sandbox):
    [rid] = seed_running(sandbox, engine, 1)
    ready_to_complete(sandbox, engine, rid)
    sandbox.faults.add("DescribeMigrationJobs", "RequestLimitExceeded", count=3)  # every attempt of one call
    now = [time.monotonic()]
    watcher = watcher_for(sandbox, engine, clock=lambda: now[0])

    refused = watcher.cycle()
    assert refused.throttled == [("analytics", "ap-guangzhou")] and refused.changed == []
    listed = len(sandbox.calls.of("DescribeMigrationJobs"))
    assert watcher.cycle().throttled == [("analytics", "ap-guangzhou")]  # paused: no call at all
    assert len(sandbox.calls.of("DescribeMigrationJobs")) == listed
    now[0] += 60  # the pause (at most a minute) is over
    assert watcher.cycle().changed == [rid]
