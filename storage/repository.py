"""Queries as plain functions of a session: requests, transitions under the version, approvals, audit, leases."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.policies import default_role_name
from core.workflow import ACTIVE, TERMINAL, ConcurrentUpdate, State, check_transition
from storage.models import Approval, AuditEntry, MigrationRequest, utcnow

_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud and typed by people


def new_request_id() -> str:
    """A short id people can type in `/dts-migrate status mr-7k2p9q`."""
    return "mr-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


def create_request(
    session: Session, fields: Mapping[str, Any], requester: str, dedupe_key: str | None = None
) -> tuple[MigrationRequest, bool]:
    """Store a validated request; a repeated delivery (same dedupe_key) returns the first one, created=False.

    No role_name: the request gets a role of its own named after its id, so two requests never collide."""
    if dedupe_key is not None:
        existing = session.exec(select(MigrationRequest).where(MigrationRequest.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return existing, False
    request_id = new_request_id()
    role_name = fields.get("role_name") or default_role_name(request_id)
    request = MigrationRequest(**{**fields, "role_name": role_name}, id=request_id, requester=requester,
                               dedupe_key=dedupe_key)
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        existing = session.exec(select(MigrationRequest).where(MigrationRequest.dedupe_key == dedupe_key)).first()
        if existing is None:
            raise
        return existing, False
    return request, True


def get_request(session: Session, request_id: str) -> MigrationRequest | None:
    """The request with this id, fresh from the database."""
    return session.get(MigrationRequest, request_id, populate_existing=True)


def list_requests(session: Session, states: Iterable[str] | None = None, limit: int = 50) -> Sequence[MigrationRequest]:
    """Requests newest first, optionally only in the given states (default: not finished)."""
    wanted = list(states) if states is not None else [s.value for s in State if s not in TERMINAL]
    query = select(MigrationRequest).where(col(MigrationRequest.state).in_(wanted))
    return session.exec(query.order_by(col(MigrationRequest.created_at).desc()).limit(limit)).all()


def update_request(session: Session, request: MigrationRequest, **changes: Any) -> MigrationRequest:
    """Write `changes` only if nobody else wrote since `request` was read (its version); bump the version."""
    changes["updated_at"] = utcnow()
    result = cast("CursorResult[Any]", session.execute(
        update(MigrationRequest)
        .where(col(MigrationRequest.id) == request.id, col(MigrationRequest.version) == request.version)
        .values(version=MigrationRequest.version + 1, **changes)
    ))
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"request {request.id} changed since version {request.version}")
    session.expire(request)
    session.refresh(request)
    return request


def transition(session: Session, request: MigrationRequest, target: str, **changes: Any) -> MigrationRequest:
    """Move `request` to `target` if the workflow allows it and its version is still the one read."""
    goal = check_transition(request.state, target)
    return update_request(session, request, state=goal.value, **changes)


def record_approval(session: Session, request: MigrationRequest, side: str, user_id: str) -> bool:
    """Record `side`'s approval of the current plan revision; False if that side had already approved it."""
    try:
        with session.begin_nested():
            session.add(Approval(request_id=request.id, side=side, revision=request.revision, user_id=user_id))
    except IntegrityError:
        return False
    return True


def approvals_for(session: Session, request: MigrationRequest) -> dict[str, Approval]:
    """The approvals of the request's current plan revision, by side."""
    rows = session.exec(
        select(Approval).where(Approval.request_id == request.id, Approval.revision == request.revision)
    ).all()
    return {row.side: row for row in rows}


def audit(session: Session, step: str, outcome: str, request_id: str | None = None, **fields: Any) -> AuditEntry:
    """Append one audit entry (never pass secrets: codes, ids and people's Slack IDs only)."""
    entry = AuditEntry(step=step, outcome=outcome, request_id=request_id, **fields)
    session.add(entry)
    session.flush()
    return entry


def audit_trail(session: Session, request_id: str) -> Sequence[AuditEntry]:
    """Every audit entry of a request in the order written."""
    return session.exec(
        select(AuditEntry).where(AuditEntry.request_id == request_id).order_by(col(AuditEntry.id))
    ).all()


def claim_due(
    session: Session, owner: str, lease_seconds: float, limit: int = 20, now: datetime | None = None
) -> list[MigrationRequest]:
    """Lease up to `limit` active requests that are due and not leased by a live owner.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas claim disjoint rows without waiting on each other.
    SQLite: transactions begin IMMEDIATE (storage.db), so only one writer claims at a time.
    """
    now = now or utcnow()
    query = (
        select(MigrationRequest)
        .where(col(MigrationRequest.state).in_([s.value for s in ACTIVE]))
        .where(or_(col(MigrationRequest.next_run_at).is_(None), col(MigrationRequest.next_run_at) <= now))
        .where(or_(col(MigrationRequest.lease_until).is_(None), col(MigrationRequest.lease_until) < now))
        .order_by(col(MigrationRequest.next_run_at).asc().nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(session.exec(query).all())
    until = now + timedelta(seconds=lease_seconds)
    for request in claimed:
        update_request(session, request, lease_owner=owner, lease_until=until)
    return claimed


def release(session: Session, request: MigrationRequest, owner: str, next_run_at: datetime | None) -> bool:
    """Give a lease back and say when the request is next due; False if `owner` had lost the lease meanwhile."""
    result = cast("CursorResult[Any]", session.execute(
        update(MigrationRequest)
        .where(col(MigrationRequest.id) == request.id, col(MigrationRequest.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None, next_run_at=next_run_at, version=MigrationRequest.version + 1,
                updated_at=utcnow())
    ))
    return result.rowcount == 1
