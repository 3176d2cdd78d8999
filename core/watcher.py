"""Batch watching of DTS tasks: one DescribeMigrationJobs call per 100 watched tasks and (account, region).

Requests in verifying, running and completing wait for their DTS task to change status. Instead of each
request's step reading its own task every poll (one DescribeMigrationDetail per task), the watcher lists the
tasks by the bot's tag and makes due only the requests whose task status differs from the last one seen
(`facts["watched_status"]`; `dts_status` belongs to the steps, which compare it to decide
their own notices); their steps then read the details. The filter is `TagKey` = `dtsbot-request` with
`TagValue` = the watched request ids, 100 per call (the API's TagValue is an optional list, so a TagKey-only
filter would work too, but it would also list every finished task the bot ever tagged). Each Describe action
stays at ≤ 2 calls/s per account and region (a tenth of DTS's 20/s; the cloud clients' one rate limiter,
core.cloud.RATE_LIMITS), and a `RequestLimitExceeded` pauses that account and region with doubling backoff
(`PAUSE`).

A cycle over 5,000 tasks in one account and region takes 25 s of listing at 2 calls/s, so each batch of 100 is
acted on as soon as it is listed (its changed requests made due, `on_change` called) rather than after the
whole listing: a change waits at most one poll period to be seen, not a period plus the listing. The cycle
reads only the few columns it compares (the status recorded in `facts` extracted by the database), and re-reads
a changed request's row just before making it due.

An `observer` (core/alerts.py) sees every listed batch too (rows and JobItems, which carry StepInfo): it adds the
states it watches (`observer.states`, listed but never made due here) and costs no extra call.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Row, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import Api, CloudClients
from core.engine import WATCHED
from core.retry import Backoff
from storage.db import session_scope
from storage.models import MigrationRequest, utcnow

log = logging.getLogger(__name__)

TAG_KEY = "dtsbot-request"
BATCH = 100  # DescribeMigrationJobs' Limit maximum; also the TagValue ids sent per call
ABSENT = "absent"  # the status recorded for a task the listing no longer shows
_WATCHED_STATES = sorted(s.value for s in WATCHED)
PAUSE = Backoff(base=1.0, cap=60.0)
"""How long an account and region is left alone after its n-th rate-limited cycle in a row: 1, 2, 4 … 60 s."""


class Observer(Protocol):
    """Sees each listed batch: the requests' rows (id, job_id, target account and region, watched status, state,
    migrate_type) and the listed JobItems by job id."""

    states: frozenset[str]

    def observe(self, rows: Sequence[Row[Any]], items: Mapping[str, Mapping[str, Any]]) -> None: ...


@dataclass
class CycleReport:
    """What one watch cycle did: API calls by action, requests made due, groups paused by rate limits."""

    calls: Counter[str] = field(default_factory=Counter)
    watched: int = 0
    changed: list[str] = field(default_factory=list)
    throttled: list[tuple[str, str]] = field(default_factory=list)


class StatusWatcher:
    """Lists watched DTS tasks in batches and makes due the requests whose task status changed."""

    def __init__(self, db_engine: Engine, clients: CloudClients, *, on_change: Callable[[], None] | None = None,
                 pause: Backoff = PAUSE, clock: Callable[[], float] = time.monotonic,
                 observer: Observer | None = None) -> None:
        """`clock` (monotonic seconds) times the rate-limit pauses; a test moves it instead of sleeping.
        The calls' own rate is the cloud clients' (`CloudClients(rates=...)`)."""
        self.db, self.clients, self.on_change, self.observer = db_engine, clients, on_change, observer
        self._listed = sorted(set(_WATCHED_STATES) | (observer.states if observer else set()))
        self.pause, self.clock = pause, clock
        self._paused: dict[tuple[str, str], tuple[float, int]] = {}  # group -> (until, pauses in a row)

    def cycle(self) -> CycleReport:
        """One pass over every watched request; calls `on_change` after each batch that made some due."""
        report = CycleReport()
        groups: dict[tuple[str, str], list[Row[Any]]] = defaultdict(list)
        for row in self._watched():
            groups[(row.target_account, row.target_region)].append(row)
            report.watched += 1
        for group, rows in groups.items():
            if self._paused.get(group, (0.0, 0))[0] > self.clock():
                report.throttled.append(group)
                continue
            self._watch_group(group, rows, report)
        return report

    def _watched(self) -> Sequence[Row[Any]]:
        """(id, job_id, target account and region, recorded status) of each watched request, by id."""
        recorded = col(MigrationRequest.facts)["watched_status"].as_string().label("watched_status")
        with session_scope(self.db) as session:
            return session.execute(
                select(col(MigrationRequest.id), col(MigrationRequest.job_id), col(MigrationRequest.target_account),
                       col(MigrationRequest.target_region), recorded, col(MigrationRequest.state),
                       col(MigrationRequest.migrate_type))
                .where(col(MigrationRequest.state).in_(self._listed), col(MigrationRequest.job_id).is_not(None))
                .order_by(col(MigrationRequest.id))
            ).all()

    def _watch_group(self, group: tuple[str, str], rows: list[Row[Any]], report: CycleReport) -> None:
        """List the group's tasks 100 at a time; make each batch's changed requests due as soon as it is listed."""
        account, region = group
        api = self.clients.dts(account, region)
        try:
            for start in range(0, len(rows), BATCH):
                batch = rows[start:start + BATCH]
                items = self._list(api, [row.id for row in batch], report)
                statuses = {job_id: str(item["Status"]) for job_id, item in items.items()}
                changed = self._mark_changed([row for row in batch if row.state in _WATCHED_STATES], statuses)
                if self.observer is not None:
                    self._observe(batch, items)
                if changed:
                    report.changed += changed
                    if self.on_change is not None:
                        self.on_change()
        except TencentCloudSDKException as error:
            if not str(error.get_code()).startswith("RequestLimitExceeded"):
                log.warning("watching DTS tasks of %s/%s failed: %s", account, region, error.get_code())
                return
            self._pause(group)
            report.throttled.append(group)
            return
        self._paused.pop(group, None)

    def _observe(self, batch: list[Row[Any]], items: dict[str, dict[str, Any]]) -> None:
        assert self.observer is not None
        try:
            self.observer.observe(batch, items)
        except Exception:  # the observer's trouble must not stop the watch
            log.exception("the watcher's observer failed on a batch")

    def _list(self, api: Api, request_ids: list[str], report: CycleReport) -> dict[str, dict[str, Any]]:
        """Job id -> JobItem of the tasks tagged with these (at most 100) request ids, every page of them."""
        statuses: dict[str, dict[str, Any]] = {}
        offset, total = 0, None
        while total is None or offset < total:
            report.calls["DescribeMigrationJobs"] += 1
            body = api.call("DescribeMigrationJobs", {
                "TagFilters": [{"TagKey": TAG_KEY, "TagValue": request_ids}], "Offset": offset, "Limit": BATCH})
            items = body.get("JobList") or []
            statuses.update({item["JobId"]: item for item in items})
            total, offset = int(body.get("TotalCount") or 0), offset + BATCH
            if not items:
                break
        return statuses

    def _pause(self, group: tuple[str, str]) -> None:
        times = self._paused.get(group, (0.0, 0))[1] + 1
        delay = self.pause.delay(times)
        self._paused[group] = (self.clock() + delay, times)
        log.warning("DTS rate limit for %s/%s: pausing the watch for %.1f s", *group, delay)

    def _mark_changed(self, rows: list[Row[Any]], statuses: dict[str, str]) -> list[str]:
        """Record the new status and make due now each request whose task changed (skip leased ones).

        The row is read again first: a step may have run, or another replica's watcher recorded the same
        change, since the cycle began. The write is conditional on that read's version and on no live lease.
        """
        suspects = [row.id for row in rows if statuses.get(row.job_id, ABSENT) != row.watched_status]
        if not suspects:
            return []
        now, done = utcnow(), []
        with session_scope(self.db) as session:
            fresh = session.execute(
                select(col(MigrationRequest.id), col(MigrationRequest.job_id), col(MigrationRequest.version),
                       col(MigrationRequest.facts))
                .where(col(MigrationRequest.id).in_(suspects), col(MigrationRequest.state).in_(_WATCHED_STATES))
            ).all()
            for row in fresh:
                status = statuses.get(row.job_id or "", ABSENT)
                if row.facts.watched_status == status:
                    continue
                written = cast("CursorResult[Any]", session.execute(
                    update(MigrationRequest)
                    .where(col(MigrationRequest.id) == row.id, col(MigrationRequest.version) == row.version,
                           or_(col(MigrationRequest.lease_until).is_(None), col(MigrationRequest.lease_until) <= now))
                    .values(facts=row.facts.merged({"watched_status": status}), next_run_at=now, updated_at=now,
                            version=MigrationRequest.version + 1)
                ))
                if written.rowcount == 1:  # else its step runs right now; the next cycle sees the change again
                    done.append(row.id)
        return sorted(done)
