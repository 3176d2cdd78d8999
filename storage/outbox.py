"""The Slack outbox: channel notices written in the same transaction as the state change they announce.

A notice's `key` is unique (e.g. `mr-7k2p9q:role_created`), so a step re-run after a crash, or on another
replica, cannot queue it twice; a Slack outage only delays delivery. Kinds (rendered by bot/notifier.py):
`request` (the top-level request message), `thread` (a reply under it), `refresh` (re-render the top-level
message from the request's current state; coalesced: one pending per request), `private` (an ephemeral to one
side's approvers of a value the channel sees masked; rendered from the request row, so no secret is queued).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import OutboxMessage, utcnow

KINDS = ("request", "thread", "refresh", "private")


def enqueue(session: Session, request_id: str, key: str, kind: str, payload: dict[str, Any] | None = None) -> bool:
    """Queue a notice once; False when a notice with this key was queued before (sent or not)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    try:
        with session.begin_nested():
            session.add(OutboxMessage(key=key, request_id=request_id, kind=kind, payload=payload or {}))
    except IntegrityError:
        return False
    return True


def request_refresh(session: Session, request_id: str) -> bool:
    """Ask for the request message to be re-rendered; coalesces with a refresh that is pending and not yet
    tried (one being sent may have rendered the state before this change)."""
    pending = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == request_id, OutboxMessage.kind == "refresh",
            col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts == 0,
        )
    ).first()
    if pending is not None:
        return False
    return enqueue(session, request_id, f"{request_id}:refresh:{utcnow().timestamp():.6f}", "refresh")


def claim_pending(
    session: Session, owner: str, lease_seconds: float, limit: int = 50, now: datetime | None = None
) -> list[OutboxMessage]:
    """Lease unsent notices that are due, oldest first; each request's notices stay in order."""
    now = now or utcnow()
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.sent_at).is_(None))
        .where(or_(col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= now))
        .where(or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(session.exec(query).all())
    until = now + timedelta(seconds=lease_seconds)
    for message in claimed:
        message.lease_owner, message.lease_until = owner, until
    session.flush()
    return claimed


def renew(session: Session, message_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend `owner`'s lease on one notice before delivering it; False if another replica has claimed it."""
    result = cast("CursorResult[Any]", session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.lease_owner) == owner)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
    ))
    return result.rowcount == 1


def mark_attempt(session: Session, message_id: int, owner: str) -> None:
    """Record, before the Slack call, that delivery is being tried: a replica that later finds the notice unsent
    with attempts > 0 knows it may already be in Slack and looks before posting again."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.lease_owner) == owner)
        .values(attempts=OutboxMessage.attempts + 1)
    )


def earlier_unsent(session: Session, message: OutboxMessage) -> bool:
    """Whether an older notice this one must follow is still unsent (so this one waits its turn).

    Thread notices follow the request message and the thread notices before them. A refresh follows only the
    request message: it renders the request's current state, so it does not queue behind thread notices that
    go out at Slack's pace of one post a second."""
    kinds = ("request",) if message.kind == "refresh" else ("request", "thread")
    return session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == message.request_id, col(OutboxMessage.id) < message.id,
            col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.kind).in_(kinds),
        )
    ).first() is not None


def mark_sent(session: Session, message_id: int, owner: str, result_ts: str | None = None) -> bool:
    """Record delivery; False if the lease had passed to another replica meanwhile."""
    result = cast("CursorResult[Any]", session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.lease_owner) == owner)
        .values(sent_at=utcnow(), result_ts=result_ts, lease_owner=None, lease_until=None)
    ))
    return result.rowcount == 1


def retry_later(session: Session, message_id: int, owner: str, delay_seconds: float) -> None:
    """Give the lease back and try again after `delay_seconds` (Slack 429 Retry-After, 5xx, outage)."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.lease_owner) == owner)
        .values(
            lease_owner=None, lease_until=None,
            next_attempt_at=utcnow() + timedelta(seconds=delay_seconds),
        )
    )


def pending_count(session: Session) -> int:
    """Notices not yet delivered (for /metrics and tests)."""
    return len(session.exec(select(OutboxMessage.id).where(col(OutboxMessage.sent_at).is_(None))).all())


def unsent(session: Session, request_id: str) -> bool:
    """Whether any notice of the request is still waiting to be delivered."""
    return session.exec(
        select(OutboxMessage.id).where(OutboxMessage.request_id == request_id, col(OutboxMessage.sent_at).is_(None))
    ).first() is not None


def sent(session: Session, request_id: str) -> Sequence[OutboxMessage]:
    """Delivered notices of a request in queue order."""
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.request_id == request_id, col(OutboxMessage.sent_at).is_not(None))
        .order_by(col(OutboxMessage.id))
    ).all()
