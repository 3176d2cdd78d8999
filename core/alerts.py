"""Alerts that reach a person while a migration runs: a lag above `alerts.lag_seconds` for `alerts.lag_minutes`, a
full load whose progress has not moved for `alerts.stall_minutes`, a DTS error state.

Each goes to the request's thread (an error state: the workflow's failure notice says it there) and by DM to the
target approvers (the source approvers too when the task runs
throttled: a lag or a stall may then be the rate limits'), once per episode, and a "back to normal" notice follows
when it clears. The figures come from the watcher's batch listing (core/watcher.py: DescribeMigrationJobs'
JobItem carries Status and StepInfo), so alerts cost no extra cloud call; `AlertMonitor.observe` is its observer.

Exactly once across restarts and replicas: an episode is a row of `alert_episode` whose `open_key` is unique while
it is open; the replica whose insert (or conditional close) wins queues the notices in the same transaction, with
keys named after the episode (storage.outbox). How long a condition has held is kept in memory: after a restart
the clock of a condition not yet alerted starts again (an alert may come that much later, never twice); an
episode another replica closed restarts it too (each batch reads the last `closed_at`), so a lag that flaps
between two replicas' listings is not alerted again before it held `lag_minutes` anew.
A person's *Snooze* (the DM's button, `alerts.snooze_hours`) silences the request's DMs; the thread still hears.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.approvals import MembersOf
from core.config import Settings
from core.control import configured_limits
from core.i18n import N_, _, for_channel
from core.lag import figures
from core.permissions import Action, refusal
from core.requests import Decision
from core.workflow import State
from storage import outbox, repository
from storage.db import session_scope
from storage.models import AlertEpisode, AlertSnooze, AuditEntry, MigrationRequest

log = logging.getLogger(__name__)

LAG, STALL, ERROR = "lag", "stall", "error"
OBSERVED = frozenset(s.value for s in (State.RUNNING, State.READY_TO_COMPLETE, State.PAUSING, State.PAUSED,
                                       State.CONTINUING, State.THROTTLING, State.FAILED))
"""States whose task the alerts look at (a failed request's task, to see it recover after *Retry task*)."""
ERROR_STATUSES = frozenset({"error", "failed"})
"""`JobItem.Status` values that are an error state: DTS stopped migrating."""
HEALTHY_STATUSES = frozenset({"readyRun", "running", "readyComplete", "completing", "success", "pausing",
                              "manualPaused", "resuming"})
"""Statuses that end an error episode (a task stopped or in doubt, `canceled` or `unknown`, does not)."""
PAUSED_STATUSES = frozenset({"pausing", "manualPaused"})
"""A person paused the task: its lag grows as meant, so no lag alert is timed or cleared then."""
AUDIT_STEP = "alert"


def lag_seconds(step_info: Mapping[str, Any] | None) -> int | None:
    """Seconds the incremental sync is behind, from StepInfo's SecondsBehindMaster; absent or negative (DTS's -1:
    no valid figure) is unknown (None), never 0, read as the cutover gate reads it (core.lag.figures)."""
    return figures({"StepInfo": step_info or {}})[0]


def full_load_percent(step_info: Mapping[str, Any] | None, migrate_type: str) -> int | None:
    """The full load's progress (the sum of its steps' percents), or None when it is over or not reported: every
    step but a full + incremental task's last (the incremental sync)."""
    steps = list((step_info or {}).get("StepInfo") or [])
    if migrate_type == "fullAndIncrement":
        steps = steps[:-1]
    percents = [int(step.get("Percent") or 0) for step in steps]
    if not percents or all(p >= 100 for p in percents):
        return None
    return sum(percents)


class AlertMonitor:
    """Decides alert episodes from the watcher's listing (`observe`); `states` tells the watcher what to list."""

    states = OBSERVED

    def __init__(self, db: Engine, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        """`clock`: epoch seconds now (a test moves it instead of waiting)."""
        self.db, self.settings, self.clock = db, settings, clock
        self._since: dict[tuple[str, str], tuple[float, object]] = {}  # condition -> (since, figure)

    # -- observing -------------------------------------------------------------------------------------
    def observe(self, rows: Sequence[Row[Any]], items: Mapping[str, Mapping[str, Any]]) -> None:
        """One listed batch: (id, job_id, migrate_type, …) rows and the JobItems by job id."""
        keys = [f"{row.id}:{kind}" for row in rows for kind in (LAG, STALL, ERROR)]
        self._end_with_requests()
        with session_scope(self.db) as session:
            open_now = set(session.exec(select(AlertEpisode.open_key)
                                        .where(col(AlertEpisode.open_key).in_(keys))).all())
            closed = session.exec(select(AlertEpisode.request_id, AlertEpisode.kind, func.max(AlertEpisode.closed_at))
                                  .where(col(AlertEpisode.request_id).in_([row.id for row in rows]),
                                         col(AlertEpisode.closed_at).is_not(None))
                                  .group_by(col(AlertEpisode.request_id), col(AlertEpisode.kind))).all()
        for request_id, kind, at in closed:  # another replica saw it clear: the condition holds anew since then
            held = self._since.get((request_id, kind))
            if held is None or at is None:
                continue
            ended = at.replace(tzinfo=UTC).timestamp()
            if held[0] < ended:
                self._since[(request_id, kind)] = (ended, held[1])
        for row in rows:
            item = items.get(row.job_id or "")
            if item is not None:
                for kind, verdict in self._verdicts(row, item).items():
                    self._act(row.id, kind, verdict, f"{row.id}:{kind}" in open_now)

    def _verdicts(self, row: Row[Any], item: Mapping[str, Any]) -> dict[str, tuple[bool, str] | None]:
        """Per kind: (alert, what was seen) once the condition held long enough (True) or does not hold (False);
        None while it holds but not for long enough yet, or cannot be told (nothing opens or clears then)."""
        alerts = self.settings.alerts
        now, status = self.clock(), str(item.get("Status"))
        info = item.get("StepInfo") or {}
        error = (True, status) if status in ERROR_STATUSES else (False, status) if status in HEALTHY_STATUSES else None
        verdicts: dict[str, tuple[bool, str] | None] = {ERROR: error}
        lag = lag_seconds(info)
        if status in PAUSED_STATUSES:
            self._since.pop((row.id, LAG), None)
            verdicts[LAG] = None
        elif lag is None:
            verdicts[LAG] = None  # unknown is not 0: nothing opens or clears on it
        elif lag > alerts.lag_seconds:
            since = self._held(row.id, LAG, now, None)
            verdicts[LAG] = (True, str(lag)) if now - since >= 60 * alerts.lag_minutes else None
        else:
            self._since.pop((row.id, LAG), None)
            verdicts[LAG] = (False, str(lag))
        load = full_load_percent(info, str(row.migrate_type))
        if status != "running" or load is None:
            self._since.pop((row.id, STALL), None)
            verdicts[STALL] = (False, status) if load is None else None  # paused: not a stall, nor a recovery
        else:
            before = self._since.get((row.id, STALL))
            since = self._held(row.id, STALL, now, load)
            if before is not None and before[1] != load:
                verdicts[STALL] = (False, f"{load}%")  # it moves
            else:
                verdicts[STALL] = (True, f"{load}%") if now - since >= 60 * alerts.stall_minutes else None
        return verdicts

    def _held(self, request_id: str, kind: str, now: float, figure: object) -> float:
        """Since when the condition has held with this figure (a new figure starts it again)."""
        since, seen = self._since.get((request_id, kind), (now, figure))
        if seen != figure:
            since = now
        self._since[(request_id, kind)] = (since, figure)
        return since

    def _act(self, request_id: str, kind: str, verdict: tuple[bool, str] | None, is_open: bool) -> None:
        if verdict is None:
            return
        alert, seen = verdict
        try:
            if alert and not is_open:
                self._open(request_id, kind, seen)
            elif not alert and is_open:
                self._close(request_id, kind, seen)
        except Exception:  # one request's alert must not stop the others' (nor the watcher)
            log.exception("alert %s of request %s not recorded", kind, request_id)

    # -- episodes --------------------------------------------------------------------------------------
    def _open(self, request_id: str, kind: str, seen: str) -> None:
        """Open the episode unless another replica did; queue the thread notice and the DMs with it."""
        with session_scope(self.db) as session:
            request = session.get(MigrationRequest, request_id)
            if request is None:
                return
            episode = AlertEpisode(request_id=request_id, kind=kind, open_key=f"{request_id}:{kind}",
                                   detail=seen[:500])
            try:
                with session.begin_nested():
                    session.add(episode)
            except IntegrityError:
                return  # open already (another replica): its notices are queued
            sides = self._sides(session, request, kind)
            text = for_channel(_ALERT_TEXT[kind], job=request.job_id or "-", seen=seen,
                               seconds=self.settings.alerts.lag_seconds, minutes=f"{self._minutes(kind):g}")
            self._queue(session, request, f"alert:{episode.id}", "alert", kind, text, sides, seen)
            session.add(AuditEntry(step=AUDIT_STEP, action=kind, outcome="opened", request_id=request_id,
                                   detail=f"{text} (to {', '.join(sides)} approvers)"[:2000]))

    def _end_with_requests(self) -> None:
        """Close, without a notice, the open episodes of requests no longer watched (cancelled or completed while
        DTS was in error, say): nobody would ever see them clear, and the request's own end says what happened."""
        with session_scope(self.db) as session:
            watched = select(MigrationRequest.id).where(col(MigrationRequest.state).in_(sorted(OBSERVED)))
            session.execute(update(AlertEpisode).where(
                col(AlertEpisode.open_key).is_not(None), col(AlertEpisode.request_id).not_in(watched)).values(
                closed_at=datetime.fromtimestamp(self.clock(), UTC), open_key=None))

    def _close(self, request_id: str, kind: str, seen: str) -> None:
        """Close the open episode (once, whichever replica sees it first) and say it is back to normal."""
        with session_scope(self.db) as session:
            episode = session.exec(select(AlertEpisode).where(AlertEpisode.open_key == f"{request_id}:{kind}")).first()
            request = session.get(MigrationRequest, request_id)
            if episode is None or request is None:
                return
            closed = session.execute(update(AlertEpisode).where(
                col(AlertEpisode.id) == episode.id, col(AlertEpisode.closed_at).is_(None)).values(
                closed_at=datetime.fromtimestamp(self.clock(), UTC), open_key=None))
            if getattr(closed, "rowcount", 0) != 1:
                return
            sides = self._sides(session, request, kind)
            text = for_channel(_CLEARED_TEXT[kind], job=request.job_id or "-", seen=seen)
            self._queue(session, request, f"alert:{episode.id}:cleared", "alert_cleared", kind, text, sides, seen)
            session.add(AuditEntry(step=AUDIT_STEP, action=kind, outcome="cleared", request_id=request_id,
                                   detail=text[:2000]))

    def _queue(self, session: Session, request: MigrationRequest, key: str, event: str, kind: str, text: str,
               sides: list[str], seen: str) -> None:
        if kind != ERROR:  # the workflow's own failure notice (and its retry's) already says it in the thread
            outbox.enqueue(session, request.id, f"{request.id}:{key}", "thread", {"event": event, "text": text})
        if not snoozed(session, request.id, self.clock()):
            outbox.enqueue(session, request.id, f"{request.id}:{key}:dm", "direct", {
                "event": event, "kind": kind, "seen": seen, "sides": sides})

    def _sides(self, session: Session, request: MigrationRequest, kind: str) -> list[str]:
        """Whose approvers hear it: the target's; the source's too for a lag or stall of a throttled task."""
        if kind == ERROR:
            return ["target"]
        throttled = bool(configured_limits(self.settings, request.source_account, request.target_account)) or \
            session.exec(select(AuditEntry.id).where(AuditEntry.request_id == request.id, AuditEntry.step == "control",
                                                     AuditEntry.action == "throttle")).first() is not None
        return ["target", "source"] if throttled else ["target"]

    def _minutes(self, kind: str) -> float:
        return self.settings.alerts.lag_minutes if kind == LAG else self.settings.alerts.stall_minutes


_ALERT_TEXT = {
    LAG: N_(":warning: *Lag alert*: DTS task `{job}` has been more than {seconds} s behind the source for "
            "{minutes} min (now {seen} s)."),
    STALL: N_(":warning: *Stalled*: the full load of DTS task `{job}` has not moved for {minutes} min."),
    ERROR: N_(":rotating_light: *Error*: DTS task `{job}` is `{seen}`: DTS stopped migrating."),
}
_CLEARED_TEXT = {
    LAG: N_(":white_check_mark: *Back to normal*: DTS task `{job}` is {seen} s behind the source."),
    STALL: N_(":white_check_mark: *Back to normal*: the full load of DTS task `{job}` moves again ({seen})."),
    ERROR: N_(":white_check_mark: *Back to normal*: DTS task `{job}` is `{seen}` again."),
}


def snoozed(session: Session, request_id: str, now: float) -> bool:
    """Whether a person snoozed the request's alerts until after `now`."""
    snooze = session.get(AlertSnooze, request_id)
    return snooze is not None and snooze.until.replace(tzinfo=UTC).timestamp() > now


def snooze(db: Engine, settings: Settings, request_id: str, user: str, members_of: MembersOf,
           now: float | None = None) -> Decision:
    """*Snooze* from an alert's DM: no DMs about the request for `alerts.snooze_hours` (permissions.SNOOZE);
    audited (step "alert") and said in the thread."""
    hours = settings.alerts.snooze_hours
    with session_scope(db) as session:
        request = session.get(MigrationRequest, request_id.strip().lower())
        if request is None:
            return Decision(False, _("No such request."))
        why = refusal(settings, Action.SNOOZE, request, user, members_of)
        if why:
            repository.audit(session, AUDIT_STEP, "refused", request.id, actor=user, action="snooze", detail=why)
            return Decision(False, why, request)
        until = datetime.fromtimestamp(now if now is not None else time.time(), UTC) + timedelta(hours=hours)
        existing = session.get(AlertSnooze, request.id)
        if existing is None:
            session.add(AlertSnooze(request_id=request.id, until=until, by_user=user))
        else:
            existing.until, existing.by_user = until, user
        repository.audit(session, AUDIT_STEP, "ok", request.id, actor=user, action="snooze",
                         detail=f"until {until:%Y-%m-%d %H:%M} UTC")
        outbox.enqueue(session, request.id, f"{request.id}:snooze:{until.timestamp():.0f}", "thread", {
            "event": "snooze", "user": user,
            "text": for_channel(":zzz: Alerts by DM snoozed for {hours} h (until {until} UTC).", hours=f"{hours:g}",
                                until=f"{until:%Y-%m-%d %H:%M}")})
    return Decision(True, _("Alerts of {id} snoozed for {hours} h: no DMs until {until} UTC; the thread still "
                            "hears them.", id=request.id, hours=f"{hours:g}", until=f"{until:%Y-%m-%d %H:%M}"),
                    request, changed=True)
