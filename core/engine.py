"""The workflow engine: claims due requests, runs the step of each one's state, records the outcome atomically.

A tick leases due requests in the database (`repository.claim_due`), runs their steps on a small thread pool
outside any transaction, then decides what each outcome changes (a `repository.RequestChange`: the transition
or the next run time, the step's facts, the audit entries of the step and of every cloud call it made, the
channel notice and a refresh of the request message, the ownership records, the lease's release) and writes it
with ONE `repository.apply` under the version read at claim time. A crash anywhere before that commit leaves
the request leased until the lease expires; then this or another replica runs the (idempotent) step again and
queues the notice once. `core` never imports `handlers` or `bot`: the steps, the cloud clients and the wakeup
are handed in when the app is wired.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import closeout
from core.cloud import CloudCall, CloudClients
from core.config import Settings
from core.diagnosis import diagnose, is_transient
from core.i18n import _
from core.notices import error_text, transition_notice, wait_notice
from core.retry import Backoff
from core.role_sharing import REVOKING, RoleSharing, grant_to_release
from core.steps import Diagnosis, Outcome, Step, StepResult
from core.workflow import ACTIVE, State, check_transition, next_after, retry_target
from storage import repository
from storage.db import session_scope
from storage.models import AuditEntry, MigrationRequest, utcnow
from storage.outbox import Notice
from storage.repository import ConcurrentUpdate, RequestChange

log = logging.getLogger(__name__)
S = State

WATCHED = frozenset({S.VERIFYING, S.RUNNING, S.COMPLETING, S.PAUSED})
"""States whose DTS task the watcher (core/watcher.py) polls in batches; their steps run when it changes (paused:
a task continued outside Slack)."""

_COLUMNS = ("job_id", "progress")  # facts that have their own column; the rest go into `facts`

_step_calls: ContextVar[list[CloudCall] | None] = ContextVar("dtsbot_step_calls", default=None)


def record_cloud_call(call: CloudCall) -> None:
    """`CloudClients(on_call=...)`: keep the call for the audit entries of the step running in this context."""
    calls = _step_calls.get()
    if calls is not None:
        calls.append(call)


@contextmanager
def recording_calls() -> Iterator[list[CloudCall]]:
    """The cloud calls made in this context (through `record_cloud_call`), for the audit entries of a step."""
    calls: list[CloudCall] = []
    token = _step_calls.set(calls)
    try:
        yield calls
    finally:
        _step_calls.reset(token)


def next_state(request: MigrationRequest, result: StepResult) -> State:
    """Where a DONE step leads: the step's override, else the workflow's table."""
    if result.next_state:
        return State(result.next_state)
    return next_after(request.state, request.executor)


STEP_RETRY = Backoff(base=2.0, cap=300.0, max_attempts=8, jitter=0.5)
"""A step that hit a transient cloud error runs again after 1-2 s, 2-4 s, … at most 5 min; FAILED after 8."""


class WorkflowEngine:
    """Moves requests through the cloud steps; one replica per request at a time (the lease)."""

    def __init__(self, db_engine: Engine, settings: Settings, steps: Mapping[State, Step], clients: CloudClients,
                 owner: str, *, workers: int = 4, retry: Backoff = STEP_RETRY,
                 watched_fallback: float | None = None, wakeup: Callable[[], None] | None = None,
                 max_step_seconds: float | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        """`watched_fallback`: when a watcher runs, a waiting watched step runs again only after this many
        seconds unless the watcher sees its task change; None: every `retry_after` / `poll_seconds`.
        `clock` is the time leases and due times are read against (a test moves it instead of sleeping)."""
        self.db, self.settings, self.steps, self.clients, self.owner = db_engine, settings, steps, clients, owner
        self.sharing = RoleSharing(db_engine, settings, owner)
        self.retry = retry
        self.watched_fallback = watched_fallback
        self.wakeup = wakeup
        self.clock = clock
        self.workers = workers
        self.max_step_seconds = max_step_seconds or 5 * settings.scheduler.lease_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dtsbot-{owner}")
        self._tick_lock = threading.Lock()

    # -- driving ---------------------------------------------------------------------------------------
    def tick(self, limit: int = 20) -> int:
        """Claim up to `limit` (at most `workers`) due requests, run their steps in parallel, record each.

        Leases of steps still running are renewed every third of `lease_seconds`, for at most
        `max_step_seconds`: a request is taken over by another replica when this one died or its step hangs.
        """
        lease = self.settings.scheduler.lease_seconds
        with self._tick_lock:
            with session_scope(self.db) as session:
                claimed = repository.claim_due(session, self.owner, lease, [s.value for s in ACTIVE],
                                               min(limit, self.workers), self.clock())
            running = {self._pool.submit(self.advance, request): request.id for request in claimed}
            give_up = time.monotonic() + self.max_step_seconds
            while running:
                finished, _ = wait(running, timeout=lease / 3)
                for future in finished:
                    del running[future]
                    future.result()
                if time.monotonic() < give_up:
                    self._renew(list(running.values()), lease)
        return len(claimed)

    def _renew(self, request_ids: list[str], lease: float) -> None:
        """Extend the leases of steps still running, so a slow step is not taken over while it runs."""
        if not request_ids:
            return
        with session_scope(self.db) as session:
            session.execute(
                update(MigrationRequest)
                .where(col(MigrationRequest.id).in_(request_ids), col(MigrationRequest.lease_owner) == self.owner)
                .values(lease_until=self.clock() + timedelta(seconds=lease))
            )

    def advance(self, claimed: MigrationRequest) -> None:
        """Run the step of a leased request's state and record its outcome; never raises."""
        state = State(claimed.state)
        calls: list[CloudCall] = []
        error: Exception | None = None
        try:
            result = self._before_step(claimed, state)
        except ConcurrentUpdate:
            log.info("request %s changed before its %s step; leaving it", claimed.id, state)
            self._release(claimed.id, self.clock())
            return
        except Exception:
            log.exception("deciding who uses the role of request %s failed; the lease will expire", claimed.id)
            return
        if result is None:
            token = _step_calls.set(calls)
            try:
                step = self.steps[state]
                result = step(claimed, self.clients)
            except Exception as exc:  # noqa: BLE001 - a step's error is an outcome to record
                error = exc
            finally:
                _step_calls.reset(token)
        try:
            self._record(claimed, state, result, error, calls)
        except ConcurrentUpdate:
            log.info("request %s changed while its %s step ran; dropping this outcome", claimed.id, state)
            self._release(claimed.id, self.clock())
        except Exception:
            log.exception("recording %s of request %s failed; the lease will expire", state, claimed.id)

    def _before_step(self, claimed: MigrationRequest, state: State) -> StepResult | None:
        """The outcome decided without running the step, or None to run it: approved moves on; the authorize step
        waits while another request deletes the role or grant it would use; revoking waits for a sharer's first
        authorize step and keeps a role another request still uses (core.role_sharing)."""
        if state is S.APPROVED:
            return StepResult(Outcome.DONE)
        if state is S.AUTHORIZING_SOURCE and (deleting := self.sharing.take_up(claimed)) is not None:
            name, other = deleting
            return StepResult(Outcome.WAIT, retry_after=self.settings.scheduler.poll_seconds, notice=_(
                "`{name}` is being deleted by request {other}, its last user; this request goes on once that is "
                "done.", name=name, other=other))
        if state in REVOKING:
            found = self.sharing.sharers(claimed)
            if found.sharers and len(found.taking_up) == len(found.sharers):  # kept only for one that uses it
                return StepResult(Outcome.WAIT, retry_after=self.settings.scheduler.poll_seconds)
            if found.sharers and not grant_to_release(claimed, found.sharers):
                return StepResult(Outcome.DONE, notice=_("Access kept: request {other} still uses role `{role}`; "
                                                         "it revokes the access when it ends.",
                                                         other=found.sharers[0][0], role=claimed.role_name))
            claimed.facts = claimed.facts.merged({  # only its own grant goes, or all of it
                "keep_role_for": found.sharers[0][0] if found.sharers else None,
                "inherits_from": found.inherited or None})
        return None

    def next_due(self) -> datetime | None:
        """When the earliest waiting active request is due (so a tick can be scheduled for it), or None."""
        with session_scope(self.db) as session:
            return session.exec(
                select(func.min(MigrationRequest.next_run_at))
                .where(col(MigrationRequest.state).in_([s.value for s in ACTIVE]))
            ).one()

    def kick(self, request_id: str) -> None:
        """Run the request now (a person approved, retried, re-verified): make it due and wake the ticker."""
        now = self.clock()
        with session_scope(self.db) as session:
            session.execute(
                update(MigrationRequest)
                .where(col(MigrationRequest.id) == request_id, col(MigrationRequest.next_run_at) > now,
                       or_(col(MigrationRequest.lease_until).is_(None), col(MigrationRequest.lease_until) < now))
                .values(next_run_at=now, version=MigrationRequest.version + 1)
            )
        if self.wakeup is not None:
            self.wakeup()

    def close(self, wait: bool = True) -> None:
        """Stop the step pool (after the running steps finish when `wait`)."""
        self._pool.shutdown(wait=wait)

    # -- people's decisions (Slack buttons) ------------------------------------------------------------
    def request_reverify(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """verify_failed → verifying: verification runs again as a new round; runs after the commit."""
        return self._decided(session, request, S.VERIFYING, user, new_round=True)

    def request_complete(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """ready_to_complete → completing: CompleteMigrateJob runs after the commit."""
        return self._decided(session, request, S.COMPLETING, user, new_round=False)

    def request_retry(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """failed → workflow.retry_target of the failed step, as a new round; runs after the commit."""
        if not request.failed_step:
            raise ValueError(f"request {request.id} has no failed step to retry")
        return self._decided(session, request, retry_target(request.failed_step), user, new_round=True)

    def request_pause(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """running → pausing: PauseMigrateJob runs after the commit, as a new round (its notices are new)."""
        return self._decided(session, request, S.PAUSING, user, new_round=True, facts={"paused_by": user[:32]},
                             control="pause")

    def request_continue(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """paused → continuing: ContinueMigrateJob runs after the commit, as a new round."""
        return self._decided(session, request, S.CONTINUING, user, new_round=True, control="continue")

    def request_owner_verify(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """awaiting_owner → the step after the owner's CAM steps (guided mode), as a new round."""
        goal = State(request.facts.guided_next or S.PREFLIGHT)
        return self._decided(session, request, goal, user, new_round=True)

    def _decided(self, session: Session, request: MigrationRequest, target: State, user: str,
                 new_round: bool, facts: dict[str, Any] | None = None,
                 control: str | None = None) -> MigrationRequest:
        """`control`: a live-control decision (pause, continue), audited as step "control" with that action."""
        source = request.state
        changes = {**(facts or {}), **({"round": request.facts.round + 1} if new_round else {})}
        facts_now = request.facts.merged(changes) if changes else request.facts
        goal = check_transition(source, target)
        repository.apply(session, request, RequestChange(
            columns={"state": goal.value, "facts": facts_now, "attempts": 0, "next_run_at": None,
                     "failed_step": None, "last_error": None},
            audit=[AuditEntry(step="control" if control else goal.value, action=control or "", outcome="requested",
                              request_id=request.id, actor=user[:32], detail=f"{source} → {goal.value}")],
            refresh=True))
        kicked = False

        def kick_after_commit(committed: Session) -> None:
            # SQLAlchemy 2.1 also fires after_commit when a SAVEPOINT (begin_nested) is released: kicking then
            # would open a second SQLite write transaction while this one still holds the lock.
            nonlocal kicked
            if kicked or committed.in_nested_transaction():
                return
            kicked = True
            self.kick(request.id)

        event.listen(session, "after_commit", kick_after_commit)
        return request

    # -- recording -------------------------------------------------------------------------------------
    def _record(self, claimed: MigrationRequest, state: State, result: StepResult | None,
                error: Exception | None, calls: list[CloudCall]) -> None:
        """Decide what the outcome changes, then write it with one repository call in one transaction."""
        now = self.clock()
        with session_scope(self.db) as session:
            request = session.get(MigrationRequest, claimed.id)
            if request is None or request.version != claimed.version or request.lease_owner != self.owner:
                raise ConcurrentUpdate(f"request {claimed.id} is no longer leased by {self.owner} as read")
            change = RequestChange(audit=self._call_entries(request, state, calls), lease_owner=self.owner)
            if error is not None:
                result = self._retry_later(request, state, error, change, now)
            if result is not None and result.outcome is not Outcome.WAIT:
                self.sharing.settle(session, request, state, result)
            if result is not None:
                self._log_outcome(request, state, result)
                change.audit.append(AuditEntry(
                    step=state.value, outcome=result.outcome.value, request_id=request.id,
                    error_code=result.diagnosis.code if result.diagnosis else None,
                    detail=(result.notice or "")[:2000]))
                change.owned, change.released = result.owned, result.released
                if result.outcome is Outcome.WAIT:
                    self._wait(request, state, result, change, now)
                else:
                    self._transition(request, state, result, change)
            repository.apply(session, request, change)

    def _call_entries(self, request: MigrationRequest, state: State, calls: list[CloudCall]) -> list[AuditEntry]:
        """An audit entry (and a log line) for every cloud call the step made."""
        entries = []
        for call in calls:
            entries.append(AuditEntry(step=state.value, outcome=call.outcome, request_id=request.id,
                                      action=call.action, account=call.account, cloud_request_id=call.request_id,
                                      error_code=call.error_code, resource=call.resource,
                                      detail=f"{call.service} {call.duration * 1000:.0f} ms"))
            log.info("cloud call %s.%s %s", call.service, call.action, call.outcome, extra={
                "request_id": request.id, "job_id": request.job_id, "step": state.value, "account": call.account,
                "cloud_request_id": call.request_id, "error_code": call.error_code,
                "duration_ms": round(call.duration * 1000)})
        return entries

    @staticmethod
    def _log_outcome(request: MigrationRequest, state: State, result: StepResult) -> None:
        log.info("step %s %s", state.value, result.outcome.value, extra={
            "request_id": request.id, "job_id": request.job_id, "step": state.value,
            "outcome": result.outcome.value, "error_code": result.diagnosis.code if result.diagnosis else None,
            "cloud_request_id": result.diagnosis.request_id if result.diagnosis else None})

    def _retry_later(self, request: MigrationRequest, state: State, error: Exception, change: RequestChange,
                     now: datetime) -> StepResult | None:
        """Back off a transient error (None: `change` runs the step later); else the FAILED result it amounts to."""
        if isinstance(error, TencentCloudSDKException):
            diagnosis = diagnose(error, state.value, executor=request.executor, sides=request)
            attempts = request.attempts + 1
            if is_transient(error) and not self.retry.gives_up_after(attempts):
                delay = self.retry.delay(attempts)
                change.columns.update(attempts=attempts, last_error=diagnosis.what[:4000],
                                      next_run_at=now + timedelta(seconds=delay))
                change.audit.append(AuditEntry(step=state.value, outcome="retry", request_id=request.id,
                                               error_code=diagnosis.code, cloud_request_id=diagnosis.request_id,
                                               detail=f"attempt {attempts}, next in {delay:.1f} s"))
                return None
            if is_transient(error):
                diagnosis = replace(diagnosis, what=f"{diagnosis.what} (after {attempts} attempts)")
        else:
            log.exception("step %s of request %s raised", state, request.id, exc_info=error)
            diagnosis = Diagnosis("InternalError", f"{state.value}: {type(error).__name__}: {str(error)[:300]}",
                                  "dtsbot hit an unexpected error in this step.",
                                  "Retry; if it fails again, look at the bot's log for this request id.")
        return StepResult(Outcome.FAILED, diagnosis=diagnosis)

    def _wait(self, request: MigrationRequest, state: State, result: StepResult, change: RequestChange,
              now: datetime) -> None:
        """The step waits on the cloud: keep its facts and notice, run it again after a delay."""
        change.columns.update(_fact_changes(request, result.facts), attempts=0)
        if result.notice:
            key, payload = wait_notice(request, state, result.notice, result.actions)
            if result.reach:
                payload["reach"] = result.reach
            change.notices.append(Notice(key, "thread", payload))
        change.refresh = bool(result.notice) or result.refresh or "progress" in change.columns
        delay = result.retry_after or self.settings.scheduler.poll_seconds
        if state in WATCHED and self.watched_fallback is not None:
            delay = max(delay, self.watched_fallback)
        change.columns["next_run_at"] = now + timedelta(seconds=delay)

    def _transition(self, request: MigrationRequest, state: State, result: StepResult,
                    change: RequestChange) -> None:
        """The step is over: the request moves on (the table), to verify_failed or to failed, with its notices."""
        if result.outcome is Outcome.DONE:
            target = next_state(request, result)
        elif result.outcome is Outcome.CHECK_FAILED:
            target = S.VERIFY_FAILED
        else:
            target = S.FAILED
        change.columns.update(_fact_changes(request, result.facts), state=check_transition(state, target).value,
                              attempts=0, next_run_at=None)
        if target is S.FAILED:
            change.columns.update(failed_step=state.value, last_error=error_text(result))
        change.columns.update(closeout.begin(request, target))  # the task's close-out, if it ends
        key, payload = transition_notice(request, state, target, result)
        change.notices.append(Notice(key, "thread", payload))
        diagnosis = result.diagnosis
        if diagnosis is not None and diagnosis.reach:  # a person of that side must act: its approvers get a DM
            change.notices.append(Notice(f"{key}:{diagnosis.reach}", "direct", {
                "event": "needs_side", "side": diagnosis.reach, "code": diagnosis.code, "step": state.value}))
        if result.private:  # what to send is rendered from the request when delivered: no secret in the outbox
            change.notices.append(Notice(f"{key}:private", "private", {"event": result.private}))
        change.refresh = True

    def _release(self, request_id: str, next_run_at: datetime) -> None:
        """Give back a lease whose outcome was dropped, so the request is looked at again."""
        try:
            with session_scope(self.db) as session:
                request = session.get(MigrationRequest, request_id)
                if request is not None:
                    repository.release(session, request, self.owner, next_run_at)
        except Exception:
            log.exception("releasing request %s failed; the lease will expire", request_id)


def _fact_changes(request: MigrationRequest, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Column changes for a step's facts: job_id/progress to their columns, the rest merged into `facts`."""
    changes: dict[str, Any] = {}
    for name in _COLUMNS:
        if name in facts and facts[name] != getattr(request, name):
            changes[name] = facts[name]
    rest = {k: v for k, v in facts.items() if k not in _COLUMNS}
    if any(getattr(request.facts, k, None) != v for k, v in rest.items()):
        changes["facts"] = request.facts.merged(rest)
    return changes
