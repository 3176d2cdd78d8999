"""Queries as plain functions of a session: requests, writes under the version, approvals, audit, leases.

Pure persistence: which state may follow which, which states are due or finished, and how a role is named are
the workflow's rules (core); they reach these functions as values.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import outbox, ownership
from storage.models import Approval, AuditEntry, MigrationRequest, utcnow

_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud and typed by people


class ConcurrentUpdate(RuntimeError):
    """Another writer changed the request first (its version moved on); re-read and decide again."""


def new_request_id() -> str:
    """A short id people can type in `/dts-migrate status mr-7k2p9q`."""
    return "mr-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


def create_request(
    session: Session, fields: Mapping[str, Any], requester: str, dedupe_key: str | None = None,
    request_id: str | None = None,
) -> tuple[MigrationRequest, bool]:
    """Store a validated request (under `request_id`, default a new one); a repeated delivery (same
    dedupe_key) returns the first one, created=False."""
    if dedupe_key is not None:
        existing = session.exec(select(MigrationRequest).where(MigrationRequest.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return existing, False
    request = MigrationRequest(**fields, id=request_id or new_request_id(), requester=requester,
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


def list_requests(session: Session, states: Iterable[str], limit: int = 50) -> Sequence[MigrationRequest]:
    """Requests in one of `states`, newest first."""
    query = select(MigrationRequest).where(col(MigrationRequest.state).in_(list(states)))
    return session.exec(query.order_by(col(MigrationRequest.created_at).desc()).limit(limit)).all()


def update_request(session: Session, request: MigrationRequest, **changes: Any) -> MigrationRequest:
    """Write `changes` only if nobody else wrote since `request` was read (its version); bump the version."""
    return apply(session, request, RequestChange(columns=changes))


@dataclass
class RequestChange:
    """Everything one decision about a request writes, together: its columns (the state among them), audit
    entries, outbox notices, a refresh of the request message, ownership records and the lease's release."""

    columns: dict[str, Any] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    notices: list[outbox.Notice] = field(default_factory=list)
    refresh: bool = False
    owned: Iterable[ownership.CloudResource] = ()
    released: Iterable[ownership.CloudResource] = ()
    lease_owner: str | None = None
    """Release this owner's lease in the same write; the write fails if the owner lost it."""


def apply(session: Session, request: MigrationRequest, change: RequestChange) -> MigrationRequest:
    """Write `change` in the session's transaction if `request`'s version is still the one read (else raise
    ConcurrentUpdate and write nothing); bump the version and return the request as stored."""
    where = [col(MigrationRequest.id) == request.id, col(MigrationRequest.version) == request.version]
    values = {**change.columns, "updated_at": utcnow()}
    if "state" in change.columns and change.columns["state"] != request.state:
        values["state_changed_at"] = values["updated_at"]
    if change.lease_owner is not None:
        where.append(col(MigrationRequest.lease_owner) == change.lease_owner)
        values.update(lease_owner=None, lease_until=None)
    result = cast("CursorResult[Any]", session.execute(
        update(MigrationRequest).where(*where).values(version=MigrationRequest.version + 1, **values)))
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"request {request.id} changed since version {request.version}")
    session.expire(request)  # the notices' snapshots read the row as this change left it
    session.add_all(change.audit)
    ownership.record(session, request.id, change.owned, change.released)
    for notice in change.notices:
        outbox.enqueue(session, request.id, notice.key, notice.kind, notice.payload)
    if change.refresh:
        outbox.request_refresh(session, request.id)
    session.flush()
    session.expire(request)
    session.refresh(request)
    return request


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
    session: Session, owner: str, lease_seconds: float, states: Collection[str], limit: int = 20,
    now: datetime | None = None, closeout: Collection[str] | None = None,
) -> list[MigrationRequest]:
    """Lease up to `limit` requests in one of `states` that are due and not leased by a live owner; with
    `closeout`, only those whose close-out phase is one of them (the close-out runner's ended requests).

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas claim disjoint rows without waiting on each other.
    SQLite: transactions begin IMMEDIATE (storage.db), so only one writer claims at a time.
    """
    now = now or utcnow()
    query = select(MigrationRequest)
    if closeout is not None:
        query = query.where(col(MigrationRequest.closeout).in_(list(closeout)))
    query = (
        query
        .where(col(MigrationRequest.state).in_(list(states)))
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
