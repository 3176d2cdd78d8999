"""Instance holds: an unfinished request holds both its instances, the one it reads and the one it writes.

The one rule for conflicts between requests: a request may not *write* into an instance another unfinished request
holds (as its source, whose data it is migrating, or as its target, which it is writing); its plan warns when it
*reads* an instance another unfinished request holds (its target: the data is still being written; its source:
two migrations of one instance, which can be meant). `refusal` is checked in the transaction that inserts or
edits the request, under a lock per instance (PostgreSQL: a transaction-level advisory lock on each of the
request's two instances, taken in order; SQLite's transactions are IMMEDIATE, so one writer runs at all), so two
requests that would conflict cannot both pass, whichever instance they share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, text
from sqlmodel import Session, col, select

from core.i18n import _
from core.workflow import TERMINAL, State
from storage.models import MigrationRequest

UNFINISHED = [s.value for s in State if s not in TERMINAL]


@dataclass(frozen=True)
class Hold:
    """Another unfinished request holding an instance: its id, state, and whether it reads or writes there."""

    request_id: str
    state: str
    role: str
    """"source" (it reads the instance) or "target" (it writes it)."""


@dataclass(frozen=True)
class SourceHolds:
    """Who else holds a request's source instance: the plan's warnings."""

    writing: list[str]
    """Unfinished requests migrating *into* it: this request would copy data still being written."""
    reading: list[str]
    """Unfinished requests also reading it (two migrations of one instance: allowed)."""


def holds_on(session: Session, instance: str, excluding: str | None = None) -> list[Hold]:
    """The unfinished requests (other than `excluding`) that hold `instance`, oldest first."""
    query = select(MigrationRequest).where(
        col(MigrationRequest.state).in_(UNFINISHED),
        or_(col(MigrationRequest.source_instance) == instance, col(MigrationRequest.target_instance) == instance))
    if excluding is not None:
        query = query.where(MigrationRequest.id != excluding)
    return [Hold(r.id, r.state, "target" if r.target_instance == instance else "source")
            for r in session.exec(query.order_by(col(MigrationRequest.created_at))).all()]


def lock(session: Session, instances: Sequence[str]) -> None:
    """Hold each instance's lock until the transaction ends (PostgreSQL), in one order so two requests sharing
    both their instances cannot deadlock; SQLite's IMMEDIATE transaction is already the only writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for instance in sorted(set(instances)):
        key = int.from_bytes(hashlib.blake2b(f"dtsbot-instance:{instance}".encode(), digest_size=8).digest(),
                             "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def refusal(session: Session, source: str, target: str, request_id: str | None) -> str | None:
    """Why a request `source → target` (`request_id`: the request being edited) may not exist now, naming the
    request that holds its target; None when it may. Locks both instances first: call it in the transaction
    that then writes the request."""
    lock(session, (source, target))
    held = holds_on(session, target, request_id)
    if not held:
        return None
    other = held[0]
    if other.role == "target":
        return _("Target instance {target} already has an unfinished request: {other} ({state}). One migration "
                 "per target instance: wait until {other} ends, or cancel it with /dts-migrate cancel {other}.",
                 target=target, other=other.request_id, state=other.state)
    return _("Target instance {target} is the source of unfinished request {other} ({state}): writing into it "
             "would change the data {other} is migrating. Wait until {other} ends, or cancel it with "
             "/dts-migrate cancel {other}.", target=target, other=other.request_id, state=other.state)


def source_holds(session: Session, request: MigrationRequest) -> SourceHolds:
    """The plan's warnings about `request`'s source instance (see SourceHolds)."""
    held = holds_on(session, request.source_instance, request.id)
    return SourceHolds(writing=[h.request_id for h in held if h.role == "target"],
                       reading=[h.request_id for h in held if h.role == "source"])
