"""What /metrics reads from the shared database at scrape time: requests by state, how long the oldest request
has been in each state, and the outbox backlog. Every replica reports the same database's truth."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import MigrationRequest, OutboxMessage


class Gauges(NamedTuple):
    """One reading of the database for the metrics."""

    requests: dict[str, int]
    """Requests by state."""
    oldest_in_state: dict[str, float]
    """Seconds since the longest-waiting request of each state entered it."""
    outbox_unsent: int
    """Notices not yet delivered to Slack."""
    outbox_oldest_seconds: float
    """Age of the oldest undelivered notice (0 when none)."""


def read(session: Session, now: datetime) -> Gauges:
    """The gauges as of `now`."""
    rows = session.exec(select(MigrationRequest.state, func.count(), func.min(MigrationRequest.state_changed_at))
                        .group_by(MigrationRequest.state)).all()
    unsent, oldest = session.exec(select(func.count(), func.min(OutboxMessage.created_at))
                                  .where(col(OutboxMessage.sent_at).is_(None))).one()
    return Gauges(
        requests={state: count for state, count, _since in rows},
        oldest_in_state={state: _seconds(now, since) for state, _count, since in rows},
        outbox_unsent=unsent,
        outbox_oldest_seconds=_seconds(now, oldest) if oldest is not None else 0.0,
    )


def _seconds(now: datetime, since: datetime) -> float:
    return max(0.0, (now - since).total_seconds())
