"""The periodic jobs of one `dtsbot serve` replica, on APScheduler 3's BackgroundScheduler.

Jobs: the engine's tick and the DTS watcher (with the alerts, core/alerts.py, as its observer) every
`scheduler.poll_seconds`, the notifier's flush about every
0.7 s, the approval-expiry sweep and the reminders before expiry (core/reminders.py) every minute. Job stores
stay in memory (APScheduler's stores are not safe to share between processes); replicas coordinate through the
database leases. Each job runs one instance at a time and coalesces missed runs. `kick` runs the tick now, and
once more if a tick is already running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from core.alerts import AlertMonitor
from core.closeout import Phase
from core.closeout_runner import CloseoutRunner
from core.cloud import CloudClients
from core.config import Settings
from core.engine import STEP_RETRY, WorkflowEngine
from core.retry import Backoff
from core.steps import Step
from core.watcher import StatusWatcher
from core.workflow import State

log = logging.getLogger(__name__)

NOTIFY_SECONDS = 0.7
EXPIRE_SECONDS = 60.0
TICK_LIMIT = 20


class Scheduler:
    """Drives the workflow engine, the DTS watcher, the notifier, the expiry sweep and the reminders of one
    replica."""

    def __init__(self, settings: Settings, db_engine: Engine, steps: Mapping[State, Step], clients: CloudClients,
                 notify: Callable[[], int], owner: str, expire: Callable[[], Any] | None = None, *,
                 remind: Callable[[], Any] | None = None,
                 workers: int = 4, retry: Backoff = STEP_RETRY, watched_fallback: float = 300.0,
                 on_cycle: Callable[[float], None] | None = None, on_tick: Callable[[], None] | None = None,
                 max_step_seconds: float | None = None, closeout_steps: Mapping[Phase, Step] | None = None,
                 jobs: Mapping[str, tuple[Callable[[], Any], float]] | None = None) -> None:
        """`remind()` queues the reminders that are due; `on_cycle(seconds)` hears the duration of each DTS poll
        cycle (the metrics' histogram); `on_tick()` hears each finished workflow tick; `max_step_seconds` bounds how long a running step's lease is renewed
        (see WorkflowEngine.tick). `closeout_steps`: close-out's steps (core/closeout_runner.py), run every poll;
        `jobs`: more periodic jobs by id, (function, seconds between runs)."""
        self.settings, self.owner = settings, owner
        self.poll_seconds = settings.scheduler.poll_seconds
        self.engine = WorkflowEngine(db_engine, settings, steps, clients, owner, workers=workers, retry=retry,
                                     watched_fallback=watched_fallback, wakeup=self._wake,
                                     max_step_seconds=max_step_seconds)
        self.alerts = AlertMonitor(db_engine, settings) if settings.alerts.enabled else None
        self.watcher = StatusWatcher(db_engine, clients, on_change=self._wake, observer=self.alerts)
        self.closeout = (CloseoutRunner(db_engine, settings, closeout_steps, clients, owner, retry=retry)
                         if closeout_steps is not None else None)
        self._jobs = dict(jobs or {})
        self._notify, self._expire, self._remind, self._on_cycle = notify, expire, remind, on_cycle
        self._on_tick = on_tick
        self._kicked = threading.Event()
        self.last_tick: float | None = None
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        """Add the jobs and start; the first tick runs at once."""
        now = datetime.now(UTC)
        add = self._scheduler.add_job
        # A wake while a tick is finishing must not be skipped as "already running" (the next would come a whole
        # poll later): a second tick may queue behind the running one (WorkflowEngine.tick holds a lock).
        add(self._tick, "interval", seconds=self.poll_seconds, id="tick", next_run_time=now, max_instances=2)
        add(self._guarded(self._watch), "interval", seconds=self.poll_seconds, id="watch",
            next_run_time=now)
        add(self._guarded(self._notify), "interval", seconds=NOTIFY_SECONDS, id="notify", next_run_time=now)
        if self._expire is not None:
            add(self._guarded(self._expire), "interval", seconds=EXPIRE_SECONDS, id="expire")
        if self._remind is not None:
            add(self._guarded(self._remind), "interval", seconds=EXPIRE_SECONDS, id="remind")
        if self.closeout is not None:
            add(self._guarded(self.closeout.tick), "interval", seconds=self.poll_seconds, id="closeout",
                next_run_time=now)
        for job_id, (job, seconds) in self._jobs.items():
            add(self._guarded(job), "interval", seconds=seconds, id=job_id, next_run_time=now)
        self._scheduler.start()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the jobs, then the step pool (letting running steps finish when `wait`)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
        self.engine.close(wait=wait)

    def kick(self, request_id: str) -> None:
        """Run `request_id` now (both approvals landed, or a person retried it)."""
        self.engine.kick(request_id)

    def alive(self) -> bool:
        """For /healthz: the scheduler runs and a tick finished within three poll intervals (or started)."""
        if not self._scheduler.running:
            return False
        return self.last_tick is None or time.monotonic() - self.last_tick < 3 * self.poll_seconds + 30

    def _watch(self) -> None:
        started = time.monotonic()
        self.watcher.cycle()
        if self._on_cycle is not None:
            self._on_cycle(time.monotonic() - started)

    def _wake(self) -> None:
        self._kicked.set()
        if self._scheduler.running:
            self._scheduler.modify_job("tick", next_run_time=datetime.now(UTC))

    def _tick(self) -> None:
        """Tick until a pass claims nothing (a finished step makes its request due again at once)."""
        try:
            while True:
                self._kicked.clear()
                claimed = self.engine.tick(TICK_LIMIT)
                self.last_tick = time.monotonic()
                if self._on_tick is not None:
                    self._on_tick()
                if claimed == 0 and not self._kicked.is_set():
                    break
            self._tick_again_at(self.engine.next_due())
        except Exception:
            log.exception("workflow tick failed")

    def _tick_again_at(self, due: datetime | None) -> None:
        """Bring the next tick forward when a request is due before the next poll (short waits, backoff)."""
        if due is None or not self._scheduler.running:
            return
        job = self._scheduler.get_job("tick")
        if job is not None and job.next_run_time is not None and due < job.next_run_time:
            self._scheduler.modify_job("tick", next_run_time=max(due, datetime.now(UTC)))

    @staticmethod
    def _guarded(job: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("scheduled job %s failed", getattr(job, "__qualname__", job))

        return run
