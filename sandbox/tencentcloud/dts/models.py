"""DTS state of one sandbox world: migration jobs per root account, their timelines, and lookup indexes.

Pure state (no HTTP): `responses.py` validates the wire parameters and calls this backend. Jobs are indexed
by owner and by tag, so a `TagFilters` query (the bot finding its task by request id) touches only the
tagged jobs, however many jobs the world holds; `JobPage.examined` exposes that for tests.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts import throttle
from sandbox.tencentcloud.dts.checks import StepResult, passed
from sandbox.tencentcloud.exceptions import TencentCloudError

JOB_ID_ALPHABET = string.ascii_lowercase + string.digits
ISOLATING_SECONDS = 2.0
"""Sandbox seconds a job stays `isolating` after IsolateMigrateJob (the reference: "比较短暂的状态", brief)."""
MAX_UNUSED_JOBS = 300
"""Idle jobs (bought, never started, not isolated) an account may hold before CreateMigrationService answers
`LimitExceeded.MaxUnusedJobs`; the number is not published (a guess, see README)."""


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass
class Endpoint:
    """A configured source or target (`DBEndpointInfo`), secrets already removed."""

    region: str
    access_type: str
    database_type: str
    node_type: str
    info: list[dict[str, Any]]
    supplier: str = ""
    extra_attr: list[dict[str, Any]] = field(default_factory=list)

    @property
    def instance_id(self) -> str:
        return str(self.info[0].get("InstanceId", "")) if self.info else ""


@dataclass
class JobConfig:
    """What ModifyMigrationJob set: run mode, options and both endpoints."""

    run_mode: str
    migrate_option: dict[str, Any]
    src: Endpoint
    dst: Endpoint
    expect_run_time: str = ""
    auto_retry_minutes: int = 0
    wrong_logins: list[str] = field(default_factory=list)
    """Instances whose world `password` differs from the one configured: their connection check fails."""

    @property
    def migrate_type(self) -> str:
        return str(self.migrate_option.get("MigrateType") or "fullAndIncrement")


@dataclass
class CheckRun:
    """One verification run: when it started and the outcome decided at start."""

    started_at: float
    results: list[StepResult]
    task_failed: bool = False  # the check task itself fails (DescribeMigrationCheckJob.Status=failed)


@dataclass
class MigrationRun:
    """One started migration: type, whether it fails while running, and since when its running time counts."""

    started_at: float
    migrate_type: str
    fails: bool
    counted_from: float = 0.0
    """Running is counted from this moment on (at `speed`); before it, `credit` sandbox seconds of work were done."""
    credit: float = 0.0
    """Work (sandbox seconds at full speed) done before `counted_from`; 0 after a restart without a checkpoint."""
    speed: float = 1.0
    """Share of full speed the rate limits allow (rate_limits.speed); 0 while the full load stalls (a fault)."""

    def restart(self, at: float) -> None:
        """The export starts over at `at` (DumperResumeCtrl no): the work done so far is lost."""
        self.counted_from, self.credit = at, 0.0

    @property
    def length(self) -> float:
        """Sandbox seconds of running until the run ends (a run that fails, fails halfway)."""
        return lc.RUN_SECONDS / 2 if self.fails else lc.RUN_SECONDS

    @property
    def end(self) -> str:
        """How the run ends: failed, readyComplete (full + incremental) or success."""
        return lc.FAILED if self.fails else lc.READY_COMPLETE if self.migrate_type == "fullAndIncrement" \
            else lc.SUCCESS


@dataclass
class Job:
    """A purchased DTS migration job (`dts-xxxxxxxx`) owned by a root account."""

    job_id: str
    owner_uin: str
    name: str
    src_database_type: str
    dst_database_type: str
    src_region: str
    dst_region: str
    instance_class: str
    created_at: float
    deal_name: str
    seq: int = 0  # purchase order, to sort jobs bought in the same second
    tags: dict[str, str] = field(default_factory=dict)
    timeline: lc.Timeline = field(default_factory=lc.Timeline)
    config: JobConfig | None = None
    check: CheckRun | None = None
    run: MigrationRun | None = None
    isolated_at: float | None = None
    billing_type: str = "billing"
    billing_change: str | None = None
    """Fault injection: a documented billing change under way (`resizing`, `reversing`), shown as the TradeStatus;
    the sandbox refuses isolation during one (a guess: sandbox/tencentcloud/README.md)."""
    """`TradeInfo.BillingType`: billing (default), notBilling (isolating destroys it at once), promotions."""
    dumper_resumable: bool = True
    """DumperResumeCtrl: yes, a restarted export goes on from its checkpoint; no (fault injection), it starts over."""
    resume_options: list[str] = field(default_factory=list)
    """The ResumeOption of each accepted ResumeMigrateJob, in order."""

    rate_limit: dict[str, int] = field(default_factory=dict)
    """RateLimitOption's current values set by MigrateOption.RateLimit or ModifyMigrateRateLimit, by parameter name
    (DumpThread, DumpRps, LoadThread, LoadRps, SinkerThread); a missing one is at its default."""
    lag_since: float | None = None
    """Fault injection: since when the incremental sync falls behind (SecondsBehindMaster rises), or None."""
    lag_rate: float = 0.0
    """Seconds of lag gained per sandbox second since `lag_since`."""
    stalled: bool = False
    """Fault injection: the full load stops moving while DTS still says running."""

    def status(self, now: float) -> str:
        return self.timeline.status(now)

    def trade_status(self, now: float) -> str:
        """`TradeInfo.TradeStatus`: normal, then isolating for ISOLATING_SECONDS after IsolateMigrateJob, then
        isolated (the other documented values, resizing, reversing, offlining, offlined, notBilled, are not
        reached: a destroyed job disappears; `billing_change` injects resizing or reversing)."""
        if self.billing_change:
            return self.billing_change
        if self.isolated_at is None:
            return "normal"
        return "isolating" if now < self.isolated_at + ISOLATING_SECONDS else "isolated"

    def ran(self, now: float) -> float:
        """Work done by the current run (sandbox seconds at full speed, since its last restart without a checkpoint)."""
        if not self.run:
            return 0.0
        return self.run.credit + self.run.speed * self.timeline.time_in(lc.RUNNING, self.run.counted_from, now)

    def run_left(self, now: float) -> float:
        """Sandbox seconds of running still to go before the run ends, at the run's speed."""
        if not self.run:
            return lc.RUN_SECONDS
        work = max(0.0, self.run.length - self.ran(now))
        return work / self.run.speed if self.run.speed > 0 else lc.STALLED_SECONDS if work else 0.0

    def idle(self, now: float) -> bool:
        """Bought and never started, and not isolated: what `LimitExceeded.MaxUnusedJobs` counts."""
        return self.run is None and self.isolated_at is None and self.status(now) in lc.CONFIGURABLE

    @property
    def retry_window(self) -> float | None:
        """Sandbox seconds DTS retries a resumableErr by itself (AutoRetryTimeRangeMinutes, 0 when not sent);
        None for a job never configured (a status put on it by a test rests as put)."""
        return 60.0 * self.config.auto_retry_minutes if self.config else None


@dataclass
class JobQuery:
    """DescribeMigrationJobs filters; None/empty means "any"."""

    job_id: str | None = None
    job_name: str | None = None
    statuses: list[str] = field(default_factory=list)
    src_instance_id: str | None = None
    dst_instance_id: str | None = None
    src_region: str | None = None
    dst_region: str | None = None
    src_database_types: list[str] = field(default_factory=list)
    dst_database_types: list[str] = field(default_factory=list)
    src_access_types: list[str] = field(default_factory=list)
    dst_access_types: list[str] = field(default_factory=list)
    run_mode: str | None = None
    tag_filters: list[tuple[str, list[str]]] = field(default_factory=list)
    ascending: bool = False
    offset: int = 0
    limit: int = 20


@dataclass
class JobPage:
    """One page of jobs, the total that matched, and how many jobs the query had to look at."""

    total: int
    jobs: list[Job]
    examined: int


def _conflict(job: Job, status: str, action: str) -> TencentCloudError:
    return TencentCloudError(
        "FailedOperation.StatusInConflict",
        f"job {job.job_id} is {status}: {action} is not allowed in this status",
    )


class DtsBackend:
    """All DTS jobs of a world, keyed by job id, with per-owner and per-tag indexes."""

    def __init__(self, clock: Clock, seed: int | None = None) -> None:
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self._bought = 0
        self._rng = random.Random(seed)
        self._by_owner: dict[str, dict[str, None]] = {}
        self._by_tag: dict[tuple[str, str, str], dict[str, None]] = {}
        self._by_tag_key: dict[tuple[str, str], dict[str, None]] = {}
        self.max_unused_jobs = MAX_UNUSED_JOBS

    # -- purchase and lookup -------------------------------------------------------------------------
    def create_jobs(self, owner_uin: str, *, src_database_type: str, dst_database_type: str,
                    src_region: str, dst_region: str, instance_class: str, count: int = 1,
                    name: str = "", tags: dict[str, str] | None = None) -> list[Job]:
        """Buy `count` jobs in status created (CreateMigrationService)."""
        now = self.clock.now()
        deal_name = "".join(self._rng.choices(string.digits, k=23))
        jobs = []
        for _ in range(count):
            job = Job(
                job_id=self._new_job_id(), owner_uin=owner_uin, name=name,
                src_database_type=src_database_type, dst_database_type=dst_database_type,
                src_region=src_region, dst_region=dst_region, instance_class=instance_class,
                created_at=now, deal_name=deal_name, seq=self._bought, timeline=lc.Timeline([(now, lc.CREATED)]),
            )
            self._bought += 1
            self.jobs[job.job_id] = job
            self._by_owner.setdefault(owner_uin, {})[job.job_id] = None
            self.set_tags(job, dict(tags or {}))
            jobs.append(job)
        return jobs

    def get(self, owner_uin: str, job_id: str) -> Job:
        """The caller's job, or `ResourceNotFound.JobNotExist` (another account's job is not visible)."""
        job = self.jobs.get(job_id)
        if job is None or job.owner_uin != owner_uin:
            raise TencentCloudError("ResourceNotFound.JobNotExist", f"job {job_id} does not exist")
        return job

    def check_unused(self, owner_uin: str, count: int) -> None:
        """`LimitExceeded.MaxUnusedJobs` when buying `count` more would exceed the idle jobs allowed."""
        now = self.clock.now()
        idle = sum(1 for job_id in self._by_owner.get(owner_uin, {}) if self.jobs[job_id].idle(now))
        if idle + count > self.max_unused_jobs:
            raise TencentCloudError("LimitExceeded.MaxUnusedJobs",
                                    f"the account holds {idle} idle jobs (bought, never started); isolate and "
                                    "destroy the ones not needed before buying more")

    def set_tags(self, job: Job, tags: dict[str, str]) -> None:
        """Replace a job's tags and keep the tag indexes in step."""
        self._unindex_tags(job)
        job.tags = tags
        for key, value in tags.items():
            self._by_tag.setdefault((job.owner_uin, key, value), {})[job.job_id] = None
            self._by_tag_key.setdefault((job.owner_uin, key), {})[job.job_id] = None

    def query(self, owner_uin: str, q: JobQuery) -> JobPage:
        """DescribeMigrationJobs: narrow by job id or tag index first, then filter the few candidates."""
        candidates = self._candidates(owner_uin, q)
        now = self.clock.now()
        matched = [job for job in candidates if self._matches(job, q, now)]
        matched.sort(key=lambda job: job.seq, reverse=not q.ascending)
        return JobPage(len(matched), matched[q.offset:q.offset + q.limit], len(candidates))

    # -- lifecycle -----------------------------------------------------------------------------------
    def configure(self, job: Job, config: JobConfig) -> None:
        """ModifyMigrationJob: only before the task runs; a modified task must be checked again."""
        now = self.clock.now()
        status = job.status(now)
        if status not in lc.CONFIGURABLE:
            raise _conflict(job, status, "ModifyMigrationJob")
        job.config = config
        job.check = None
        if status != lc.CREATED:
            job.timeline.schedule(now, (0, lc.CREATED))

    def start_check(self, job: Job, results: list[StepResult], task_failed: bool = False) -> None:
        """CreateMigrateCheckJob: checking for CHECK_SECONDS, then checkPass or checkNotPass."""
        now = self.clock.now()
        status = job.status(now)
        if status not in lc.CONFIGURABLE:
            raise _conflict(job, status, "CreateMigrateCheckJob")
        if job.config is None:
            raise TencentCloudError("OperationDenied.JobOperationDeniedError",
                                    f"job {job.job_id} is not configured: call ModifyMigrationJob first")
        job.check = CheckRun(now, results, task_failed)
        verdict = lc.CHECK_PASS if passed(results) and not task_failed else lc.CHECK_NOT_PASS
        job.timeline.schedule(now, (0, lc.CHECKING), (lc.CHECK_SECONDS, verdict))

    def start(self, job: Job, fails: bool = False, wait: float = 0.0) -> None:
        """StartMigrateJob (only after checkPass): readyRun, running, then success, readyComplete or failed; a
        timed task (RunMode timed) waits in readyRun `wait` seconds, until its ExpectRunTime (a guess: the
        documents do not say which status a timed task shows before its time)."""
        now = self.clock.now()
        status = job.status(now)
        if status != lc.CHECK_PASS or job.config is None:
            raise _conflict(job, status, "StartMigrateJob")
        run = job.run = MigrationRun(now, job.config.migrate_type, fails, counted_from=now,
                                     speed=0.0 if job.stalled else throttle.speed(job.rate_limit))
        job.timeline.schedule(now, (0, lc.READY_RUN), (wait + lc.READY_RUN_SECONDS, lc.RUNNING),
                              (wait + lc.READY_RUN_SECONDS + job.run_left(now), run.end))

    def complete(self, job: Job) -> None:
        """CompleteMigrateJob: only in readyComplete; completing, then success."""
        now = self.clock.now()
        status = job.status(now)
        if status != lc.READY_COMPLETE:
            raise _conflict(job, status, "CompleteMigrateJob")
        job.timeline.schedule(now, (0, lc.COMPLETING), (lc.COMPLETING_SECONDS, lc.SUCCESS))

    def resume(self, job: Job, option: str, fails: bool = False, redis: bool = False) -> None:
        """ResumeMigrateJob: from an abnormal status (error, resumableErr; a Redis link also from failed) resuming,
        then running again: from the export's checkpoint when DumperResumeCtrl is yes, from the start when no."""
        now = self.clock.now()
        status = job.status(now)
        allowed = lc.RESUMABLE | ({lc.FAILED} if redis else set())
        if status not in allowed or job.run is None:
            raise _conflict(job, status, "ResumeMigrateJob")
        run = job.run
        run.fails = fails
        if not job.dumper_resumable:
            run.restart(now)
        job.resume_options.append(option)
        left = job.run_left(now)
        job.timeline.schedule(now, (0, lc.RESUMING), (lc.RESUME_SECONDS, lc.RUNNING),
                              (lc.RESUME_SECONDS + left, run.end))

    def pause(self, job: Job) -> None:
        """PauseMigrateJob: only a running job (a guess, the documents list no statuses); pausing, then
        manualPaused. Running time stops counting."""
        now = self.clock.now()
        status = job.status(now)
        if status != lc.RUNNING:
            raise _conflict(job, status, "PauseMigrateJob")
        job.timeline.schedule(now, (0, lc.PAUSING), (lc.PAUSING_SECONDS, lc.MANUAL_PAUSED))

    def continue_(self, job: Job) -> None:
        """ContinueMigrateJob: only a manualPaused job runs again, from the export's checkpoint when
        DumperResumeCtrl is yes, from the start when no."""
        now = self.clock.now()
        status = job.status(now)
        if status != lc.MANUAL_PAUSED or job.run is None:
            raise _conflict(job, status, "ContinueMigrateJob")
        if not job.dumper_resumable:
            job.run.restart(now)
        job.timeline.schedule(now, (0, lc.RUNNING), (job.run_left(now), job.run.end))

    def set_speed(self, job: Job, speed: float) -> None:
        """The run goes on at `speed` from now (a rate limit changed, a stall began or ended): the work done is
        kept and a running job's end moves accordingly."""
        now = self.clock.now()
        run = job.run
        if run is None:
            return
        run.credit, run.counted_from, run.speed = job.ran(now), now, speed
        if job.status(now) == lc.RUNNING:
            job.timeline.schedule(now, (job.run_left(now), run.end))

    def limit(self, job: Job, limits: dict[str, int]) -> None:
        """ModifyMigrateRateLimit: only while the job runs ("此操作仅在任务运行中可执行"); the full load goes on at
        the speed the new limits allow."""
        status = job.status(self.clock.now())
        if status != lc.RUNNING:
            raise _conflict(job, status, "ModifyMigrateRateLimit")
        job.rate_limit = limits
        if not job.stalled:
            self.set_speed(job, throttle.speed(limits))

    def stall(self, job: Job, stalled: bool = True) -> None:
        """Fault injection: the full load stops moving from now on (DTS still says running), or moves again."""
        job.stalled = stalled
        self.set_speed(job, 0.0 if stalled else throttle.speed(job.rate_limit))

    def fall_behind(self, job: Job, seconds_per_second: float) -> None:
        """Fault injection: from now on SecondsBehindMaster rises by `seconds_per_second` each sandbox second;
        0 catches up at once (lag 0)."""
        job.lag_since = self.clock.now() if seconds_per_second else None
        job.lag_rate = seconds_per_second

    def stop(self, job: Job) -> None:
        """StopMigrateJob: in the documented statuses (lifecycle.STOPPABLE); stopping, then canceled."""
        now = self.clock.now()
        status = job.status(now)
        if status not in lc.STOPPABLE:
            raise _conflict(job, status, "StopMigrateJob")
        job.timeline.schedule(now, (0, lc.STOPPING), (lc.STOPPING_SECONDS, lc.CANCELED))

    def put(self, job: Job, status: str, after: float = 0.0,
            then: list[tuple[float, str]] | None = None) -> None:
        """Fault injection: `after` sandbox seconds from now the job enters `status` (any documented
        `JobItem.Status`), then follows `then` ((seconds after entering, status) steps) or, by default, what DTS
        does next on its own (`lifecycle.continuation`). Transitions planned after that moment are dropped.
        A `resumableErr` follows `then` only within the job's retry window, else it is in `error` when the window
        ends; an error interrupts the export, which restarts from the start when DumperResumeCtrl is no."""
        if status not in lc.JOB_STATUSES:
            raise ValueError(f"{status!r} is not a documented JobItem.Status")
        now = self.clock.now()
        run = job.run
        if status in (lc.RESUMABLE_ERR, lc.ERROR) and run is not None and not job.dumper_resumable:
            run.restart(now + after)
        if then is None:
            left = job.run_left(now + after) if run else lc.RUN_SECONDS
            then = lc.continuation(status, left, run.end if run else lc.READY_COMPLETE)
        if status == lc.RESUMABLE_ERR and job.retry_window is not None:
            then = lc.within_retry_window(then, job.retry_window)
        job.timeline.schedule(now, (after, status), *((after + delay, step) for delay, step in then))

    def isolate(self, job: Job) -> None:
        """IsolateMigrateJob: return a job that is not running; a billed one is isolating, then isolated (and may
        be recovered or destroyed); one that is not billed is destroyed by this call, as documented."""
        now = self.clock.now()
        status = job.status(now)
        if "isolate" not in lc.allowed_actions(status) or job.isolated_at is not None or job.billing_change:
            raise _conflict(job, f"{status}/{job.trade_status(now)}", "IsolateMigrateJob")
        if job.billing_type == "notBilling":
            self._remove(job)
            return
        job.isolated_at = now

    def recover(self, job: Job) -> None:
        """RecoverMigrateJob: only a job isolated by its owner (IsolateMigrateJob), once isolated; billed again."""
        now = self.clock.now()
        if job.trade_status(now) != "isolated":
            raise _conflict(job, f"{job.status(now)}/{job.trade_status(now)}", "RecoverMigrateJob")
        job.isolated_at = None

    def destroy(self, job: Job) -> None:
        """DestroyMigrateJob: only an isolated job (TradeStatus isolated) goes offline and disappears."""
        now = self.clock.now()
        if job.trade_status(now) != "isolated":
            raise _conflict(job, f"{job.status(now)}/{job.trade_status(now)}", "DestroyMigrateJob (isolate it first)")
        self._remove(job)

    def _remove(self, job: Job) -> None:
        self._unindex_tags(job)
        del self._by_owner[job.owner_uin][job.job_id]
        del self.jobs[job.job_id]

    # -- internals -----------------------------------------------------------------------------------
    def _new_job_id(self) -> str:
        while True:
            job_id = "dts-" + "".join(self._rng.choices(JOB_ID_ALPHABET, k=8))
            if job_id not in self.jobs:
                return job_id

    def _unindex_tags(self, job: Job) -> None:
        for key, value in job.tags.items():
            self._by_tag.get((job.owner_uin, key, value), {}).pop(job.job_id, None)
            self._by_tag_key.get((job.owner_uin, key), {}).pop(job.job_id, None)

    def _candidates(self, owner_uin: str, q: JobQuery) -> list[Job]:
        if q.job_id is not None:
            job = self.jobs.get(q.job_id)
            return [job] if job is not None and job.owner_uin == owner_uin else []
        sets = []
        for key, values in q.tag_filters:
            if values:
                ids: dict[str, None] = {}
                for value in values:
                    ids.update(self._by_tag.get((owner_uin, key, value), {}))
            else:
                ids = self._by_tag_key.get((owner_uin, key), {})
            sets.append(ids)
        if not sets:
            return [self.jobs[job_id] for job_id in self._by_owner.get(owner_uin, {})]
        sets.sort(key=len)
        return [self.jobs[job_id] for job_id in sets[0] if all(job_id in other for other in sets[1:])]

    @staticmethod
    def _matches(job: Job, q: JobQuery, now: float) -> bool:
        src = job.config.src if job.config else None
        dst = job.config.dst if job.config else None
        checks = [
            q.job_name is None or job.name == q.job_name,
            not q.statuses or job.status(now) in q.statuses,
            q.src_region is None or job.src_region == q.src_region,
            q.dst_region is None or job.dst_region == q.dst_region,
            not q.src_database_types or job.src_database_type in q.src_database_types,
            not q.dst_database_types or job.dst_database_type in q.dst_database_types,
            q.src_instance_id is None or (src is not None and src.instance_id == q.src_instance_id),
            q.dst_instance_id is None or (dst is not None and dst.instance_id == q.dst_instance_id),
            not q.src_access_types or (src is not None and src.access_type in q.src_access_types),
            not q.dst_access_types or (dst is not None and dst.access_type in q.dst_access_types),
            q.run_mode is None or (job.config is not None and job.config.run_mode == q.run_mode),
        ]
        return all(checks)


def dts_backend(world: Any) -> DtsBackend:
    """The world's DTS backend (`world.services["dts"]`), created on first use with the world's clock."""
    backend = world.services.get("dts")
    if backend is None:
        backend = world.services["dts"] = DtsBackend(world.clock)
    return backend
