"""Reminders before expiry: each side whose approvers have not decided gets one DM, `approval_reminder_hours`
before `approval_expiry_hours` runs out.

The reminder is a row (storage.models.ApprovalReminder, unique per request and side) written in the same
transaction as its outbox notice, so restarts and other replicas never repeat it. Whether the side decided in
the meantime is checked again when the notice is delivered (bot/notifier.py): a decision before delivery sends
nothing. Time is passed in (`now`), so tests move the clock instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.approvals import SIDES
from core.config import Settings
from core.workflow import State
from storage import outbox, repository
from storage.db import session_scope
from storage.models import ApprovalReminder, MigrationRequest, utcnow


def expires_at(request: MigrationRequest, settings: Settings) -> datetime:
    """When the request expires unless both sides approved."""
    return request.created_at + timedelta(hours=settings.scheduler.approval_expiry_hours)


def queue_reminders(db: Engine, settings: Settings, now: datetime | None = None) -> list[tuple[str, str]]:
    """Queue the reminder of every side that is due and undecided; returns the (request id, side) pairs queued."""
    scheduler = settings.scheduler
    if scheduler.approval_reminder_hours <= 0:
        return []
    now = now or utcnow()
    due_before = now - timedelta(hours=scheduler.approval_expiry_hours - scheduler.approval_reminder_hours)
    not_expired_after = now - timedelta(hours=scheduler.approval_expiry_hours)
    with session_scope(db) as session:
        ids = session.exec(select(MigrationRequest.id).where(
            MigrationRequest.state == State.REQUESTED.value, col(MigrationRequest.created_at) <= due_before,
            col(MigrationRequest.created_at) > not_expired_after)).all()
    queued = []
    for request_id in ids:
        with session_scope(db) as session:
            queued += [(request_id, side) for side in _remind(session, request_id, settings)]
    return queued


def _remind(session: Session, request_id: str, settings: Settings) -> list[str]:
    request = session.exec(select(MigrationRequest).where(MigrationRequest.id == request_id).with_for_update()
                           .execution_options(populate_existing=True)).first()
    if request is None or request.state != State.REQUESTED:
        return []
    decided = repository.approvals_for(session, request)
    sides = []
    for side in SIDES:
        if side in decided or not _record(session, request.id, side):
            continue
        outbox.enqueue(session, request.id, f"{request.id}:reminder:{side}", "direct",
                       {"event": "reminder", "side": side, "expires_at": expires_at(request, settings).isoformat()})
        repository.audit(session, "request", "ok", request.id, action="remind", detail=f"{side} approvers")
        sides.append(side)
    return sides


def _record(session: Session, request_id: str, side: str) -> bool:
    """Write the side's reminder row; False when it was reminded before."""
    try:
        with session.begin_nested():
            session.add(ApprovalReminder(request_id=request_id, side=side))
    except IntegrityError:
        return False
    return True
