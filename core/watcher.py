"""Batch watching of DTS tasks: one DescribeMigrationJobs call per 100 watched tasks and (account, region).

Requests in verifying, running and completing wait for their DTS task to change status. Instead of each
request's step reading its own task every poll (one DescribeMigrationDetail per task), the watcher lists the
tasks by the bot's tag and makes due only the requests whose task status differs from the last one seen
(`facts["watched_status"]`; `dts_status` belongs to the steps, which compare it to decide
their own notices); their steps then read the details. The filter is `TagKey` = `dtsbot-request` with
`TagValue` = the watched request ids, 100 per call (the API's TagValue is an optional list, so a TagKey-only
filter would work too, but it would also list every finished task the bot ever tagged). Each Describe action
stays at ≤ 2 calls/s per account and region (a tenth of DTS's 20/s), and a `RequestLimitExceeded` pauses that
account and region with doubling backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.engine import WATCHED
from core.ratelimit import TokenBucket
from core.workflow import ConcurrentUpdate
from storage import repository
from storage.db import session_scope
from storage.models import MigrationRequest, utcnow

log = logging.getLogger(__name__)

TAG_KEY = "dtsbot-request"
BATCH = 100  # DescribeMigrationJobs' Limit maximum; also the TagValue ids sent per call
DESCRIBE_RATE = 2.0  # calls per second per Describe action, account and region
ABSENT = "absent"  # the status recorded for a task the listing no longer shows


@dataclass
class CycleReport:
    """What one watch cycle did: API calls by action, requests made due, groups paused by rate limits."""

    calls: Counter[str] = field(default_factory=Counter)
    watched: int = 0
    changed: list[str] = field(default_factory=list)
    throttled: list[tuple[str, str]] = field(default_factory=list)


class StatusWatcher:
    """Lists watched DTS tasks in batches and makes due the requests whose task status changed."""

    def __init__(self, db_engine: Engine, clients: Any, *, rate: float = DESCRIBE_RATE,
                 on_change: Callable[[], None] | None = None, backoff_cap: float = 60.0) -> None:
        self.db, self.clients, self.rate, self.on_change = db_engine, clients, rate, on_change
        self.backoff_cap = backoff_cap
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._paused: dict[tuple[str, str], tuple[float, float]] = {}  # group -> (until, last delay)
        self._lock = threading.Lock()

    def cycle(self) -> CycleReport:
        """One pass over every watched request; calls `on_change` when some became due."""
        report = CycleReport()
        groups: dict[tuple[str, str], list[MigrationRequest]] = defaultdict(list)
        with session_scope(self.db) as session:
            rows = session.exec(select(MigrationRequest).where(
                col(MigrationRequest.state).in_([s.value for s in WATCHED]),
                col(MigrationRequest.job_id).is_not(None),
            )).all()
        for request in rows:
            groups[(request.target_account, request.target_region)].append(request)
        report.watched = len(rows)
        for group, requests in groups.items():
            if self._paused.get(group, (0.0, 0.0))[0] > time.monotonic():
                report.throttled.append(group)
                continue
            statuses = self._statuses(group, requests, report)
            if statuses is not None:
                report.changed += self._mark_changed(requests, statuses)
        if report.changed and self.on_change is not None:
            self.on_change()
        return report

    def _statuses(self, group: tuple[str, str], requests: list[MigrationRequest],
                  report: CycleReport) -> dict[str, str] | None:
        """Job id -> Status for the group's watched tasks; None if the group must wait (rate limited)."""
        account, region = group
        api = self.clients.dts(account, region)
        statuses: dict[str, str] = {}
        ids = sorted({request.id for request in requests})
        try:
            for start in range(0, len(ids), BATCH):
                chunk, offset, total = ids[start:start + BATCH], 0, None
                while total is None or offset < total:
                    self._bucket(account, region, "DescribeMigrationJobs").acquire()
                    report.calls["DescribeMigrationJobs"] += 1
                    body = api.call("DescribeMigrationJobs", {
                        "TagFilters": [{"TagKey": TAG_KEY, "TagValue": chunk}], "Offset": offset, "Limit": BATCH})
                    items = body.get("JobList") or []
                    statuses.update({item["JobId"]: item["Status"] for item in items})
                    total, offset = int(body.get("TotalCount") or 0), offset + BATCH
                    if not items:
                        break
        except TencentCloudSDKException as error:
            if not str(error.get_code()).startswith("RequestLimitExceeded"):
                log.warning("watching DTS tasks of %s/%s failed: %s", account, region, error.get_code())
                return None
            self._pause(group)
            report.throttled.append(group)
            return None
        self._paused.pop(group, None)
        return statuses

    def _pause(self, group: tuple[str, str]) -> None:
        last = self._paused.get(group, (0.0, 0.5))[1]
        delay = min(self.backoff_cap, last * 2)
        self._paused[group] = (time.monotonic() + delay, delay)
        log.warning("DTS rate limit for %s/%s: pausing the watch for %.1f s", *group, delay)

    def _mark_changed(self, requests: list[MigrationRequest], statuses: dict[str, str]) -> list[str]:
        """Record the new status and make due now each request whose task changed (skip leased ones)."""
        now = utcnow()
        changed = [r for r in requests if statuses.get(r.job_id or "", ABSENT) != r.facts.get("watched_status")]
        done: list[str] = []
        with session_scope(self.db) as session:
            for request in changed:
                current = session.get(MigrationRequest, request.id)
                if current is None or current.version != request.version:
                    continue  # claimed or changed meanwhile; looked at again next cycle
                if current.lease_until is not None and current.lease_until > now:
                    continue  # its step is running right now; the next cycle sees the change again if needed
                facts = {**current.facts, "watched_status": statuses.get(current.job_id or "", ABSENT)}
                try:
                    repository.update_request(session, current, facts=facts, next_run_at=now)
                except ConcurrentUpdate:
                    continue
                done.append(current.id)
        return done

    def _bucket(self, account: str, region: str, action: str) -> TokenBucket:
        key = (account, region, action)
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(self.rate, burst=1.0)
            return self._buckets[key]
