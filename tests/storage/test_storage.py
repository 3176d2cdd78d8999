"""storage: schema via Alembic, requests, versioned writes, one change in one write, idempotent approvals, leases —
on both backends."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from core.steps import Owned
from core.workflow import ACTIVE, IllegalTransition, State, check_transition
from storage import outbox, ownership
from storage import repository as repo
from storage.db import migrate, session_scope
from storage.facts import Facts
from storage.models import AuditEntry, OutboxMessage, utcnow
from storage.repository import ConcurrentUpdate, RequestChange

DUE = [s.value for s in ACTIVE]

FIELDS = {
    "source_account": "shop-prod", "source_uin": "100000000001", "source_region": "ap-guangzhou",
    "source_instance": "cdb-src00001", "target_account": "analytics", "target_uin": "100000000002",
    "target_region": "ap-guangzhou", "target_instance": "cdb-dst00001", "db_type": "mysql", "role_name": "DTS-role",
    "external_id": "ext-123456", "executor": "root", "migrate_type": "fullAndIncrement", "objects": "all",
}


def new_request(engine, **overrides):
    with session_scope(engine) as session:
        request, created = repo.create_request(session, {**FIELDS, **overrides}, requester="U0REQUESTER")
        assert created
        return request


def test_migrations_create_every_table_and_are_repeatable(engine):
    migrate(engine)  # a second replica starting up applies nothing and does not fail
    tables = set(inspect(engine).get_table_names())
    assert {"migration_request", "approval", "audit_entry", "outbox_message", "approval_reminder",
            "alembic_version"} <= tables


def test_request_round_trip_and_dedupe(engine):
    with session_scope(engine) as session:
        first, created = repo.create_request(session, FIELDS, "U0REQUESTER", dedupe_key="trigger-1")
    with session_scope(engine) as session:
        again, created_again = repo.create_request(session, FIELDS, "U0REQUESTER", dedupe_key="trigger-1")
    assert created and not created_again and again.id == first.id
    with session_scope(engine) as session:
        stored = repo.get_request(session, first.id)
        assert stored.state == "requested" and stored.version == 1 and stored.facts.stored() == {}
        assert stored.id.startswith("mr-") and len(stored.id) == 9
        assert [r.id for r in repo.list_requests(session, ["requested"])] == [first.id]
        assert repo.list_requests(session, ["approved"]) == []


def test_facts_are_typed_and_rows_written_before_keep_reading(engine):
    request = new_request(engine)
    with engine.begin() as connection:  # a row as an older release wrote it: a key since dropped, others absent
        connection.execute(text("UPDATE migration_request SET facts = :facts WHERE id = :id"),
                           {"facts": '{"dts_status": "running", "retired_key": [1, 2]}', "id": request.id})
    with session_scope(engine) as session:
        stored = repo.get_request(session, request.id)
        assert stored.facts.dts_status == "running" and stored.facts.round == 0 and stored.facts.role_used is None
        repo.update_request(session, stored, facts=stored.facts.merged({"round": 1, "attention_since": None}))
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT facts FROM migration_request WHERE id = :id"),
                                 {"id": request.id}).scalar_one()
    written = raw if isinstance(raw, dict) else json.loads(raw)
    assert written == {"dts_status": "running", "retired_key": [1, 2], "round": 1, "attention_since": None}
    with pytest.raises(ValueError, match="not a fact of a request: dts_stauts"):
        Facts().merged({"dts_stauts": "running"})  # a misspelt fact fails where it is written


def test_a_write_checks_the_version(engine):
    request = new_request(engine)
    with session_scope(engine) as session:
        stale = repo.get_request(session, request.id)
    with session_scope(engine) as session:
        fresh = repo.update_request(session, repo.get_request(session, request.id), state="approved")
        assert fresh.state == "approved" and fresh.version == 2
    with session_scope(engine) as session, pytest.raises(ConcurrentUpdate):
        repo.update_request(session, stale, state="rejected")


def _change(request_id: str, owner: str | None = None) -> RequestChange:
    return RequestChange(
        columns={"state": "preflight", "facts": {"round": 1}},
        audit=[AuditEntry(step="granting_subaccount", outcome="done", request_id=request_id)],
        notices=[outbox.Notice(f"{request_id}:granted", "thread", {"event": "granted"})], refresh=True,
        owned=[Owned("created", "role", "100000000001", "DTS-role")], lease_owner=owner)


def _written(engine, request_id: str) -> tuple:
    with session_scope(engine) as session:
        stored = repo.get_request(session, request_id)
        kinds = sorted(m.kind for m in session.exec(select(OutboxMessage)
                                                     .where(OutboxMessage.request_id == request_id)))
        return (stored.state, stored.lease_owner, [e.step for e in repo.audit_trail(session, request_id)], kinds,
                [(o.relation, o.name) for o in ownership.of_request(session, request_id)])


def test_one_change_writes_row_audit_notices_and_ownership_together_or_not_at_all(engine):
    request = new_request(engine)
    with session_scope(engine) as session:
        repo.update_request(session, repo.get_request(session, request.id), state="approved")
    with session_scope(engine) as session:
        assert [r.id for r in repo.claim_due(session, "replica-a", lease_seconds=30, states=DUE)] == [request.id]
    with session_scope(engine) as session, pytest.raises(ConcurrentUpdate):  # not the lease owner: nothing
        repo.apply(session, repo.get_request(session, request.id), _change(request.id, owner="replica-b"))
    with session_scope(engine) as session, pytest.raises(ConcurrentUpdate):  # a stale version: nothing
        repo.apply(session, request, _change(request.id, owner="replica-a"))
    assert _written(engine, request.id) == ("approved", "replica-a", [], [], [])
    with session_scope(engine) as session:
        repo.apply(session, repo.get_request(session, request.id), _change(request.id, owner="replica-a"))
    # the refresh asked for is left to the untried thread notice, whose delivery updates the message (outbox)
    assert _written(engine, request.id) == ("preflight", None, ["granting_subaccount"], ["thread"],
                                            [("created", "DTS-role")])


def test_approval_is_idempotent_per_side_and_revision(engine):
    request = new_request(engine)
    with session_scope(engine) as session:
        assert repo.record_approval(session, request, "source", "U0SRCOWNER")
        assert not repo.record_approval(session, request, "source", "U0SRCOWNER")
        assert repo.record_approval(session, request, "target", "U0TGTOWNER")
    with session_scope(engine) as session:
        current = repo.get_request(session, request.id)
        assert set(repo.approvals_for(session, current)) == {"source", "target"}
        edited = repo.update_request(session, current, revision=current.revision + 1)
        assert repo.approvals_for(session, edited) == {}  # an edit voids earlier approvals


def test_audit_is_append_only_in_order(engine):
    request = new_request(engine)
    with session_scope(engine) as session:
        repo.audit(session, "approve", "refused", request.id, actor="U0STRANGER", detail="not an approver")
        repo.audit(session, "authorize_source", "ok", request.id, action="CreateRole", cloud_request_id="r-1")
    with session_scope(engine) as session:
        trail = repo.audit_trail(session, request.id)
        assert [(e.step, e.outcome) for e in trail] == [("approve", "refused"), ("authorize_source", "ok")]


def test_claim_due_leases_once_until_expiry(engine):
    request = new_request(engine)
    with session_scope(engine) as session:
        repo.update_request(session, repo.get_request(session, request.id), state="approved")
    with session_scope(engine) as session:
        assert repo.claim_due(session, "replica-a", lease_seconds=30, states=["requested"]) == []
        assert [r.id for r in repo.claim_due(session, "replica-a", lease_seconds=30, states=DUE)] == [request.id]
    with session_scope(engine) as session:
        assert repo.claim_due(session, "replica-b", lease_seconds=30, states=DUE) == []
    later = utcnow() + timedelta(seconds=31)
    with session_scope(engine) as session:
        taken = repo.claim_due(session, "replica-b", lease_seconds=30, states=DUE, now=later)
        assert [r.lease_owner for r in taken] == ["replica-b"]
    with session_scope(engine) as session:
        current = repo.get_request(session, request.id)
        assert not repo.release(session, current, "replica-a", None)  # replica-a's lease had expired
        assert repo.release(session, current, "replica-b", None)


def _race(workers: int, work) -> list:
    barrier = threading.Barrier(workers)
    results: list = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait()
        outcome = work(index)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_threads_approving_and_advancing_make_one_transition_per_state(engine):
    request = new_request(engine)

    def approve_then_advance(index: int) -> list[str]:
        side = "source" if index % 2 else "target"
        won: list[str] = []
        with session_scope(engine) as session:
            if repo.record_approval(session, request, side, f"U0USER{index}"):
                won.append(f"approval:{side}")
        for target in (State.APPROVED, State.AUTHORIZING_SOURCE, State.PREFLIGHT):
            try:
                with session_scope(engine) as session:
                    current = repo.get_request(session, request.id)
                    if target is State.APPROVED and len(repo.approvals_for(session, current)) < 2:
                        continue
                    repo.update_request(session, current, state=check_transition(current.state, target).value)
                    won.append(target.value)
            except (ConcurrentUpdate, IllegalTransition):
                pass
        return won

    outcomes = Counter(item for result in _race(20, approve_then_advance) for item in result)
    assert outcomes == Counter({"approval:source": 1, "approval:target": 1, "approved": 1,
                                "authorizing_source": 1, "preflight": 1})
    with session_scope(engine) as session:
        final = repo.get_request(session, request.id)
        assert final.state == "preflight" and final.version == 4
        assert set(repo.approvals_for(session, final)) == {"source", "target"}


def test_the_state_changed_at_migration_backfills_existing_rows_from_updated_at(tmp_path):
    from alembic import command
    from alembic.config import Config

    from storage.db import MIGRATIONS, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(text(
            "INSERT INTO migration_request (id, requester, source_account, source_uin, source_region, "
            "source_instance, target_account, target_uin, target_region, target_instance, db_type, role_name, "
            "executor, migrate_type, objects, state, version, revision, attempts, facts, created_at, updated_at) "
            "VALUES ('mr-old001', 'U0REQUESTER', 'a', '1', 'r', 'cdb-a', 'b', '2', 'r', 'cdb-b', 'mysql', 'role', "
            "'root', 'full', 'all', 'running', 1, 1, 0, '{}', '2026-01-01 00:00:00', '2026-01-02 03:04:05')"))
    migrate(engine)
    with session_scope(engine) as session:
        stored = repo.get_request(session, "mr-old001")
        assert stored.state_changed_at == stored.updated_at
    engine.dispose()
