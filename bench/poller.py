"""Poll-cycle benchmark: 5,000 running DTS tasks in the sandbox, batch watcher vs one DescribeMigrationDetail per
task. Prints a table (never asserts).

    .venv/bin/python bench/poller.py [--jobs 5000] [--cycles 3] [--poll 10] [--rate 2] [--changes-per-second 2]

Tasks are bought in-process through the sandbox's DTS models (tagged `dtsbot-request` = request id, as the bot
tags them) and stored as `running` requests. A background thread moves random tasks to readyComplete while the
cycles run; the delay is from that change to the `ready_to_complete` notice in the outbox. Every cycle is the
real path: StatusWatcher.cycle() (rate-limited DescribeMigrationJobs through CloudClients), then engine ticks
that run track_task (DescribeMigrationDetail) for the changed requests only. The naive pass reads each task's
detail once through a raw SDK client without client-side limits, and its minimum duration at the rate limit
is computed from its call count.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.dts.v20211206.dts_client import DtsClient

from core.cloud import CloudCall, CloudClients
from core.config import SchedulerSettings, load_settings
from core.engine import WorkflowEngine
from core.watcher import StatusWatcher
from handlers import STEPS
from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage.db import make_engine, migrate, session_scope
from storage.models import MigrationRequest, OutboxMessage, utcnow

APP_YAML = Path(__file__).resolve().parents[1] / "app.yaml"
TARGET_UIN, REGION = "100000000002", "ap-guangzhou"


def seed(world, db, jobs: int) -> dict[str, str]:
    """Buy `jobs` running tasks in the target account and store their requests; job id -> request id."""
    backend = dts_backend(world)
    now = world.clock.now()
    far = utcnow() + timedelta(hours=1)  # waiting: only the watcher makes them due
    by_job: dict[str, str] = {}
    rows = []
    for i in range(jobs):
        rid = f"mr-b{i:05d}"
        [job] = backend.create_jobs(TARGET_UIN, src_database_type="mysql", dst_database_type="mysql",
                                    src_region=REGION, dst_region=REGION, instance_class="small",
                                    tags={"dtsbot-request": rid})
        job.timeline = lc.Timeline([(now, lc.RUNNING)])
        by_job[job.job_id] = rid
        rows.append(MigrationRequest(
            id=rid, requester="U0REQUESTER", source_account="shop-prod", source_uin="100000000001",
            source_region=REGION, source_instance="cdb-src00001", target_account="analytics",
            target_uin=TARGET_UIN, target_region=REGION, target_instance="cdb-dst00001", db_type="mysql",
            role_name="DTS-role", migrate_type="fullAndIncrement", state="running", job_id=job.job_id,
            progress=50, facts={"dts_status": "running", "watched_status": "running"},
            next_run_at=far, channel="C0DTSBOT01"))
    with session_scope(db) as session:
        session.add_all(rows)
    return by_job


def change_tasks(world, by_job: dict[str, str], per_second: float, stop: threading.Event,
                 changed_at: dict[str, float]) -> None:
    """Move random running tasks to readyComplete, remembering when (real time) each changed."""
    backend, pending = dts_backend(world), list(by_job)
    random.shuffle(pending)
    while not stop.wait(1.0 / per_second) and pending:
        job_id = pending.pop()
        with world.lock:
            backend.jobs[job_id].timeline.schedule(world.clock.now(), (0, lc.READY_COMPLETE))
        changed_at[by_job[job_id]] = time.time()


def notice_delays(db, changed_at: dict[str, float]) -> list[float]:
    with session_scope(db) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.key).like("%:ready_to_complete"))).all()
    return [m.created_at.timestamp() - changed_at[m.request_id] for m in rows if m.request_id in changed_at]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--poll", type=float, default=10.0, help="seconds from one cycle's start to the next")
    parser.add_argument("--rate", type=float, default=2.0, help="Describe calls/s per account and region")
    parser.add_argument("--changes-per-second", type=float, default=2.0)
    args = parser.parse_args()

    world = default_world(1.0)
    with TencentCloudSandbox(world) as sandbox, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
        settings = settings.model_copy(update={"scheduler": SchedulerSettings(poll_seconds=args.poll)})
        db = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate(db)
        started = time.perf_counter()
        by_job = seed(world, db, args.jobs)
        print(f"seeded {args.jobs} running tasks and requests in {time.perf_counter() - started:.1f} s")

        calls: Counter[str] = Counter()
        lock = threading.Lock()

        def count(call: CloudCall) -> None:
            with lock:
                calls[call.action] += 1

        clients = CloudClients(settings, count, timeout=30)
        engine = WorkflowEngine(db, settings, STEPS, clients, "bench", workers=4, watched_fallback=3600.0)
        watcher = StatusWatcher(db, clients, rate=args.rate)
        changed_at: dict[str, float] = {}
        stop = threading.Event()
        changer = threading.Thread(target=change_tasks, args=(world, by_job, args.changes_per_second, stop,
                                                              changed_at), daemon=True)
        rows = []
        changer.start()
        next_start = time.monotonic()
        for cycle in range(1, args.cycles + 1):
            time.sleep(max(0.0, next_start - time.monotonic()))
            next_start = time.monotonic() + args.poll
            calls.clear()
            wall, cpu, thread_cpu = time.perf_counter(), time.process_time(), time.thread_time()
            report = watcher.cycle()
            while engine.tick(50):
                pass
            rows.append((f"batch #{cycle}", dict(calls), len(report.changed), time.perf_counter() - wall,
                         time.process_time() - cpu, time.thread_time() - thread_cpu))
        stop.set()
        engine.close()
        delays = notice_delays(db, changed_at)

        http = HttpProfile(endpoint=sandbox.endpoint, protocol="http")
        raw = DtsClient(Credential("AKIDSANDBOXTARGET0000000000000002", "sandbox-target-secret-key-0002"), REGION,
                        ClientProfile(httpProfile=http))
        wall, cpu, thread_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        for job_id in by_job:
            raw.call_json("DescribeMigrationDetail", {"JobId": job_id})
        naive = ("naive", {"DescribeMigrationDetail": len(by_job)}, None, time.perf_counter() - wall,
                 time.process_time() - cpu, time.thread_time() - thread_cpu)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{args.jobs} running tasks, poll every {args.poll:g} s, Describe limit {args.rate:g}/s per account+region,"
          f" {args.changes_per_second:g} status changes/s\n")
    print(f"{'approach':<10} {'API calls by action':<58} {'changed':>7} {'wall s':>8} {'CPU s':>7} {'bot CPU s':>9}")
    for name, by_action, changed, wall_s, cpu_s, thread_s in [*rows, naive]:
        actions = ", ".join(f"{a} {n}" for a, n in sorted(by_action.items())) or "-"
        print(f"{name:<10} {actions:<58} {'' if changed is None else changed:>7} {wall_s:>8.2f} {cpu_s:>7.2f} "
              f"{thread_s:>9.2f}")
    naive_calls = len(by_job)
    print(f"\nnaive at {args.rate:g} calls/s would take {naive_calls / args.rate:.0f} s per cycle "
          f"(at DTS's 20/s: {naive_calls / 20:.0f} s); its change-to-notice delay is about that long.")
    print(f"batch change-to-notice delay: p50 {percentile(delays, 0.5):.1f} s, p95 {percentile(delays, 0.95):.1f} s "
          f"over {len(delays)} changes noticed ({len(changed_at)} made)")
    print(f"peak RSS {rss_mb:.0f} MB (bot, sandbox and both approaches in one process)")
    print("CPU s = the whole process (bot + in-process sandbox); bot CPU s = the polling thread only")


if __name__ == "__main__":
    main()
