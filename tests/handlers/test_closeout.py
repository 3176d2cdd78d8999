"""Close-out through the workflow engine and the close-out runner, with the real steps against the DTS sandbox and
an injected clock (retention passes by moving it): a succeeded and a cancelled request each end with their task
isolated, then destroyed; *Undo close-out* within retention recovers it; a cancel during verification leaves no
task; a crash between the isolation and its record finishes without a second call's harm."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from stepflow import EXTERNAL_ID, SOURCE_UIN, TARGET_UIN

from core.closeout_runner import CloseoutRunner, request_undo
from core.cloud import CloudClients
from core.config import Settings
from core.engine import WorkflowEngine, record_cloud_call
from core.requests import MigrationRequests
from handlers import CLOSEOUT_STEPS, STEPS
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.waiting import eventually
from storage import repository
from storage.db import make_engine, migrate, session_scope
from storage.models import AuditEntry, MigrationRequest, utcnow

FIELDS = {
    "source_account": "shop-prod", "source_uin": SOURCE_UIN, "source_region": "ap-guangzhou",
    "source_instance": "cdb-src00001", "target_account": "analytics", "target_uin": TARGET_UIN,
    "target_region": "ap-guangzhou", "target_instance": "cdb-dst00001", "db_type": "mysql",
    "role_name": "DTS-role", "external_id": EXTERNAL_ID, "executor": "root", "migrate_type": "full",
    "objects": "all",
}
DAY = 86400.0


class MovedClock:
    """The engine's and the runner's clock: the wall clock plus what the test moved it by."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset

    def move(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class Bot:
    """One replica's engine and close-out runner on one database."""

    def __init__(self, db: Engine, settings: Settings, clients: CloudClients, owner: str = "a") -> None:
        self.db, self.settings, self.clock = db, settings, MovedClock()
        self.engine = WorkflowEngine(db, settings, STEPS, clients, owner, clock=self.clock)
        self.closeout = CloseoutRunner(db, settings, CLOSEOUT_STEPS, clients, owner, clock=self.clock)

    def request(self, request_id: str) -> MigrationRequest:
        with session_scope(self.db) as session:
            found = repository.get_request(session, request_id)
        assert found is not None
        return found

    def add(self, **fields: object) -> str:
        with session_scope(self.db) as session:
            request, _ = repository.create_request(session, {**FIELDS, **fields}, "U0REQUESTER")
            repository.update_request(session, request, state="approved")
            return request.id

    def until(self, request_id: str, state: str | None = None, closeout: str | None = None) -> MigrationRequest:
        """Tick engine and runner, moving the clock past the steps' short waits, until the request is there."""
        def there() -> MigrationRequest | None:
            request = self.request(request_id)
            assert request.state != "failed", request.last_error
            assert request.closeout != "failed", self.audit(request_id)[-3:]
            if (state is None or request.state == state) and (closeout is None or request.closeout == closeout):
                return request
            self.engine.tick()
            self.closeout.tick()
            self.clock.move(6)
            return None

        return eventually(there, 60, f"{request_id} to reach {state or ''} {closeout or ''}", interval=0.01)

    def audit(self, request_id: str) -> list[AuditEntry]:
        with session_scope(self.db) as session:
            return list(session.exec(select(AuditEntry).where(AuditEntry.request_id == request_id)).all())


@pytest.fixture
def db(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'closeout.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def bot(db, settings) -> Iterator[Bot]:
    clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
    made = Bot(db, settings, clients)
    yield made
    made.engine.close()


def calls(sandbox, action: str) -> list:
    return [c for c in sandbox.calls.of(action) if c.outcome in ("ok", "committed-dropped")]


def test_a_succeeded_request_ends_isolated_then_destroyed_after_retention(sandbox, bot):
    rid = bot.add()
    request = bot.until(rid, "succeeded", "retained")
    job = dts_backend(sandbox.world).jobs[request.job_id]
    assert job.trade_status(sandbox.world.clock.now()) == "isolated"
    assert request.facts.retain_until and request.facts.isolated_at
    assert not calls(sandbox, "DestroyMigrateJob")

    bot.clock.move(6 * DAY)  # within the 7 days of retention: still kept
    bot.closeout.tick()
    assert bot.request(rid).closeout == "retained"

    bot.clock.move(1 * DAY)
    request = bot.until(rid, closeout="destroyed")
    assert request.job_id not in dts_backend(sandbox.world).jobs
    assert [c.params["JobId"] for c in calls(sandbox, "IsolateMigrateJob")] == [request.job_id]
    assert [c.params["JobId"] for c in calls(sandbox, "DestroyMigrateJob")] == [request.job_id]
    audited = [(e.action, e.resource) for e in bot.audit(rid) if e.step == "closeout" and e.action]
    assert ("IsolateMigrateJob", f"JobId={request.job_id}") in audited
    assert ("DestroyMigrateJob", f"JobId={request.job_id}") in audited
    assert request.facts.destroyed_at


def test_a_cancelled_running_request_ends_isolated_then_destroyed_after_retention(sandbox, bot, db, settings):
    rid = bot.add(migrate_type="fullAndIncrement")
    bot.until(rid, "ready_to_complete")
    MigrationRequests(db, settings).force_cancel(rid, "ops")
    request = bot.until(rid, "cancelled", "retained")
    job = dts_backend(sandbox.world).jobs[request.job_id]
    assert job.status(sandbox.world.clock.now()) == "canceled"
    assert calls(sandbox, "StopMigrateJob")[0].time < calls(sandbox, "IsolateMigrateJob")[0].time  # stopped first

    bot.clock.move(7 * DAY + 60)
    request = bot.until(rid, closeout="destroyed")
    assert request.job_id not in dts_backend(sandbox.world).jobs


def test_undo_within_retention_recovers_the_task(sandbox, bot, db):
    rid = bot.add()
    request = bot.until(rid, "succeeded", "retained")
    with session_scope(db) as session, pytest.raises(ValueError, match="retention"):  # too late
        request_undo(session, repository.get_request(session, rid), "U0TARGETOWNER", bot.clock() + timedelta(days=8))
    bot.clock.move(2 * DAY)
    with session_scope(db) as session:
        request_undo(session, repository.get_request(session, rid), "U0TARGETOWNER", bot.clock())
    request = bot.until(rid, closeout="kept")
    job = dts_backend(sandbox.world).jobs[request.job_id]
    assert job.trade_status(sandbox.world.clock.now()) == "normal"
    assert request.facts.closeout_undone_by == "U0TARGETOWNER"
    bot.clock.move(30 * DAY)
    bot.closeout.tick()
    assert not calls(sandbox, "DestroyMigrateJob") and request.job_id in dts_backend(sandbox.world).jobs
    with session_scope(db) as session, pytest.raises(ValueError):  # kept: nothing left to undo
        request_undo(session, repository.get_request(session, rid), "U0TARGETOWNER", bot.clock())


def test_a_cancel_during_verification_leaves_no_task(sandbox, bot, db, settings):
    sandbox.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001").fail_checks = ["BinlogParamCheck"]
    rid = bot.add()
    bot.until(rid, "verify_failed")
    MigrationRequests(db, settings).force_cancel(rid, "ops")
    request = bot.until(rid, "cancelled", "destroyed")  # never ran: no retention
    assert not [j for j in dts_backend(sandbox.world).jobs.values() if j.tags.get("dtsbot-request") == rid]
    assert not calls(sandbox, "StartMigrateJob") and request.facts.retain_until is None


def test_a_task_that_is_not_billed_is_destroyed_by_its_isolation(sandbox, bot):
    rid = bot.add()
    request = bot.until(rid, "running")  # before close-out begins
    dts_backend(sandbox.world).jobs[request.job_id].billing_type = "notBilling"
    request = bot.until(rid, closeout="destroyed")
    assert request.job_id not in dts_backend(sandbox.world).jobs and not calls(sandbox, "DestroyMigrateJob")


@pytest.mark.parametrize("change", ["reversing", "resizing"])
def test_a_billing_change_under_way_is_waited_out_never_isolated_over(sandbox, bot, change):
    rid = bot.add()
    request = bot.until(rid, "running")  # before close-out begins
    job = dts_backend(sandbox.world).jobs[request.job_id]
    job.billing_change = change
    request = bot.until(rid, "succeeded", "isolating")
    for _ in range(5):  # the runner reads again and again, and never calls IsolateMigrateJob over the change
        bot.closeout.tick()
        bot.clock.move(6)
    assert bot.request(rid).closeout == "isolating" and bot.request(rid).facts.trade_status == change
    assert not sandbox.calls.of("IsolateMigrateJob")
    job.billing_change = None  # the change ends: the task is isolated as usual
    request = bot.until(rid, closeout="retained")
    assert [c.params["JobId"] for c in calls(sandbox, "IsolateMigrateJob")] == [request.job_id]


def test_a_kill_between_isolate_and_its_record_finishes_without_a_second_call(sandbox, bot, db, settings):
    rid = bot.add()
    bot.until(rid, "running")  # before close-out begins
    sandbox.faults.add("IsolateMigrateJob", "commit_then_drop", count=1)  # isolated, the answer lost
    bot.until(rid, closeout="retained")
    isolations = calls(sandbox, "IsolateMigrateJob")
    assert [c.outcome for c in isolations] == ["committed-dropped"]  # read isolated: not isolated again

    # a replica dies after DestroyMigrateJob took effect, before it recorded anything: another one finishes
    bot.clock.move(8 * DAY)
    sandbox.faults.add("DestroyMigrateJob", "commit_then_drop", count=1)
    other = Bot(db, settings, CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5), owner="b")
    other.clock = bot.clock
    other.closeout.clock = bot.clock
    try:
        request = other.until(rid, closeout="destroyed")
    finally:
        other.engine.close()
    assert request.job_id not in dts_backend(sandbox.world).jobs
    assert len(calls(sandbox, "DestroyMigrateJob")) == 1
