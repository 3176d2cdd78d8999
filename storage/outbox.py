"""The Slack outbox: channel notices written in the same transaction as the state change they announce.

A notice's `key` is unique (e.g. `mr-7k2p9q:role_created`), so a step re-run after a crash, or on another
replica, cannot queue it twice; a Slack outage only delays delivery. Kinds (rendered by bot/notifier.py):
`request` (the top-level request message), `thread` (a reply under it), `refresh` (re-render the top-level
message from the request's current state; coalesced: one pending per request), `private` (an ephemeral to one
side's approvers of a value the channel sees masked; rendered from the request row, so no secret is queued),
`direct` (a DM to people, not in the channel: a reminder to one side's approvers, the requester told of expiry).

The request message never runs ahead of its thread: each `request` and `thread` notice carries a `snapshot` of
everything the message renders that a notice announces, as of the change it announces, taken when it is queued in
that change's transaction: the state, progress and facts shown, the plan fields and revision (an edit), and who
approved each side of that revision (an approval). While a thread notice is unsent, the message is rendered from the
snapshot of the last one delivered (`shown`), not from the row and the approvals table, which may be several notices
ahead; once the thread has caught up, the row and its live approvals are rendered (they then only add what no
notice announces: live progress). Two things are not in the snapshot and always rendered live: the external ID
(never queued; the channel sees it masked, and a changed one comes with a new revision, on which no earlier
approval button acts) and the other open requests reading the same source (a warning, no notice of this request).
Old snapshots without a key render that part from the row.
A refresh therefore never waits behind thread notices (only for the one being posted, `notice_in_flight`), and still
shows nothing the thread has not said (but for a changed external ID, masked, as above). The notifier also renders
the message right after each notice it posts, so the message agrees with the thread at every notice; a refresh asked
for while a notice not yet tried is queued is left to that notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.facts import Facts
from storage.models import Approval, MigrationRequest, OutboxMessage, utcnow

KINDS = ("request", "thread", "refresh", "private", "direct")


class Notice(NamedTuple):
    """A notice to queue with the change it announces (storage.repository.RequestChange)."""

    key: str
    kind: str
    payload: dict[str, Any]


SNAPSHOT = "snapshot"
SNAPSHOT_COLUMNS = ("state", "progress", "failed_step", "last_error", "job_id",
                    "revision", "source_account", "source_uin", "source_region", "source_instance", "target_account",
                    "target_uin", "target_region", "target_instance", "db_type", "role_name", "executor",
                    "migrate_type", "objects", "start_at", "cutover_at", "read_only_target")
SNAPSHOT_FACTS = ("dts_status", "lag_seconds", "dts_step_now", "dts_step_all", "dts_attention", "reject_reason",
                  "guided_side", "role_plan", "role_gone_proof", "lag_mb", "lag_history", "cutover_evidence",
                  "cutover_overrides")
"""What the request message renders of a request: captured with each notice, so it shows what the notice said.
Not the external ID: it is never queued (see the module docstring)."""
APPROVED_BY = "approved_by"
"""The snapshot's approvals of its revision: {side: Slack user ID}."""


class Shown(NamedTuple):
    """What the request message may show: the request as a notice announced it, and who approved each side."""

    request: MigrationRequest
    approved_by: dict[str, str]


def enqueue(session: Session, request_id: str, key: str, kind: str, payload: dict[str, Any] | None = None) -> bool:
    """Queue a notice once; False when a notice with this key was queued before (sent or not)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    payload = dict(payload or {})
    if kind in ("request", "thread"):
        request = session.get(MigrationRequest, request_id)  # as this transaction changed it
        if request is not None:
            payload[SNAPSHOT] = snapshot(request, approved_by(session, request))
    try:
        with session.begin_nested():
            session.add(OutboxMessage(key=key, request_id=request_id, kind=kind, payload=payload))
    except IntegrityError:
        return False
    return True


def approved_by(session: Session, request: MigrationRequest) -> dict[str, str]:
    """Who approved each side of the request's current plan revision, as the session sees it now."""
    rows = session.exec(select(Approval.side, Approval.user_id).where(
        Approval.request_id == request.id, Approval.revision == request.revision)).all()
    return {side: user for side, user in rows}


def snapshot(request: MigrationRequest, approvals: dict[str, str]) -> dict[str, Any]:
    """What the request message shows of `request` and its `approvals` now (columns, facts, approvals)."""
    return {**{name: getattr(request, name) for name in SNAPSHOT_COLUMNS},
            "facts": {name: value for name, value in request.facts.stored().items() if name in SNAPSHOT_FACTS},
            APPROVED_BY: dict(approvals)}


def as_shown(request: MigrationRequest, approvals: dict[str, str], shown: dict[str, Any] | None) -> Shown:
    """`request` and its live `approvals` as a snapshot shows them (as they are when None); a key the snapshot
    lacks (queued before it was captured) is taken from the row."""
    if shown is None:
        return Shown(request, approvals)
    facts = {k: v for k, v in request.facts.stored().items() if k not in SNAPSHOT_FACTS} | shown.get("facts", {})
    columns = {name: shown[name] for name in SNAPSHOT_COLUMNS if name in shown}
    copy = MigrationRequest.model_validate({**request.model_dump(), **columns, "facts": Facts.of(facts)})
    return Shown(copy, dict(shown.get(APPROVED_BY, approvals)))


def shown(session: Session, request_id: str, delivered: int | None = None) -> Shown | None:
    """What the request message may show now (None: no such request). The row is read first, its approvals next,
    then the outbox, so an approval or change committed meanwhile only makes the answer stricter (its notice is
    then unsent). `delivered`: a notice just posted, counted as sent."""
    request = session.get(MigrationRequest, request_id, populate_existing=True)
    if request is None:
        return None
    return as_shown(request, approved_by(session, request), shown_snapshot(session, request_id, delivered))


def shown_snapshot(session: Session, request_id: str, delivered: int | None = None) -> dict[str, Any] | None:
    """The snapshot the request message may show now: the last delivered notice's (or the request message's own)
    while a thread notice is still unsent, else None (render the row). `delivered`: a notice just posted, counted
    as sent. Read the row before calling this, in the same session: a change committed after the row was read
    then only makes this stricter."""
    unsent = session.exec(
        select(OutboxMessage.id).where(OutboxMessage.request_id == request_id, OutboxMessage.kind == "thread",
                                       col(OutboxMessage.sent_at).is_(None), OutboxMessage.id != delivered)
        .order_by(col(OutboxMessage.id))
    ).first()
    if unsent is None:
        return None
    candidates = session.exec(  # the delivered thread notices before it, and the request message (being) posted
        select(OutboxMessage.payload).where(
            OutboxMessage.request_id == request_id, col(OutboxMessage.id) < unsent,
            or_(col(OutboxMessage.kind) == "request", col(OutboxMessage.id) == delivered,
                and_(col(OutboxMessage.kind) == "thread", col(OutboxMessage.sent_at).is_not(None))))
        .order_by(col(OutboxMessage.id).desc())
    ).all()
    return next((payload[SNAPSHOT] for payload in candidates if SNAPSHOT in payload), None)


def _summary_pending(session: Session, request_id: str) -> bool:
    """Whether a thread notice not yet tried will bring the request message up to date when it is delivered
    (bot/notifier.py renders the message after each notice). Locks those rows, so a notifier cannot start
    delivering one before this transaction's change is committed and readable."""
    payloads = session.exec(
        select(OutboxMessage.payload).where(
            OutboxMessage.request_id == request_id, OutboxMessage.kind == "thread",
            col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts == 0)
        .with_for_update()
    ).all()
    return any(SNAPSHOT in payload for payload in payloads)


def request_refresh(session: Session, request_id: str) -> bool:
    """Ask for the request message to be re-rendered; coalesces with a refresh that is pending and not yet
    tried (one being sent may have rendered the state before this change), and with a thread notice not yet tried
    (its delivery renders the message too)."""
    pending = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == request_id, OutboxMessage.kind == "refresh",
            col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts == 0,
        )
    ).first()
    if pending is not None or _summary_pending(session, request_id):
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
    go out at Slack's pace of one post a second. A direct message (a DM) follows only the request message too."""
    kinds = ("request",) if message.kind in ("refresh", "direct") else ("request", "thread")
    return session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == message.request_id, col(OutboxMessage.id) < message.id,
            col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.kind).in_(kinds),
        )
    ).first() is not None


def notice_in_flight(session: Session, request_id: str, now: datetime | None = None) -> bool:
    """Whether a thread notice of the request is being delivered (tried and leased): a refresh waits for it, so
    one rendered before that notice cannot land after the notice brought the message up to date."""
    return session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.request_id == request_id, OutboxMessage.kind == "thread",
            col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts > 0,
            col(OutboxMessage.lease_until) > (now or utcnow()))
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
