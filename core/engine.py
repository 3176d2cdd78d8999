"""The workflow engine: claims due requests, runs the step of each one's state, records the outcome atomically.

A tick leases due requests in the database (`repository.claim_due`), runs their steps on a small thread pool
outside any transaction, then writes each outcome in ONE transaction under the version read at claim time:
the transition, the step's facts, the audit entries (the step, and every cloud call it made), the channel
notice (outbox, unique key) and a refresh of the request message, and the lease's release with the next run
time. A crash anywhere before that commit leaves the request leased until the lease expires; then this or
another replica runs the (idempotent) step again and queues the notice once. `core` never imports `handlers`
or `bot`: the steps, the cloud clients and the wakeup are handed in when the app is wired.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import CloudCall
from core.config import Settings
from core.diagnosis import diagnose, is_transient
from core.i18n import _
from core.notices import error_text, transition_notice, wait_notice
from core.steps import Diagnosis, Outcome, StepResult
from core.workflow import ACTIVE, ConcurrentUpdate, State, retry_target
from storage import outbox, ownership, repository
from storage.db import session_scope
from storage.models import MigrationRequest, utcnow

log = logging.getLogger(__name__)
S = State

WATCHED = frozenset({S.VERIFYING, S.RUNNING, S.COMPLETING})
"""States whose DTS task the watcher (core/watcher.py) polls in batches; their steps run when it changes."""

_NEXT: dict[State, State] = {
    S.APPROVED: S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT: S.PREFLIGHT, S.PREFLIGHT: S.CREATING_TASK,
    S.CREATING_TASK: S.CONFIGURING, S.CONFIGURING: S.VERIFYING, S.VERIFYING: S.STARTING, S.STARTING: S.RUNNING,
    S.RUNNING: S.REVOKING_ACCESS, S.COMPLETING: S.REVOKING_ACCESS, S.REVOKING_ACCESS: S.SUCCEEDED,
    S.STOPPING_TASK: S.CANCELLING, S.CANCELLING: S.CANCELLED,
}
REVOKING = frozenset({S.REVOKING_ACCESS, S.CANCELLING})
USES_ROLE = ACTIVE - REVOKING - {S.APPROVED} | {S.VERIFY_FAILED, S.READY_TO_COMPLETE, S.FAILED, S.AWAITING_OWNER}
"""States of an unfinished request: when it has used a role (storage.ownership), that role must stay."""
KEEP_ROLE_FOR = "keep_role_for"
"""Fact the engine hands the revoke step when other requests still use the role: revoke only this request's
sub-account grant, keep the role for them (handlers.revoke_access)."""


def _grant_to_release(request: MigrationRequest, sharers: list[tuple[str, str]]) -> bool:
    """Whether this request's sub-account grant must go although the role stays: no sharer runs as a
    sub-account (the grant policy is per role, so a sharer running as one still needs it)."""
    return request.executor != "root" and all(executor == "root" for _, executor in sharers)


_COLUMNS = ("job_id", "progress")  # facts that have their own column; the rest go into `facts`

Step = Callable[[MigrationRequest, Any], StepResult]
_step_calls: ContextVar[list[CloudCall] | None] = ContextVar("dtsbot_step_calls", default=None)


def record_cloud_call(call: CloudCall) -> None:
    """`CloudClients(on_call=...)`: keep the call for the audit entries of the step running in this context."""
    calls = _step_calls.get()
    if calls is not None:
        calls.append(call)


def next_state(request: MigrationRequest, result: StepResult) -> State:
    """Where a DONE step leads: the step's override, else the table (the grant only for a sub-account)."""
    if result.next_state:
        return State(result.next_state)
    state = State(request.state)
    if state is S.AUTHORIZING_SOURCE:
        return S.PREFLIGHT if request.executor == "root" else S.GRANTING_SUBACCOUNT
    return _NEXT[state]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient cloud errors: exponential with jitter, capped; FAILED after `max_attempts`."""

    base: float = 2.0
    cap: float = 300.0
    max_attempts: int = 8

    def delay(self, attempts: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.cap, self.base * 2 ** max(0, attempts - 1))


class WorkflowEngine:
    """Moves requests through the cloud steps; one replica per request at a time (the lease)."""

    def __init__(self, db_engine: Engine, settings: Settings, steps: Mapping[str, Step], clients: Any,
                 owner: str, *, workers: int = 4, retry: RetryPolicy | None = None,
                 watched_fallback: float | None = None, wakeup: Callable[[], None] | None = None,
                 max_step_seconds: float | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        """`watched_fallback`: when a watcher runs, a waiting watched step runs again only after this many
        seconds unless the watcher sees its task change; None: every `retry_after` / `poll_seconds`.
        `clock` is the time leases and due times are read against (a test moves it instead of sleeping)."""
        self.db, self.settings, self.steps, self.clients, self.owner = db_engine, settings, steps, clients, owner
        self.retry = retry or RetryPolicy()
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
                claimed = repository.claim_due(session, self.owner, lease, min(limit, self.workers), self.clock())
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
        result: StepResult | None = None
        error: Exception | None = None
        if state is S.APPROVED:
            result = StepResult(Outcome.DONE)
        elif state in REVOKING and (sharers := self._role_sharers(claimed)) and not _grant_to_release(
                claimed, sharers):
            result = StepResult(Outcome.DONE, notice=_("Access kept: request {other} still uses role `{role}`; it "
                                                       "revokes the access when it ends.", other=sharers[0][0],
                                                       role=claimed.role_name))
        else:
            if state in REVOKING and sharers:  # the role stays for them; this request's own grant goes
                claimed.facts = {**claimed.facts, KEEP_ROLE_FOR: sharers[0][0]}
            token = _step_calls.set(calls)
            try:
                step = self.steps[state.value]
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

    def _role_sharers(self, request: MigrationRequest) -> list[tuple[str, str]]:
        """(id, executor) of the other unfinished requests that used the same source role: the last to end
        releases it."""
        with session_scope(self.db) as session:
            users = ownership.role_users(session, request.source_uin, request.role_name,
                                         [s.value for s in USES_ROLE], excluding=request.id)
            executors = dict(session.exec(select(MigrationRequest.id, MigrationRequest.executor)
                                          .where(col(MigrationRequest.id).in_(users))).all())
        return [(user, executors.get(user, "root")) for user in users]

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

    def request_owner_verify(self, session: Session, request: MigrationRequest, user: str) -> MigrationRequest:
        """awaiting_owner → the step after the owner's CAM steps (guided mode), as a new round."""
        goal = State(request.facts.get("guided_next") or S.PREFLIGHT)
        return self._decided(session, request, goal, user, new_round=True)

    def _decided(self, session: Session, request: MigrationRequest, target: State, user: str,
                 new_round: bool) -> MigrationRequest:
        source = request.state
        facts = dict(request.facts)
        if new_round:
            facts["round"] = int(facts.get("round", 0) or 0) + 1
        repository.transition(session, request, target, facts=facts, attempts=0, next_run_at=None,
                              failed_step=None, last_error=None)
        repository.audit(session, target.value, "requested", request.id, actor=user[:32],
                         detail=f"{source} → {target.value}")
        outbox.request_refresh(session, request.id)
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
        now = self.clock()
        with session_scope(self.db) as session:
            request = session.get(MigrationRequest, claimed.id)
            if request is None or request.version != claimed.version or request.lease_owner != self.owner:
                raise ConcurrentUpdate(f"request {claimed.id} is no longer leased by {self.owner} as read")
            context = {"request_id": request.id, "job_id": request.job_id, "step": state.value}
            for call in calls:
                repository.audit(session, state.value, call.outcome, request.id, action=call.action,
                                 account=call.account, cloud_request_id=call.request_id,
                                 error_code=call.error_code, detail=f"{call.service} {call.duration * 1000:.0f} ms")
                log.info("cloud call %s.%s %s", call.service, call.action, call.outcome, extra={
                    **context, "account": call.account, "cloud_request_id": call.request_id,
                    "error_code": call.error_code, "duration_ms": round(call.duration * 1000)})
            if error is not None:
                result = self._retry_later(session, request, state, error, now)
                if result is None:
                    return
            assert result is not None
            log.info("step %s %s", state.value, result.outcome.value, extra={
                **context, "outcome": result.outcome.value,
                "error_code": result.diagnosis.code if result.diagnosis else None,
                "cloud_request_id": result.diagnosis.request_id if result.diagnosis else None})
            repository.audit(session, state.value, result.outcome.value, request.id,
                             error_code=result.diagnosis.code if result.diagnosis else None,
                             detail=(result.notice or "")[:2000])
            if result.outcome is Outcome.WAIT:
                self._wait(session, request, state, result, now)
            else:
                self._transition(session, request, state, result)

    def _retry_later(self, session: Session, request: MigrationRequest, state: State, error: Exception,
                     now: datetime) -> StepResult | None:
        """Back off a transient error (None: released for later); else the FAILED result it amounts to."""
        if isinstance(error, TencentCloudSDKException):
            diagnosis = diagnose(error, state.value, executor=request.executor)
            attempts = request.attempts + 1
            if is_transient(error) and attempts < self.retry.max_attempts:
                delay = self.retry.delay(attempts)
                repository.update_request(session, request, attempts=attempts, last_error=diagnosis.what[:4000])
                repository.audit(session, state.value, "retry", request.id, error_code=diagnosis.code,
                                 cloud_request_id=diagnosis.request_id,
                                 detail=f"attempt {attempts}, next in {delay:.1f} s")
                repository.release(session, request, self.owner, now + timedelta(seconds=delay))
                return None
            if is_transient(error):
                diagnosis = replace(diagnosis, what=f"{diagnosis.what} (after {attempts} attempts)")
        else:
            log.exception("step %s of request %s raised", state, request.id, exc_info=error)
            diagnosis = Diagnosis("InternalError", f"{state.value}: {type(error).__name__}: {str(error)[:300]}",
                                  "dtsbot hit an unexpected error in this step.",
                                  "Retry; if it fails again, look at the bot's log for this request id.")
        return StepResult(Outcome.FAILED, diagnosis=diagnosis)

    def _wait(self, session: Session, request: MigrationRequest, state: State, result: StepResult,
              now: datetime) -> None:
        ownership.record(session, request.id, result.owned, result.released)
        changes = _fact_changes(request, result.facts)
        if changes or request.attempts:
            repository.update_request(session, request, attempts=0, **changes)
        if result.notice:
            key, payload = wait_notice(request, state, result.notice)
            outbox.enqueue(session, request.id, key, "thread", payload)
        if result.notice or "progress" in changes:
            outbox.request_refresh(session, request.id)
        delay = result.retry_after or self.settings.scheduler.poll_seconds
        if state in WATCHED and self.watched_fallback is not None:
            delay = max(delay, self.watched_fallback)
        repository.release(session, request, self.owner, now + timedelta(seconds=delay))

    def _transition(self, session: Session, request: MigrationRequest, state: State, result: StepResult) -> None:
        if result.outcome is Outcome.DONE:
            target = next_state(request, result)
        elif result.outcome is Outcome.CHECK_FAILED:
            target = S.VERIFY_FAILED
        else:
            target = S.FAILED
        ownership.record(session, request.id, result.owned, result.released)
        changes = _fact_changes(request, result.facts)
        if target is S.FAILED:
            changes.update(failed_step=state.value, last_error=error_text(result))
        repository.transition(session, request, target, attempts=0, **changes)
        key, payload = transition_notice(request, state, target, result)
        outbox.enqueue(session, request.id, key, "thread", payload)
        if result.private:  # what to send is rendered from the request when delivered: no secret in the outbox
            outbox.enqueue(session, request.id, f"{key}:private", "private", {"event": result.private})
        outbox.request_refresh(session, request.id)
        repository.release(session, request, self.owner, None)

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
    if any(request.facts.get(k) != v for k, v in rest.items()):
        changes["facts"] = {**request.facts, **rest}
    return changes
