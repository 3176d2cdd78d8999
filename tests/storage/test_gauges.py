"""storage.gauges: what /metrics reads for the alert rules (deploy/prometheus-rules.yaml) — how long the
longest-waiting request has been in its state (a retry or progress write does not reset it; a new state does),
and the outbox backlog — on both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from storage import gauges, outbox
from storage import repository as repo
from storage.db import session_scope
from storage.models import MigrationRequest, OutboxMessage, utcnow
from tests.storage.test_storage import new_request


def backdate(engine, request_id: str, minutes: float) -> None:
    with session_scope(engine) as session:
        session.execute(update(MigrationRequest).where(col(MigrationRequest.id) == request_id)
                        .values(state_changed_at=utcnow() - timedelta(minutes=minutes)))


def test_age_in_state_survives_other_writes_and_restarts_on_a_new_state(engine):
    request = new_request(engine)
    backdate(engine, request.id, 45)
    with session_scope(engine) as session:
        stored = repo.get_request(session, request.id)
        repo.update_request(session, stored, attempts=3, progress=10, state="requested")  # same state: a retry
    with session_scope(engine) as session:
        reading = gauges.read(session, utcnow())
    assert reading.requests == {"requested": 1}
    assert 44 * 60 < reading.oldest_in_state["requested"] < 46 * 60
    with session_scope(engine) as session:
        repo.update_request(session, repo.get_request(session, request.id), state="approved")
    with session_scope(engine) as session:
        reading = gauges.read(session, utcnow())
    assert reading.requests == {"approved": 1} and reading.oldest_in_state["approved"] < 60


def test_the_oldest_request_of_a_state_sets_its_age(engine):
    old, new = new_request(engine), new_request(engine, target_instance="cdb-dst00002")
    backdate(engine, old.id, 90)
    backdate(engine, new.id, 5)
    with session_scope(engine) as session:
        reading = gauges.read(session, utcnow())
    assert reading.requests == {"requested": 2} and 89 * 60 < reading.oldest_in_state["requested"] < 91 * 60


def test_outbox_backlog_counts_unsent_notices_and_their_oldest_age(engine):
    with session_scope(engine) as session:
        assert gauges.read(session, utcnow())[2:] == (0, 0.0)
        outbox.enqueue(session, "mr-aaaaaa", "k1", "thread", {"text": "first"})
        outbox.enqueue(session, "mr-aaaaaa", "k2", "thread", {"text": "second"})
        session.execute(update(OutboxMessage).where(col(OutboxMessage.key) == "k1")
                        .values(created_at=utcnow() - timedelta(minutes=20)))
    with session_scope(engine) as session:
        [first, _second] = outbox.claim_pending(session, "replica-a", lease_seconds=30)
        outbox.mark_sent(session, first.id, "replica-a")  # the old one went out
    with session_scope(engine) as session:
        reading = gauges.read(session, utcnow())
    assert reading.outbox_unsent == 1 and reading.outbox_oldest_seconds < 60
