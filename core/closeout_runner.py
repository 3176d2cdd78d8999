"""Runs close-out (core/closeout.py) the way the workflow engine runs steps: lease due requests, run the phase's
step, record the outcome with ONE `repository.apply` under the version read at claim time.

A request that ended is never claimed by the workflow engine (it claims active states only), so close-out uses
the same lease and due-time columns on it. A crash between IsolateMigrateJob and its record leaves the lease to
expire; the step then reads the task (isolated already) and calls nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import closeout, report
from core.closeout import Phase
from core.cloud import CloudCall, CloudClients
from core.config import Settings
from core.diagnosis import diagnose, is_transient, render
from core.engine import STEP_RETRY, recording_calls
from core.i18n import _
from core.retry import Backoff
from core.steps import Diagnosis, Outcome, Step, StepResult
from storage import repository
from storage.db import session_scope
from storage.models import AuditEntry, MigrationRequest, utcnow
from storage.outbox import Notice
from storage.repository import ConcurrentUpdate, RequestChange

log = logging.getLogger(__name__)
STEP = "closeout"
"""The audit's `step` of every close-out entry (the report reads them by it)."""
UNDO = "undo_closeout"
"""The button under the *isolated, kept until* notice (bot/listeners/actions/undo_closeout.py)."""


def retention_over(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """`retained` is due only when its retention is over: destroy next."""
    return StepResult(Outcome.DONE)


class CloseoutRunner:
    """Moves ended requests through close-out; one replica per request at a time (the lease)."""

    def __init__(self, db: Engine, settings: Settings, steps: Mapping[Phase, Step], clients: CloudClients,
                 owner: str, *, clock: Callable[[], datetime] = utcnow, retry: Backoff = STEP_RETRY) -> None:
        """`steps`: the cloud step of isolating, destroying and recovering (handlers.CLOSEOUT_STEPS);
        `clock`: the time retention and due times are read against (a test moves it instead of waiting)."""
        self.db, self.settings, self.clients, self.owner = db, settings, clients, owner
        self.steps = {Phase.RETAINED: retention_over, **steps}
        self.clock, self.retry = clock, retry

    def tick(self, limit: int = 20) -> int:
        """Claim up to `limit` requests whose close-out is due and run each one's phase once."""
        with session_scope(self.db) as session:
            claimed = claim_due(session, self.owner, self.settings.scheduler.lease_seconds, limit, self.clock())
        for request in claimed:
            self.advance(request)
        return len(claimed)

    def advance(self, claimed: MigrationRequest) -> None:
        """Run the step of a leased request's close-out phase and record its outcome; never raises."""
        phase = Phase(str(claimed.closeout))
        result: StepResult | None = None
        error: Exception | None = None
        with recording_calls() as calls:
            try:
                result = self.steps[phase](claimed, self.clients)
            except Exception as exc:  # noqa: BLE001 - a step's error is an outcome to record
                error = exc
        try:
            self._record(claimed, phase, result, error, calls)
        except ConcurrentUpdate:
            log.info("request %s changed while its close-out ran; dropping this outcome", claimed.id)
        except Exception:
            log.exception("recording close-out %s of request %s failed; the lease will expire", phase, claimed.id)

    def _record(self, claimed: MigrationRequest, phase: Phase, result: StepResult | None, error: Exception | None,
                calls: list[CloudCall]) -> None:
        now = self.clock()
        with session_scope(self.db) as session:
            request = session.get(MigrationRequest, claimed.id)
            if request is None or request.version != claimed.version or request.lease_owner != self.owner:
                raise ConcurrentUpdate(f"request {claimed.id} is no longer leased by {self.owner} as read")
            change = RequestChange(audit=[_call_entry(request.id, call) for call in calls], lease_owner=self.owner)
            if error is not None:
                result = self._retry_later(request, phase, error, change, now)
            if result is not None:
                self._outcome(request, phase, result, change, now)
            repository.apply(session, request, change)
            if request.closeout in closeout.SETTLED:
                report.queue_summary(session, request.id)

    def _retry_later(self, request: MigrationRequest, phase: Phase, error: Exception, change: RequestChange,
                     now: datetime) -> StepResult | None:
        """Back off a transient error (None: run again later); else the FAILED result it amounts to."""
        if isinstance(error, TencentCloudSDKException):
            diagnosis = diagnose(error, phase.value, executor=request.executor, sides=request)
            attempts = request.attempts + 1
            if is_transient(error) and not self.retry.gives_up_after(attempts):
                delay = self.retry.delay(attempts)
                change.columns.update(attempts=attempts, next_run_at=now + timedelta(seconds=delay))
                change.audit.append(AuditEntry(step=STEP, outcome="retry", request_id=request.id,
                                               error_code=diagnosis.code, cloud_request_id=diagnosis.request_id,
                                               detail=f"{phase.value}: attempt {attempts}, next in {delay:.1f} s"))
                return None
        else:
            log.exception("close-out %s of request %s raised", phase, request.id, exc_info=error)
            diagnosis = Diagnosis("InternalError", f"{phase.value}: {type(error).__name__}: {str(error)[:300]}",
                                  _("dtsbot hit an unexpected error in close-out."),
                                  _("Look at the bot's log for this request id; isolate and destroy the task in "
                                    "the DTS console if it is not needed."))
        return StepResult(Outcome.FAILED, diagnosis=diagnosis, notice=render(diagnosis))

    def _outcome(self, request: MigrationRequest, phase: Phase, result: StepResult, change: RequestChange,
                 now: datetime) -> None:
        """What one step run changes: wait (facts, next run), or the next phase with its notice."""
        facts = dict(result.facts)
        job_id = facts.pop("job_id", None)
        if job_id and job_id != request.job_id:
            change.columns["job_id"] = job_id
        change.columns["attempts"] = 0
        code = result.diagnosis.code if result.diagnosis else None
        change.audit.append(AuditEntry(step=STEP, outcome=result.outcome.value, request_id=request.id,
                                       error_code=code, resource=f"JobId={job_id or request.job_id or ''}",
                                       detail=f"{phase.value}: {result.notice or ''}"[:2000]))
        if result.outcome is Outcome.WAIT:
            change.columns["next_run_at"] = now + timedelta(
                seconds=result.retry_after or self.settings.scheduler.poll_seconds)
            if facts:
                change.columns["facts"] = request.facts.merged(facts)
            return
        target = Phase.FAILED if result.outcome is not Outcome.DONE else Phase(
            result.next_state or closeout.NEXT[phase])
        due: datetime | None = None
        stamp = now.isoformat(timespec="seconds")
        if target is Phase.RETAINED:
            facts.setdefault("isolated_at", stamp)
            keep = closeout.retention(facts.get("dts_status") or request.facts.dts_status,
                                      self.settings.dts.retention_days)
            if not keep:  # never ran: nothing to keep
                target = Phase.DESTROYING
            else:
                due = now + keep
                facts["retain_until"] = due.isoformat(timespec="seconds")
        if target is Phase.DESTROYED:
            facts["destroyed_at"] = stamp
        closeout.check_phase(phase.value, target)
        change.columns.update(closeout=target.value, next_run_at=due, facts=request.facts.merged(facts))
        change.notices.append(Notice(f"{request.id}:closeout:{phase.value}:{target.value}", "thread",
                                     self._notice(request, target, result, due)))
        change.refresh = True

    @staticmethod
    def _notice(request: MigrationRequest, target: Phase, result: StepResult, due: datetime | None) -> dict:
        """The thread's word on the new phase; *Undo close-out* under the one that starts retention."""
        if target is Phase.RETAINED and due is not None:
            text = _("DTS task `{job_id}` isolated: it no longer bills, and is kept until {until} UTC "
                     "(`dts.retention_days`), then destroyed. A target approver can undo this until then.",
                     job_id=request.job_id, until=due.strftime("%Y-%m-%d %H:%M"))
            actions = [{"action_id": UNDO, "text": _("Undo close-out"), "value": request.id}]
            return {"event": "closeout_retained", "text": text, "actions": actions}
        if target is Phase.DESTROYING and not result.notice:
            text = _("DTS task `{job_id}` isolated; it never ran, so it is destroyed now.", job_id=request.job_id)
        else:
            text = result.notice or _("Close-out: {phase}.", phase=target.value)
        return {"event": f"closeout_{target.value}", "text": text, "actions": []}


def _call_entry(request_id: str, call: CloudCall) -> AuditEntry:
    return AuditEntry(step=STEP, outcome=call.outcome, request_id=request_id, action=call.action,
                      account=call.account, cloud_request_id=call.request_id, error_code=call.error_code,
                      resource=call.resource, detail=f"{call.service} {call.duration * 1000:.0f} ms")


def claim_due(session: Session, owner: str, lease_seconds: float, limit: int, now: datetime) -> list[MigrationRequest]:
    """Lease up to `limit` ended requests whose close-out phase has work and is due."""
    return repository.claim_due(session, owner, lease_seconds, [s.value for s in closeout.ENDS], limit, now,
                                closeout=[p.value for p in closeout.DUE])


def request_undo(session: Session, request: MigrationRequest, user: str, now: datetime) -> MigrationRequest:
    """retained → recovering (*Undo close-out*); the runner calls RecoverMigrateJob next. Raises ValueError with
    the refusal (an N_ msgid) when the phase allows no undo."""
    refusal = closeout.undo_refusal(request, now)
    if refusal is not None:
        raise ValueError(refusal)
    closeout.check_phase(request.closeout, Phase.RECOVERING)
    return repository.apply(session, request, RequestChange(
        columns={"closeout": Phase.RECOVERING.value, "next_run_at": None, "attempts": 0,
                 "facts": request.facts.merged({"closeout_undone_by": user[:32]})},
        audit=[AuditEntry(step=STEP, outcome="requested", request_id=request.id, actor=user[:32],
                          action="undo_closeout", resource=f"JobId={request.job_id or ''}",
                          detail="retained → recovering")],
        refresh=True))
